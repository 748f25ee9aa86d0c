package dev.singleflight.impl.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rendezvous hashing's promises: keys spread evenly, a member leaving moves only its own keys, a member
 * joining takes only its share, and every node computes the same owner.
 *
 * <p>Counts are checked against the binomial law of a fair hash: with {@code N} keys over {@code n}
 * members, a member's count has mean {@code N/n} and standard deviation {@code sqrt(N (1/n) (1 - 1/n))};
 * each count must lie within {@link #SIGMAS} standard deviations of the mean (for 100 000 keys: 2.2%
 * of the mean over 3 members, 3.2% over 5, 6.1% over 16). The keys and members come from fixed seeds,
 * so a run is reproducible; a fair hash fails such a bound once in about two million counts.
 */
class RendezvousHashTest {

  private static final int KEYS = 100_000;
  private static final double SIGMAS = 5;
  private static final List<String> RANDOM_KEYS = keys("random");
  private static final List<String> SEQUENTIAL_KEYS = keys("sequential");

  /** Random keys over node ids as a cluster has them. */
  @ParameterizedTest
  @ValueSource(ints = {3, 5, 16})
  void keysSpreadEvenlyOverTheMembers(int n) {
    assertBalanced(RANDOM_KEYS, nodeIds(n, n));
  }

  /** Keys and node ids that differ only in their last chars: the case a weak hash spreads badly. */
  @ParameterizedTest
  @ValueSource(ints = {3, 5, 16})
  void keysThatDifferInTheirLastCharsSpreadEvenlyOverSimilarIds(int n) {
    assertBalanced(SEQUENTIAL_KEYS, names(n));
  }

  private static void assertBalanced(List<String> keys, List<String> members) {
    Map<String, Integer> owned = count(keys, members);
    for (String member : members) {
      assertWithinBinomial(owned.getOrDefault(member, 0), keys.size(), 1.0 / members.size(), "keys of " + member + " in " + members);
    }
  }

