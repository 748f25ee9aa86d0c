package dev.singleflight.impl.cluster;

import java.util.List;

/**
 * Rendezvous (highest random weight) hashing: which member of a cluster owns a key.
 *
 * <p>Each member gets a score for the key, a 64-bit hash of the pair; the member with the highest score
 * owns the key, and of two members with the same score the one whose id is smaller ({@link
 * String#compareTo}). Because a key's owner is the best of all members, a member leaving moves only
 * the keys it owned, each to its runner-up, so they spread over the others; a member joining takes
 * from each other member only the keys it now scores best on, about {@code 1/(n+1)} of them. The
 * owner depends only on the key and on the set of members: not on their order, not on the JVM, so
 * every node computes the same owner from the same membership.
 *
 * <p>The hash: each string is hashed on its own with 64-bit FNV-1a over its UTF-16 code units, low
 * byte first (the FNV-1a of {@code s.getBytes(UTF_16LE)}, without making that array), and finished
 * with SplitMix64's finalizer (Stafford's Mix13), because FNV-1a alone barely changes its high bits
 * when only the last char changes ({@code user:1}, {@code user:2}). The score of a pair is that
 * finalizer applied again to the xor of the key's and the member's hashes, so that two members' scores
 * for one key are as unrelated as two random numbers. Unlike {@link String#hashCode()}, which this
 * replaces, the hash has 64 bits and no collisions as easy as {@code hashCode}'s ({@code "Aa"} and
 * {@code "BB"} have the same one, so every key built from such blocks had the same owner). It is not
 * keyed: a caller who picks keys can still aim them all at one member, as with any public hash.
 *
 * <p>Why these two: each is a few lines, needs no table and no dependency, and is specified elsewhere
 * (the tests check FNV-1a against its published vectors). A block-wise hash (xxHash64, murmur3's
 * 128-bit loop) is faster on long strings but is ten times the code, and nothing on the main class
 * path offers one (vertx-core, Netty and Jackson have no public 64-bit string hash; Hazelcast's
 * murmur3 belongs to the test cluster manager). The cost is two multiplications per char: about 0.7 microseconds for a call over 16
 * members whose ids are UUIDs, the key hashed once.
 *
 * <p>The scores are part of the cluster's protocol: nodes that hash differently disagree on owners,
 * so all nodes of a cluster must run the same version of this class.
 */
public final class RendezvousHash {

  private static final long FNV_OFFSET_BASIS = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private RendezvousHash() {
  }

  /**
   * @param key any key, the empty one included
   * @param members the ids of the cluster's members, in any order; duplicates change nothing
   * @return the member that owns {@code key}: the highest score, then the smallest id
   * @throws IllegalArgumentException when {@code members} is empty
   * @throws NullPointerException when {@code key}, {@code members} or one of its ids is {@code null}
   */
  public static String ownerOf(String key, List<String> members) {
    if (members.isEmpty()) {
      throw new IllegalArgumentException("no member to own " + key);
    }
    long keyHash = hash(key);
    String owner = null;
    long best = 0;
    for (String member : members) {
      long score = mix(keyHash ^ hash(member));
      if (owner == null || score > best || (score == best && member.compareTo(owner) < 0)) {
        owner = member;
        best = score;
      }
    }
    return owner;
  }

  /** @return the 64-bit hash of {@code s}: its FNV-1a, finished by {@link #mix(long)} */
  static long hash(String s) {
    return mix(fnv1a(s));
  }

  /** @return the 64-bit FNV-1a of the UTF-16LE bytes of {@code s} */
  static long fnv1a(String s) {
    long h = FNV_OFFSET_BASIS;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      h = (h ^ (c & 0xFF)) * FNV_PRIME;
      h = (h ^ (c >>> 8)) * FNV_PRIME;
    }
    return h;
  }

  /** SplitMix64's finalizer: a bijection of 64-bit values where each input bit flips each output bit about half the time. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
