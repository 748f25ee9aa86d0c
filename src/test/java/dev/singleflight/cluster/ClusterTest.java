package dev.singleflight.cluster;

import dev.singleflight.Batch;
import dev.singleflight.BatchOptions;
import dev.singleflight.RemoteFlightException;
import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.singleflight.cluster.ClusterNodes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cluster-wide single flight on three real clustered Vert.x nodes in this JVM (Hazelcast on
 * loopback). Every node deploys the verticle with clustered=true at the default address.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterTest {

  static final int NODES = 3;
  static ClusterNodes cluster;
  static ClusterMessages messages;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ClusterNodes.start(NODES);
    messages = ClusterMessages.recordOn(cluster);
    for (Vertx node : cluster.nodes()) {
      await(node.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setClustered(true))));
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    cluster.close();
  }

  @BeforeEach
  void forgetEarlierMessages() {
    messages.clear();
  }

  /** Each node's verticle asked the owner to join the flight of {@code key} exactly once: one exchange per node, not per caller. */
  static void assertOneJoinPerNode(String key) {
    assertEquals(Map.of(0, 1L, 1, 1L, 2, 1L), messages.bySender("join", key), "joins of '" + key + "' by node");
  }

  static SingleFlight proxy(int node) {
    return SingleFlight.createProxy(cluster.node(node));
  }

  @Test
  void threeHundredCallersSpreadOverTheNodesGetOneExecutionAndEachNodeJoinsTheOwnerOnce() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    JsonObject value = new JsonObject().put("id", 7).put("name", "Ada");
    List<Future<JsonObject>> calls = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      calls.add(proxy(i % NODES).flight("user:7", () -> {
        runs.incrementAndGet();
        awaitLatch(release);
        return value;
      }));
    }
    messages.await("join", "user:7", NODES);
    release.countDown();
    for (Future<JsonObject> call : calls) {
      assertEquals(value, await(call));
    }
    assertEquals(1, runs.get());
    assertOneJoinPerNode("user:7");
  }

  @Test
  void theLeaderNodesCallersGetTheVeryResultInstanceAndTheOtherNodesAnEqualCopy() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    JsonObject value = new JsonObject().put("id", 8).put("name", "Grace");
    List<List<Future<JsonObject>>> callsByNode = new ArrayList<>();
    for (int node = 0; node < NODES; node++) {
      List<Future<JsonObject>> calls = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        calls.add(proxy(node).flight("user:8", () -> {
          awaitLatch(release);
          return value;
        }));
      }
      callsByNode.add(calls);
      // Node 0's join reaches the owner first: node 0 leads.
      messages.await("join", "user:8", node + 1);
    }
    release.countDown();
    for (Future<JsonObject> call : callsByNode.get(0)) {
      assertSame(value, await(call));
    }
    for (int node = 1; node < NODES; node++) {
      for (Future<JsonObject> call : callsByNode.get(node)) {
        JsonObject copy = await(call);
        assertEquals(value, copy);
        assertNotSame(value, copy);
      }
    }
  }

  @Test
  void aFunctionCompletedOnAPlainThreadIsReportedFromTheLeadersEventLoop() throws Exception {
    Promise<String> gate = Promise.promise();
    CountDownLatch called = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    List<Boolean> reportSentOnEventLoop = new CopyOnWriteArrayList<>();
    Handler<DeliveryContext<Object>> reports = delivery -> {
      // The leader's report to the owner; the owner's answers to the other nodes carry its headers too.
      if ("result".equals(delivery.message().headers().get("singleflight-op"))
        && delivery.message().address().startsWith("__singleflight.internal." + SingleFlightOptions.DEFAULT_ADDRESS + ".node.")) {
        reportSentOnEventLoop.add(Context.isOnEventLoopThread());
      }
      delivery.next();
    };
    cluster.nodes().forEach(node -> node.eventBus().addOutboundInterceptor(reports));
    try {
      List<Future<String>> calls = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        calls.add(proxy(i % NODES).flightAsync("plain-thread", () -> {
          runs.incrementAndGet();
          called.countDown();
          return gate.future();
        }));
      }
      messages.await("join", "plain-thread", NODES);
      awaitLatch(called);
      gate.complete("done");
      for (Future<String> call : calls) {
        assertEquals("done", await(call));
      }
      assertEquals(1, runs.get());
      assertEquals(List.of(true), reportSentOnEventLoop);
      assertOneJoinPerNode("plain-thread");
    } finally {
      cluster.nodes().forEach(node -> node.eventBus().removeOutboundInterceptor(reports));
    }
  }

  @Test
  void aFailureCrossesNodesAsItsClassNameAndMessage() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    List<Future<Object>> calls = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      calls.add(proxy(i).flight("failing", () -> {
        awaitLatch(release);
        throw new IOException("disk gone");
      }));
    }
    messages.await("join", "failing", NODES);
    release.countDown();
    int remote = 0;
    for (Future<Object> call : calls) {
      Throwable failure = failureOf(call);
      if (failure instanceof RemoteFlightException crossed) {
        assertEquals("java.io.IOException", crossed.getRemoteClassName());
        assertEquals("java.io.IOException: disk gone", crossed.getMessage());
        remote++;
      } else {
        assertInstanceOf(IOException.class, failure);
      }
    }
    assertEquals(NODES - 1, remote);
  }

  @Test
  void aResultWithoutACodecFailsTheOtherNodesWithAnErrorNamingItsType() throws Exception {
    record Report(int orders) {
    }
    CountDownLatch release = new CountDownLatch(1);
    List<Future<Report>> calls = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      calls.add(proxy(i).flight("report", () -> {
        awaitLatch(release);
        return new Report(42);
      }));
    }
    messages.await("join", "report", NODES);
    release.countDown();
    int named = 0;
    for (Future<Report> call : calls) {
      Future<Report> settled = call.recover(e -> Future.succeededFuture());
      await(settled);
      if (call.failed()) {
        assertTrue(call.cause().getMessage().contains(Report.class.getName()), call.cause().getMessage());
        named++;
      } else {
        assertEquals(42, call.result().orders());
      }
    }
    assertEquals(NODES - 1, named);
  }

  @Test
  void jsonThatDoesNotEncodeFailsTheOtherNodesAndLeavesTheKeyFree() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    List<Future<JsonObject>> calls = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      calls.add(proxy(i).flight("not-json", () -> {
        awaitLatch(release);
        return new JsonObject().put("x", new Object());
      }));
    }
    messages.await("join", "not-json", NODES);
    release.countDown();
    int failed = 0;
    for (Future<JsonObject> call : calls) {
      await(call.recover(e -> Future.succeededFuture()));
      if (call.failed()) {
        assertInstanceOf(RemoteFlightException.class, call.cause());
        assertTrue(call.cause().getMessage().contains("JsonObject"), call.cause().getMessage());
        failed++;
      }
    }
    assertEquals(NODES - 1, failed);
    for (int i = 0; i < NODES; i++) {
      assertEquals(new JsonObject().put("ok", true), await(proxy(i).flight("not-json", () -> new JsonObject().put("ok", true))));
    }
  }

  @Test
  void jsonFlightsFromEveryNodeMakeOneDownstreamRequest() throws Exception {
    List<Message<Object>> downstream = new CopyOnWriteArrayList<>();
    CountDownLatch reached = new CountDownLatch(1);
    await(cluster.node(0).eventBus().consumer("users.service", message -> {
      downstream.add(message);
      reached.countDown();
    }).completion());
    List<Future<Message<Object>>> requests = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      requests.add(cluster.node(i % NODES).eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS,
        new JsonObject().put("key", "user:9").put("address", "users.service").put("body", 9)));
    }
    messages.await("json", "user:9", 30);
    awaitLatch(reached);
    downstream.get(0).reply(new JsonObject().put("name", "Grace"));
    for (Future<Message<Object>> request : requests) {
      assertEquals(new JsonObject().put("name", "Grace"), await(request).body());
    }
    assertEquals(1, downstream.size());
  }

  @Test
  void batchesOnEveryNodeLoadEachKeyOnceInTheClusterEachNodeBatchingTheKeysItLeads() throws Exception {
    List<String> keys = java.util.stream.IntStream.range(0, 30).mapToObj(i -> "batched:" + i).toList();
    Map<String, AtomicInteger> loads = new java.util.concurrent.ConcurrentHashMap<>();
    List<Promise<Map<String, String>>> pending = new CopyOnWriteArrayList<>();
    List<Future<Map<String, String>>> calls = new ArrayList<>();
    for (int node = 0; node < NODES; node++) {
      Batch<String> users = proxy(node).batchAsync("users", batch -> {
        batch.forEach(key -> loads.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet());
        Promise<Map<String, String>> loaded = Promise.promise();
        pending.add(loaded);
        return loaded.future().map(v -> batch.stream().collect(java.util.stream.Collectors.toMap(key -> key, key -> "v:" + key)));
      }, new BatchOptions());
      calls.add(users.getAll(keys));
    }
    for (String key : keys) {
      messages.await("join", key, NODES);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (loads.size() < keys.size() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    pending.forEach(loaded -> loaded.complete(Map.of()));
    for (Future<Map<String, String>> call : calls) {
      Map<String, String> values = await(call);
      keys.forEach(key -> assertEquals("v:" + key, values.get(key)));
    }
    assertEquals(keys.size(), loads.size());
    loads.forEach((key, count) -> assertEquals(1, count.get(), key + " was loaded " + count + " times in the cluster"));
    assertTrue(pending.size() <= keys.size(), "keys are batched: " + pending.size() + " loader calls");
  }

  @Test
  void aJsonBatchGoesToTheKeysOwnerNodesAndEachKeyIsRequestedDownstreamOnce() throws Exception {
    Map<String, AtomicInteger> requested = new java.util.concurrent.ConcurrentHashMap<>();
    AtomicInteger downstreamRequests = new AtomicInteger();
    await(cluster.node(0).eventBus().<JsonObject>consumer("batch.service", request -> {
      downstreamRequests.incrementAndGet();
      JsonObject reply = new JsonObject();
      for (Object key : request.body().getJsonArray("keys")) {
        requested.computeIfAbsent((String) key, k -> new AtomicInteger()).incrementAndGet();
        reply.put((String) key, "v:" + key + ":" + request.body().getValue("body"));
      }
      request.reply(reply);
    }).completion());
    io.vertx.core.json.JsonArray keys = new io.vertx.core.json.JsonArray(
      java.util.stream.IntStream.range(0, 60).mapToObj(i -> "json-batched:" + i).collect(java.util.stream.Collectors.toList()));
    JsonObject reply = await(cluster.node(1).eventBus().<JsonObject>request(SingleFlightOptions.DEFAULT_ADDRESS,
      new JsonObject().put("keys", keys).put("address", "batch.service").put("body", 5),
      new DeliveryOptions().addHeader("action", "batch"))).body();
    assertEquals(60, reply.size());
    keys.forEach(key -> assertEquals("v:" + key + ":5", reply.getString((String) key)));
    assertEquals(60, requested.size());
    requested.forEach((key, count) -> assertEquals(1, count.get(), key + " was requested " + count + " times"));
    assertTrue(downstreamRequests.get() <= NODES, "one downstream request per owner node: " + downstreamRequests.get());
  }

  @Test
  void aMalformedJsonRequestIs400OnEveryNode() throws Exception {
    for (int i = 0; i < NODES; i++) {
      Future<Message<Object>> request = cluster.node(i).eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS,
        new JsonObject().put("address", "users.service"));
      assertEquals(400, ((ReplyException) failureOf(request)).failureCode());
    }
  }

  @Test
  void aForgetFromOneNodeIsSeenByTheOthers() throws Exception {
    CountDownLatch releaseOld = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    Future<String> first = proxy(0).flight("k", () -> {
      runs.incrementAndGet();
      awaitLatch(releaseOld);
      return "old";
    });
    Future<String> second = proxy(1).flight("k", () -> {
      runs.incrementAndGet();
      awaitLatch(releaseOld);
      return "old";
    });
    messages.await("join", "k", 2);
    await(proxy(2).forget("k"));
    Future<String> afterOnNode1 = proxy(1).flight("k", () -> {
      runs.incrementAndGet();
      return "new";
    });
    assertEquals("new", await(afterOnNode1));
    releaseOld.countDown();
    assertEquals("old", await(first));
    assertEquals("old", await(second));
    assertEquals(2, runs.get());
  }

  @Test
  void aJsonForgetIsRoutedToTheOwner() throws Exception {
    Promise<String> never = Promise.promise();
    Future<String> old = proxy(0).flightAsync("json-forget", never::future);
    messages.await("join", "json-forget", 1);
    await(cluster.node(1).eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, new JsonObject().put("key", "json-forget"),
      new DeliveryOptions().addHeader("action", "forget")));
    assertEquals("fresh", await(proxy(2).flight("json-forget", () -> "fresh")));
    assertEquals("fresh", await(proxy(0).flight("json-forget", () -> "fresh")));
    never.complete("old");
    assertEquals("old", await(old));
  }

  @Test
  void withClusteredOffTheVerticleStaysNodeLocalOnAClusteredVertx() throws Exception {
    for (int i = 0; i < 2; i++) {
      await(cluster.node(i).deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setAddress("local.flight"))));
    }
    CountDownLatch bothRunning = new CountDownLatch(2);
    List<Future<Boolean>> calls = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      calls.add(SingleFlight.createProxy(cluster.node(i), "local.flight").flight("k", () -> {
        bothRunning.countDown();
        return bothRunning.await(60, TimeUnit.SECONDS);
      }));
    }
    for (Future<Boolean> call : calls) {
      assertTrue(await(call), "the two nodes' calls were collapsed");
    }
  }

  @Test
  void aClusteredVerticleRefusesSeveralInstancesPerNode() {
    Future<String> deployment = cluster.node(0).deployVerticle(() -> new SingleFlightVerticle(
      new SingleFlightOptions().setAddress("many.flight").setClustered(true)), new DeploymentOptions().setInstances(2));
    Throwable failure = assertThrows(IllegalArgumentException.class, () -> await(deployment));
    assertTrue(failure.getMessage().contains("one instance per node"), failure.getMessage());
  }

  static void awaitLatch(CountDownLatch latch) throws InterruptedException {
    if (!latch.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("latch not released in 60 s");
    }
  }

  static Throwable failureOf(Future<?> future) throws Exception {
    await(future.recover(e -> Future.succeededFuture()));
    assertTrue(future.failed(), "expected a failure");
    return future.cause();
  }

}
