package dev.singleflight.cluster;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import dev.singleflight.impl.cluster.RendezvousHash;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.singleflight.cluster.ClusterNodes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node leaving mid-flight never leaves a caller of the surviving nodes hanging. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NodeLeavesTest {

  static final int NODES = 3;
  ClusterNodes cluster;
  ClusterMessages messages;

  @BeforeEach
  void startCluster() throws Exception {
    cluster = ClusterNodes.startWithMetrics(NODES);
    messages = ClusterMessages.recordOn(cluster);
    for (int i = 0; i < NODES; i++) {
      await(cluster.node(i).deployVerticle(new SingleFlightVerticle(
        new SingleFlightOptions().setClustered(true).setMetricsRegistryName(cluster.registryName(i)))));
    }
  }

  @AfterEach
  void stopCluster() throws Exception {
    cluster.close();
  }

  /** @return the count of node {@code i}'s counter singleflight.cluster.moves */
  double moves(int i) {
    return cluster.registry(i).get("singleflight.cluster.moves")
      .tag("address", SingleFlightOptions.DEFAULT_ADDRESS).counter().count();
  }

  /** @return which of {@code candidates} owns {@code key} when they are the only members */
  int ownerAmong(String key, int... candidates) {
    List<String> members = new ArrayList<>();
    for (int candidate : candidates) {
      members.add(cluster.nodeId(candidate));
    }
    String owner = RendezvousHash.ownerOf(key, members);
    for (int candidate : candidates) {
      if (cluster.nodeId(candidate).equals(owner)) {
        return candidate;
      }
    }
    throw new AssertionError("no owner of " + key);
  }

  static Future<String> call(Vertx node, String key, CountDownLatch release, String value) {
    return SingleFlight.createProxy(node).flight(key, () -> {
      if (!release.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not released");
      }
      return value;
    });
  }

  /**
   * Issue #13, point 1: only the leader's death may run a key twice. The owner leaving mid-flight
   * moves the flight to the new owner, led by the same node: the other node's callers get the
   * leader's value, its own function never runs, and no move is counted.
   */
  @Test
  void theOwnerLeavingMidFlightKeepsTheLeaderAndItsCallersGetItsValue() throws Exception {
    String key = cluster.keyOwnedBy(2, "key-");
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger followerRuns = new AtomicInteger();
    List<Future<String>> leaderCalls = new ArrayList<>();
    List<Future<String>> followerCalls = new ArrayList<>();
    leaderCalls.add(call(cluster.node(0), key, release, "from node 0"));
    messages.await("join", key, 1);
    for (int i = 0; i < 20; i++) {
      leaderCalls.add(call(cluster.node(0), key, release, "from node 0"));
      followerCalls.add(SingleFlight.createProxy(cluster.node(1)).flight(key, () -> {
        followerRuns.incrementAndGet();
        return "from node 1";
      }));
    }
    messages.await("join", key, 2);
    cluster.closeNode(2);
    release.countDown();
    for (Future<String> call : leaderCalls) {
      assertEquals("from node 0", await(call));
    }
    for (Future<String> call : followerCalls) {
      assertEquals("from node 0", await(call));
    }
    assertEquals(0, followerRuns.get());
    assertEquals(0.0, moves(0) + moves(1));
    // Each node joined the old owner once; the new owner only heard node 1 ask again about the flight.
    assertEquals(Map.of(0, 1L, 1, 1L), messages.bySender("join", key));
  }

  @Test
  void theLeaderLeavingMidFlightHandsTheLeadToAFollower() throws Exception {
    String key = cluster.keyOwnedBy(2, "key-");
    CountDownLatch neverReleased = new CountDownLatch(1);
    call(cluster.node(0), key, neverReleased, "from node 0");
    messages.await("join", key, 1);
    List<Future<String>> followerCalls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      followerCalls.add(SingleFlight.createProxy(cluster.node(1)).flight(key, () -> "from node 1"));
    }
    messages.await("join", key, 2);
    cluster.closeNode(0);
    try {
      for (Future<String> call : followerCalls) {
        assertEquals("from node 1", await(call));
      }
    } finally {
      neverReleased.countDown();
    }
    // The owner hands the lead to node 1's join already waiting: no node joins again.
    assertEquals(Map.of(0, 1L, 1, 1L), messages.bySender("join", key));
  }

  @Test
  void aFlightWhoseLeaderNodeLeftIsCountedAsAClusterMoveByItsOwner() throws Exception {
    String key = cluster.keyOwnedBy(2, "key-");
    CountDownLatch neverReleased = new CountDownLatch(1);
    call(cluster.node(0), key, neverReleased, "from node 0");
    messages.await("join", key, 1);
    Future<String> follower = SingleFlight.createProxy(cluster.node(1)).flight(key, () -> "from node 1");
    messages.await("join", key, 2);
    assertEquals(0.0, moves(2));
    cluster.closeNode(0);
    try {
      assertEquals("from node 1", await(follower));
    } finally {
      neverReleased.countDown();
    }
    assertEquals(1.0, moves(2));
    assertEquals(0.0, moves(1));
  }
}
