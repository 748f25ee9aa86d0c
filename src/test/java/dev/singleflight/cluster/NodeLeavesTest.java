package dev.singleflight.cluster;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import dev.singleflight.impl.ClusterRouter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Semaphore;

import static dev.singleflight.cluster.ClusterNodes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node leaving mid-flight never leaves a caller of the surviving nodes hanging. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NodeLeavesTest {

  static final int NODES = 3;
  ClusterNodes cluster;
  /** One permit per join message received by any node. */
  final Semaphore joins = new Semaphore(0);
  int joinsAwaited;

  @BeforeEach
  void startCluster() throws Exception {
    cluster = ClusterNodes.start(NODES);
    for (Vertx node : cluster.nodes()) {
      node.eventBus().addInboundInterceptor((DeliveryContext<Object> delivery) -> {
        delivery.next();
        if ("join".equals(delivery.message().headers().get("singleflight-op"))) {
          joins.release();
        }
      });
      await(node.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setClustered(true))));
    }
  }

  @AfterEach
  void stopCluster() throws Exception {
    cluster.close();
  }

  /** @return a key owned by node {@code owner} */
  String keyOwnedBy(int owner) {
    List<String> members = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      members.add(cluster.nodeId(i));
    }
    for (int k = 0; ; k++) {
      if (ClusterRouter.ownerOf("key-" + k, members).equals(cluster.nodeId(owner))) {
        return "key-" + k;
      }
    }
  }

  /** Waits until {@code count} joins in all reached their owners. */
  void awaitJoins(int count) throws InterruptedException {
    assertTrue(joins.tryAcquire(count - joinsAwaited, 30, TimeUnit.SECONDS), "fewer than " + count + " joins");
    joinsAwaited = count;
  }

  static Future<String> call(Vertx node, String key, CountDownLatch release, String value) {
    return SingleFlight.createProxy(node).flight(key, () -> {
      if (!release.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not released");
      }
      return value;
    });
  }

  @Test
  void theOwnerLeavingMidFlightHandsItsCallersToTheNewOwner() throws Exception {
    String key = keyOwnedBy(2);
    CountDownLatch release = new CountDownLatch(1);
    List<Future<String>> leaderCalls = new ArrayList<>();
    List<Future<String>> followerCalls = new ArrayList<>();
    leaderCalls.add(call(cluster.node(0), key, release, "from node 0"));
    awaitJoins(1);
    for (int i = 0; i < 20; i++) {
      leaderCalls.add(call(cluster.node(0), key, release, "from node 0"));
      followerCalls.add(call(cluster.node(1), key, release, "from node 1"));
    }
    awaitJoins(2);
    cluster.closeNode(2);
    release.countDown();
    for (Future<String> call : leaderCalls) {
      assertEquals("from node 0", await(call));
    }
    for (Future<String> call : followerCalls) {
      String value = await(call);
      assertTrue(value.equals("from node 0") || value.equals("from node 1"), value);
    }
  }

  @Test
  void theLeaderLeavingMidFlightHandsTheLeadToAFollower() throws Exception {
    String key = keyOwnedBy(2);
    CountDownLatch neverReleased = new CountDownLatch(1);
    call(cluster.node(0), key, neverReleased, "from node 0");
    awaitJoins(1);
    List<Future<String>> followerCalls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      followerCalls.add(SingleFlight.createProxy(cluster.node(1)).flight(key, () -> "from node 1"));
    }
    awaitJoins(2);
    cluster.closeNode(0);
    try {
      for (Future<String> call : followerCalls) {
        assertEquals("from node 1", await(call));
      }
    } finally {
      neverReleased.countDown();
    }
  }
}