  /**
   * 4096 keys made of "Aa" and "BB" blocks share one {@code String.hashCode}: a score built on it gave them
   * all the same owner. A 64-bit hash of the chars spreads them like any other keys.
   */
  @Test
  void keysWithTheSameStringHashCodeSpreadEvenly() {
    List<String> colliding = new ArrayList<>();
    for (int bits = 0; bits < 1 << 12; bits++) {
      StringBuilder key = new StringBuilder();
      for (int block = 0; block < 12; block++) {
        key.append((bits >>> block & 1) == 0 ? "Aa" : "BB");
      }
      colliding.add(key.toString());
    }
    assertEquals(1, colliding.stream().mapToInt(String::hashCode).distinct().count());
    assertBalanced(colliding, nodeIds(5, 5));
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 5, 16})
  void aMemberLeavingMovesOnlyItsOwnKeysAndSpreadsThemOverTheRest(int n) {
    List<String> members = nodeIds(n, 100 + n);
    String leaving = members.get(n / 2);
    List<String> rest = new ArrayList<>(members);
    rest.remove(leaving);
    int moved = 0;
    Map<String, Integer> heirs = new HashMap<>();
    for (String key : RANDOM_KEYS) {
      String before = RendezvousHash.ownerOf(key, members);
      String after = RendezvousHash.ownerOf(key, rest);
      if (before.equals(leaving)) {
        heirs.merge(after, 1, Integer::sum);
        moved++;
      } else {
        assertEquals(before, after, "a key of a member that stayed moved: " + key);
      }
    }
    assertWithinBinomial(moved, KEYS, 1.0 / n, "keys of the member that left");
    assertEquals(n - 1, heirs.size(), "its keys go to every other member");
    for (int inherited : heirs.values()) {
      assertWithinBinomial(inherited, moved, 1.0 / (n - 1), "keys inherited by one member");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 5, 16})
  void aMemberJoiningTakesAboutOneInNPlusOneKeysAndNothingElseMoves(int n) {
    List<String> members = nodeIds(n, 200 + n);
    String joining = UUID.nameUUIDFromBytes(("joining-" + n).getBytes(StandardCharsets.UTF_8)).toString();
    List<String> grown = new ArrayList<>(members);
    grown.add(joining);
    int moved = 0;
    Map<String, Integer> givenUp = new HashMap<>();
    for (String key : RANDOM_KEYS) {
      String before = RendezvousHash.ownerOf(key, members);
      String after = RendezvousHash.ownerOf(key, grown);
      if (!before.equals(after)) {
        assertEquals(joining, after, "a key moved between members that stayed: " + key);
        givenUp.merge(before, 1, Integer::sum);
        moved++;
      }
    }
    assertWithinBinomial(moved, KEYS, 1.0 / (n + 1), "keys taken by the member that joined");
    assertEquals(n, givenUp.size(), "it takes keys from every member");
    for (int lost : givenUp.values()) {
      assertWithinBinomial(lost, moved, 1.0 / n, "keys one member gave up");
    }
  }

  @Test
  void theOwnerDependsOnTheSetOfMembersNotOnTheirOrder() {
    List<String> members = nodeIds(7, 7);
    Random random = new Random(7);
    for (String key : RANDOM_KEYS.subList(0, 2_000)) {
      String owner = RendezvousHash.ownerOf(key, members);
      List<String> shuffled = new ArrayList<>(members);
      Collections.shuffle(shuffled, random);
      assertEquals(owner, RendezvousHash.ownerOf(key, shuffled), key);
      shuffled.add(shuffled.get(0));
      assertEquals(owner, RendezvousHash.ownerOf(key, shuffled), "a duplicate id changes nothing: " + key);
      assertEquals(owner, RendezvousHash.ownerOf(new String(key.toCharArray()), List.copyOf(members)), key);
    }
  }

  /** Pinned owners: every node of a cluster, on any JVM and any version of this library, must agree on them. */
  @Test
  void theOwnersAreTheSameOnEveryJvm() {
    List<String> members = List.of("node-a", "node-b", "node-c");
    assertEquals(List.of("node-c", "node-b", "node-b", "node-c", "node-b", "node-c", "node-a", "node-c"),
      List.of("", "user:1", "user:2", "user:3", "reports/2024", "\u00e9t\u00e9 \ud83d\ude00", "k", "key").stream()
        .map(key -> RendezvousHash.ownerOf(key, members)).toList());
  }

  @Test
  void oneMemberOwnsEveryKeyAndTheEmptyKeyHasAnOwner() {
    assertEquals("only", RendezvousHash.ownerOf("k", List.of("only")));
    assertEquals("only", RendezvousHash.ownerOf("", List.of("only")));
    List<String> members = nodeIds(5, 5);
    assertTrue(members.contains(RendezvousHash.ownerOf("", members)));
  }

  @Test
  void noMemberIsAnIllegalArgumentAndNullIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> RendezvousHash.ownerOf("k", List.of()));
    assertThrows(NullPointerException.class, () -> RendezvousHash.ownerOf(null, List.of("a")));
    assertThrows(NullPointerException.class, () -> RendezvousHash.ownerOf("k", null));
    assertThrows(NullPointerException.class, () -> RendezvousHash.ownerOf("k", java.util.Arrays.asList("a", null)));
  }

  /** The string hash is the FNV-1a of the UTF-16LE bytes, and that FNV-1a is the published one. */
  @Test
  void theStringHashIsFnv1aOfTheUtf16LeBytes() {
    assertEquals(0xcbf29ce484222325L, fnv1a("".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(0xaf63dc4c8601ec8cL, fnv1a("a".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(0x85944171f73967e8L, fnv1a("foobar".getBytes(StandardCharsets.US_ASCII)));
    for (String s : List.of("", "a", "user:42", "\u00e9t\u00e9", "\ud83d\ude00", "\uffff\u0000")) {
      assertEquals(fnv1a(s.getBytes(StandardCharsets.UTF_16LE)), RendezvousHash.fnv1a(s), s);
    }
  }

  /** The reference FNV-1a 64 over bytes. */
  private static long fnv1a(byte[] bytes) {
    long h = 0xcbf29ce484222325L;
    for (byte b : bytes) {
      h = (h ^ (b & 0xFF)) * 0x100000001b3L;
    }
    return h;
  }

  private static void assertWithinBinomial(int count, int trials, double p, String what) {
    double mean = trials * p;
    double bound = SIGMAS * Math.sqrt(trials * p * (1 - p));
    assertTrue(Math.abs(count - mean) <= bound,
      what + ": " + count + " is more than " + SIGMAS + " standard deviations from " + mean + " (bound " + bound + ")");
  }

  private static Map<String, Integer> count(List<String> keys, List<String> members) {
    Map<String, Integer> owned = new HashMap<>();
    for (String key : keys) {
      owned.merge(RendezvousHash.ownerOf(key, members), 1, Integer::sum);
    }
    return owned;
  }

  /** Keys made from a fixed seed: random ones of 8 to 40 chars, or {@code user:0} to {@code user:99999}. */
  private static List<String> keys(String kind) {
    List<String> keys = new ArrayList<>(KEYS);
    Random random = new Random(42);
    for (int i = 0; i < KEYS; i++) {
      if (kind.equals("sequential")) {
        keys.add("user:" + i);
      } else {
        char[] chars = new char[8 + random.nextInt(33)];
        for (int c = 0; c < chars.length; c++) {
          chars[c] = (char) (' ' + random.nextInt(95));
        }
        keys.add(new String(chars));
      }
    }
    return keys;
  }

  /** Node ids as Vert.x's Hazelcast cluster manager makes them: random UUIDs (from a fixed seed). */
  private static List<String> nodeIds(int n, long seed) {
    Random random = new Random(seed);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(new UUID(random.nextLong(), random.nextLong()).toString());
    }
    return ids;
  }

  /** Node ids that differ only in their last chars. */
  private static List<String> names(int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      ids.add("node-" + i);
    }
    return ids;
  }
}
