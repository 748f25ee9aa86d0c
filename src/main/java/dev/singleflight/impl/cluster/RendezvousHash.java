package dev.singleflight.impl.cluster;

import java.util.List;

/** Rendezvous hashing: the owner of a key is the member with the highest score for it. */
public final class RendezvousHash {

  private RendezvousHash() {
  }

  /**
   * @param members the node ids of the cluster, not empty
   * @return the node that owns {@code key}: the member with the highest rendezvous score, so that a
   * member leaving moves only its own keys
   */
  public static String ownerOf(String key, List<String> members) {
    String best = null;
    long bestScore = Long.MIN_VALUE;
    for (String node : members) {
      long score = mix(((long) key.hashCode() << 32) ^ (node.hashCode() & 0xFFFFFFFFL));
      if (best == null || score > bestScore || (score == bestScore && node.compareTo(best) < 0)) {
        best = node;
        bestScore = score;
      }
    }
    return best;
  }

  /** SplitMix64's finalizer: spreads the bits of a 64-bit value. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
