package dev.singleflight.cluster;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

import static dev.singleflight.cluster.ClusterNodes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every wait on another node is bounded (issue #13, points 3 and 4): a silent owner, a leader that
 * gives its flight up, a silent leader. Each test deploys the verticle on the three nodes at an
 * address of its own, and undeploys it after.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterBoundsTest {

  static final int NODES = 3;
  static ClusterNodes cluster;
  static ClusterMessages messages;
  final List<String> deployments = new ArrayList<>();
  final List<Runnable> cleanUps = new ArrayList<>();

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ClusterNodes.startWithMetrics(NODES);
    messages = ClusterMessages.recordOn(cluster);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    cluster.close();
  }

  @AfterEach
  void undeploy() throws Exception {
    cleanUps.forEach(Runnable::run);
    for (int i = 0; i < deployments.size(); i++) {
      if (deployments.get(i) != null) {
        await(cluster.node(i).undeploy(deployments.get(i)));
      }
    }
  }

  /** Deploys the clustered verticle at {@code address} on every node, with these options. */
  void deploy(String address, UnaryOperator<SingleFlightOptions> options) throws Exception {
    for (int i = 0; i < NODES; i++) {
      SingleFlightOptions each = options.apply(new SingleFlightOptions().setAddress(address).setClustered(true)
        .setMetricsRegistryName(cluster.registryName(i)));
      deployments.add(await(cluster.node(i).deployVerticle(new SingleFlightVerticle(each))));
    }
  }

  double moves(String address) {
    double moves = 0;
    for (int i = 0; i < NODES; i++) {
      var counter = cluster.registry(i).find("singleflight.cluster.moves").tag("address", address).counter();
      moves += counter == null ? 0 : counter.count();
    }
    return moves;
  }

  /** From now on node {@code at} drops what {@code filter} picks among the messages it receives for {@code address}. */
  void drop(int at, String address, java.util.function.Predicate<DeliveryContext<Object>> filter) {
    Handler<DeliveryContext<Object>> dropper = delivery -> {
      boolean internal = delivery.message().address().contains(address + ".node.");
      if (!internal || !filter.test(delivery)) {
        delivery.next();
      }
    };
    cluster.node(at).eventBus().addInboundInterceptor(dropper);
    cleanUps.add(() -> cluster.node(at).eventBus().removeInboundInterceptor(dropper));
  }

  /**
   * A frozen owner (it gets every message and answers none) holds no caller for ever: the leader it
   * granted still answers its own callers; the other node's callers, without a timeout of their own,
   * fail with a TimeoutException naming the owner, after clusterRequestTimeout.
   */
  @Test
  void aSilentOwnerFailsTheOtherNodesCallersWithATimeoutAndTheLeaderStillGetsItsValue() throws Exception {
    String address = "silent-owner.flight";
    deploy(address, o -> o.setClusterRequestTimeout(1_000));
    String key = cluster.keyOwnedBy(2, "silent-owner-");
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    Future<String> leader = SingleFlight.createProxy(cluster.node(0), address).flight(key, () -> {
      started.countDown();
      ClusterTest.awaitLatch(release);
      return "from node 0";
    });
    ClusterTest.awaitLatch(started);
    drop(2, address, delivery -> true);
    List<Future<String>> followers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      followers.add(SingleFlight.createProxy(cluster.node(1), address).flight(key, () -> "from node 1"));
    }
    for (Future<String> follower : followers) {
      Throwable failure = ClusterTest.failureOf(follower);
      assertInstanceOf(TimeoutException.class, failure);
      assertTrue(failure.getMessage().contains(cluster.nodeId(2)), failure.getMessage());
    }
    release.countDown();
    assertEquals("from node 0", await(leader));
  }

  /**
   * A leader whose flight ran past maxFlightTime gives it up and tells the owner: a caller that tries
   * again, on another node, runs a fresh flight instead of joining the stuck one.
   */
  @Test
  void aFlightTheLeaderGaveUpAtMaxFlightTimeIsNotJoinedAgain() throws Exception {
    String address = "gave-up.flight";
    deploy(address, o -> o.setMaxFlightTime(1_000));
    String key = cluster.keyOwnedBy(2, "gave-up-");
    Promise<String> never = Promise.promise();
    Future<String> stuck = SingleFlight.createProxy(cluster.node(0), address).flightAsync(key, never::future);
    assertInstanceOf(TimeoutException.class, ClusterTest.failureOf(stuck));
    assertEquals("fresh", await(SingleFlight.createProxy(cluster.node(1), address).flight(key, () -> "fresh")));
  }

  /**
   * With cancelAbandoned, a leader whose callers all left cancels its flight and tells the owner: the
   * waiting node, whose callers did not leave, takes the lead and runs the key.
   */
  @Test
  void aFlightTheLeaderCancelledWhenItsCallersLeftIsLedByTheWaitingNode() throws Exception {
    String address = "cancelled-leader.flight";
    deploy(address, o -> o.setCancelAbandoned(true));
    String key = cluster.keyOwnedBy(2, "cancelled-leader-");
    Promise<String> never = Promise.promise();
    CountDownLatch started = new CountDownLatch(1);
    Future<String> impatient = SingleFlight.createProxy(cluster.node(0), address).flightAsync(key, () -> {
      started.countDown();
      return never.future();
    }, Duration.ofSeconds(1));
    ClusterTest.awaitLatch(started);
    List<Future<String>> followers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      followers.add(SingleFlight.createProxy(cluster.node(1), address).flight(key, () -> "from node 1"));
    }
    messages.await("join", key, 2);
    ClusterTest.failureOf(impatient);
    for (Future<String> follower : followers) {
      assertEquals("from node 1", await(follower));
    }
    assertEquals(1.0, moves(address));
  }

  /** The leader's verticle undeployed mid-flight tells the owner, which hands the lead to the waiting node: one move. */
  @Test
  void aLeaderUndeployedMidFlightHandsTheLeadToTheWaitingNode() throws Exception {
    String address = "undeployed-leader.flight";
    deploy(address, o -> o.setWorkerPoolName("undeployed-leader-pool"));
    String key = cluster.keyOwnedBy(2, "undeployed-leader-");
    CountDownLatch neverReleased = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    Future<String> leader = SingleFlight.createProxy(cluster.node(0), address).flight(key, () -> {
      started.countDown();
      neverReleased.await(60, TimeUnit.SECONDS);
      return "from node 0";
    });
    ClusterTest.awaitLatch(started);
    List<Future<String>> followers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      followers.add(SingleFlight.createProxy(cluster.node(1), address).flight(key, () -> "from node 1"));
    }
    messages.await("join", key, 2);
    try {
      await(cluster.node(0).undeploy(deployments.get(0)));
      deployments.set(0, null);
      ClusterTest.failureOf(leader);
      for (Future<String> follower : followers) {
        assertEquals("from node 1", await(follower));
      }
    } finally {
      neverReleased.countDown();
    }
    assertEquals(1.0, moves(address));
  }

  /**
   * A leader that stops telling the owner it runs (frozen, cut off) loses the lead after
   * clusterRequestTimeout: the waiting node runs the key, once, and one move is counted.
   */
  @Test
  void aSilentLeaderLosesTheLeadToTheWaitingNodeAfterClusterRequestTimeout() throws Exception {
    String address = "silent-leader.flight";
    deploy(address, o -> o.setClusterRequestTimeout(1_000));
    String key = cluster.keyOwnedBy(2, "silent-leader-");
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    String leaderId = cluster.nodeId(0);
    Future<String> leader = SingleFlight.createProxy(cluster.node(0), address).flight(key, () -> {
      started.countDown();
      ClusterTest.awaitLatch(release);
      return "from node 0";
    });
    ClusterTest.awaitLatch(started);
    drop(2, address, delivery -> leaderId.equals(delivery.message().headers().get("singleflight-node")));
    List<Future<String>> followers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      followers.add(SingleFlight.createProxy(cluster.node(1), address).flight(key, () -> "from node 1"));
    }
    for (Future<String> follower : followers) {
      assertEquals("from node 1", await(follower));
    }
    release.countDown();
    assertEquals("from node 0", await(leader));
    assertEquals(1.0, moves(address));
  }

  /**
   * A forget that reaches a key's new owner before the leader of the key's flight, which began at the
   * previous owner, registers there, is kept: the new owner takes that flight over for its own
   * callers, but the next call does not join it, and is answered though the older flight never ends.
   * Before the fix, the registration made the older flight the key's flight again, and the next
   * caller waited for it for ever.
   */
  @Test
  void aForgetBeforeTheLeaderRegistersWithTheNewOwnerStillHoldsForTheNextCall() throws Exception {
    String address = "forget-moved.flight";
    String key = cluster.keyOwnedBy(2, "forget-moved-");
    List<Runnable> heldLeads = new ArrayList<>();
    CountDownLatch leadHeld = new CountDownLatch(1);
    Handler<DeliveryContext<Object>> holder = delivery -> {
      boolean lead = delivery.message().address().contains(address + ".node.")
        && "lead".equals(delivery.message().headers().get("singleflight-op"))
        && key.equals(delivery.message().headers().get("singleflight-key"));
      Context context = Vertx.currentContext();
      synchronized (heldLeads) {
        if (lead && leadHeld.getCount() > 0) {
          heldLeads.add(() -> context.runOnContext(v -> delivery.next()));
          leadHeld.countDown();
          return;
        }
      }
      delivery.next();
    };
    cluster.node(2).eventBus().addInboundInterceptor(holder);
    cleanUps.add(() -> cluster.node(2).eventBus().removeInboundInterceptor(holder));
    for (int i = 0; i < 2; i++) {
      deployments.add(await(cluster.node(i).deployVerticle(new SingleFlightVerticle(new SingleFlightOptions()
        .setAddress(address).setClustered(true).setClusterRequestTimeout(60_000)))));
    }
    Promise<String> never = Promise.promise();
    CountDownLatch started = new CountDownLatch(1);
    Future<String> old = SingleFlight.createProxy(cluster.node(0), address).flightAsync(key, () -> {
      started.countDown();
      return never.future();
    });
    ClusterTest.awaitLatch(started);
    // Node 2 now owns the key: node 0, leading its flight, registers there (held until after the forget).
    deployments.add(await(cluster.node(2).deployVerticle(new SingleFlightVerticle(new SingleFlightOptions()
      .setAddress(address).setClustered(true).setClusterRequestTimeout(60_000)))));
    ClusterTest.awaitLatch(leadHeld);
    await(cluster.node(1).eventBus().request(address, new JsonObject().put("key", key),
      new DeliveryOptions().addHeader("action", "forget")));
    synchronized (heldLeads) {
      heldLeads.forEach(Runnable::run);
    }
    assertEquals("fresh", await(SingleFlight.createProxy(cluster.node(2), address).flight(key, () -> "fresh")));
    never.complete("old");
    assertEquals("old", await(old));
  }
}
