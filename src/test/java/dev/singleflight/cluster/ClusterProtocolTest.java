package dev.singleflight.cluster;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

import static dev.singleflight.cluster.ClusterNodes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster's internal protocol cannot be forged by another sender on the clustered event bus
 * (issue #13, points 5 and 7): every message is checked, a result counts only with the key, the
 * flight's id and the lead token that only its leader was told, internal addresses are out of a
 * bridge rule's reach, and a fake leader holds a key at most clusterRequestTimeout.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterProtocolTest {

  static final int NODES = 3;
  /** Short, so that a fake leader's hold ends soon. */
  static final long REQUEST_TIMEOUT = 2_000;
  static ClusterNodes cluster;
  static ClusterMessages messages;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ClusterNodes.start(NODES);
    messages = ClusterMessages.recordOn(cluster);
    for (Vertx node : cluster.nodes()) {
      await(node.deployVerticle(new SingleFlightVerticle(options(SingleFlightOptions.DEFAULT_ADDRESS))));
    }
    await(cluster.node(2).eventBus().consumer("echo.internal", message -> message.reply(message.body())).completion());
  }

  @AfterAll
  static void stopCluster() throws Exception {
    cluster.close();
  }

  @BeforeEach
  void forgetEarlierMessages() {
    messages.clear();
  }

  static SingleFlightOptions options(String address) {
    return new SingleFlightOptions().setAddress(address).setClustered(true).setClusterRequestTimeout(REQUEST_TIMEOUT);
  }

  static String nodeAddress(String address, int node) {
    return "__singleflight.internal." + address + ".node." + cluster.nodeId(node);
  }

  static Future<Message<Object>> send(int to, Object body, MultiMap headers) {
    return cluster.node(0).eventBus().request(nodeAddress(SingleFlightOptions.DEFAULT_ADDRESS, to), body,
      new DeliveryOptions().setHeaders(headers));
  }

  static MultiMap headers(String... namesAndValues) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return headers;
  }

  static String uuid() {
    return UUID.randomUUID().toString();
  }

  /** Each case: the headers of a malformed message, as name=value pairs separated by ';'; "NODE" stands for a member id. */
  @ParameterizedTest
  @ValueSource(strings = {
    "",
    "singleflight-op=join",
    "singleflight-op=join;singleflight-node=NODE",
    "singleflight-op=join;singleflight-key=k;singleflight-node=NODE;singleflight-flight=1",
    "singleflight-op=result;singleflight-key=k;singleflight-node=NODE",
    "singleflight-op=result;singleflight-key=k;singleflight-node=NODE;singleflight-flight=12;singleflight-token=abc;singleflight-outcome=success",
    "singleflight-op=result;singleflight-key=k;singleflight-node=NODE;singleflight-flight=UUID;singleflight-token=UUID",
    "singleflight-op=result;singleflight-key=k;singleflight-node=NODE;singleflight-flight=UUID;singleflight-token=UUID;singleflight-outcome=maybe",
    "singleflight-op=result;singleflight-key=k;singleflight-node=NODE;singleflight-flight=UUID;singleflight-token=UUID;singleflight-outcome=failure",
    "singleflight-op=result;singleflight-key=k;singleflight-flight=UUID;singleflight-token=UUID;singleflight-outcome=success",
    "singleflight-op=lead;singleflight-key=k;singleflight-node=NODE;singleflight-flight=not-a-uuid;singleflight-token=UUID",
    "singleflight-op=give-up;singleflight-key=k;singleflight-node=NODE;singleflight-flight=UUID",
    "singleflight-op=json;singleflight-key=k;singleflight-node=NODE",
    "singleflight-op=launch;singleflight-key=k;singleflight-node=NODE"})
  void aMalformedMessageIsAnswered400AndChangesNothing(String spec) throws Exception {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    for (String pair : spec.split(";")) {
      if (!pair.isEmpty()) {
        String[] nameValue = pair.split("=", 2);
        headers.add(nameValue[0], nameValue[1].replace("NODE", cluster.nodeId(0)).replace("UUID", uuid()));
      }
    }
    for (int node = 0; node < NODES; node++) {
      Throwable failure = ClusterTest.failureOf(send(node, "text", headers));
      assertEquals(400, assertInstanceOf(ReplyException.class, failure).failureCode(), failure.getMessage());
    }
    // The key is not wedged: calls of it from every node are answered.
    for (int node = 0; node < NODES; node++) {
      assertEquals("value", await(SingleFlight.createProxy(cluster.node(node)).flight("k", () -> "value")));
    }
  }

  @Test
  void forgedResultsAreRefusedAndEveryCallerGetsTheLeadersValue() throws Exception {
    String key = cluster.keyOwnedBy(2, "forged-");
    AtomicReference<String> flightId = new AtomicReference<>();
    // What a peer can learn by listening: the flight's id, which the owner tells every node of the flight.
    Handler<DeliveryContext<Object>> sniffer = delivery -> {
      String id = delivery.message().headers().get("singleflight-flight");
      if (id != null) {
        flightId.compareAndSet(null, id);
      }
      delivery.next();
    };
    cluster.node(1).eventBus().addInboundInterceptor(sniffer);
    try {
      CountDownLatch release = new CountDownLatch(1);
      CountDownLatch started = new CountDownLatch(1);
      List<Future<String>> calls = new ArrayList<>();
      calls.add(SingleFlight.createProxy(cluster.node(0)).flight(key, () -> {
        started.countDown();
        ClusterTest.awaitLatch(release);
        return "real";
      }));
      ClusterTest.awaitLatch(started);
      for (int i = 0; i < 99; i++) {
        calls.add(SingleFlight.createProxy(cluster.node(1 + i % 2)).flight(key, () -> "second run"));
      }
      messages.await("join", key, 3);
      messages.await("join-again", key, 2);
      assertNotNull(flightId.get());
      String leader = cluster.nodeId(0);
      List<Future<Message<Object>>> forged = new ArrayList<>();
      for (int i = 0; i < 59; i++) {
        forged.add(send(2, "FORGED", headers("singleflight-op", "result", "singleflight-key", key, "singleflight-node", leader,
          "singleflight-flight", i % 2 == 0 ? flightId.get() : uuid(), "singleflight-token", uuid(),
          "singleflight-outcome", "success")));
      }
      // The right id and token, but another key: refused too.
      forged.add(send(2, "FORGED", headers("singleflight-op", "result", "singleflight-key", key + "-other",
        "singleflight-node", leader, "singleflight-flight", flightId.get(), "singleflight-token", uuid(),
        "singleflight-outcome", "success")));
      for (int i = 0; i < forged.size(); i += 2) {
        // A result naming the flight without its lead token: not its leader.
        Throwable refused = ClusterTest.failureOf(forged.get(i));
        assertTrue(Set.of(403, 409).contains(((ReplyException) refused).failureCode()), refused.getMessage());
      }
      release.countDown();
      for (Future<String> call : calls) {
        assertEquals("real", await(call));
      }
    } finally {
      cluster.node(1).eventBus().removeInboundInterceptor(sniffer);
    }
  }

  @Test
  void aForgedJoinWithoutAKeyIs400AndOneFromANonMemberIsToldToAskElsewhere() throws Exception {
    String key = cluster.keyOwnedBy(2, "nonmember-");
    Throwable noKey = ClusterTest.failureOf(send(2, null, headers("singleflight-op", "join", "singleflight-node", cluster.nodeId(0))));
    assertEquals(400, ((ReplyException) noKey).failureCode());
    Message<Object> stranger = await(send(2, null, headers("singleflight-op", "join", "singleflight-key", key,
      "singleflight-node", "intruder")));
    assertEquals("retry", stranger.headers().get("singleflight-role"));
    for (int node = 0; node < NODES; node++) {
      assertEquals("value", await(SingleFlight.createProxy(cluster.node(node)).flight(key, () -> "value")));
    }
  }

  /**
   * A peer that joins in a member's name gets the lead and never reports: the owner takes the lead
   * from it after clusterRequestTimeout, and the real callers, without a timeout of their own, are answered.
   */
  @Test
  void aFakeLeaderHoldsItsKeyAtMostClusterRequestTimeout() throws Exception {
    String key = cluster.keyOwnedBy(2, "fake-leader-");
    Message<Object> granted = await(send(2, null, headers("singleflight-op", "join", "singleflight-key", key,
      "singleflight-node", cluster.nodeId(1))));
    assertEquals("leader", granted.headers().get("singleflight-role"));
    List<Future<String>> calls = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      calls.add(SingleFlight.createProxy(cluster.node(i % NODES)).flight(key, () -> "value"));
    }
    for (Future<String> call : calls) {
      assertEquals("value", await(call));
    }
  }

  /** Issue #13, point 6: a JSON timeout at the edge of long, forwarded to an owner on another node, is answered. */
  @ParameterizedTest
  @ValueSource(strings = {"9223372036854775807", "1e19", "1e300"})
  void aJsonTimeoutAtTheEdgeOfLongIsAnsweredByARemoteOwner(String timeout) throws Exception {
    String key = cluster.keyOwnedBy(2, "edge-");
    JsonObject request = new JsonObject("{\"key\":\"" + key + "\",\"address\":\"echo.internal\",\"body\":\"value\",\"timeout\":"
      + timeout + "}");
    assertEquals("value", await(cluster.node(0).eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, request).map(Message::body)));
  }

  /** Every message of the protocol goes to an address that a bridge rule for the public address cannot match. */
  @Test
  void internalAddressesAreOutOfReachOfABridgeRuleForThePublicAddress() throws Exception {
    Pattern bridgeRule = Pattern.compile("singleflight\\..*");
    List<String> addresses = new CopyOnWriteArrayList<>();
    Handler<DeliveryContext<Object>> watch = delivery -> {
      if (delivery.message().headers().contains("singleflight-op")) {
        addresses.add(delivery.message().address());
      }
      delivery.next();
    };
    cluster.nodes().forEach(node -> node.eventBus().addOutboundInterceptor(watch));
    try {
      for (int node = 0; node < NODES; node++) {
        await(SingleFlight.createProxy(cluster.node(node)).flight("watched-" + node, () -> "v"));
        await(SingleFlight.createProxy(cluster.node(node)).forget("watched-" + node));
        await(cluster.node(node).eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS,
          new JsonObject().put("key", "watched-json-" + node).put("address", "echo.internal").put("body", 1)));
      }
    } finally {
      cluster.nodes().forEach(node -> node.eventBus().removeOutboundInterceptor(watch));
    }
    assertFalse(addresses.isEmpty());
    for (String address : addresses) {
      assertTrue(address.startsWith("__singleflight.internal."), address);
      assertFalse(bridgeRule.matcher(address).matches(), address);
    }
  }

  /**
   * Flight ids are not a counter per verticle instance: after the owner's verticle is redeployed, the
   * late report of a flight that began before cannot complete another key's flight.
   */
  @Test
  void aLateReportAfterTheOwnerWasRedeployedReachesOnlyItsOwnKey() throws Exception {
    String address = "redeployed.flight";
    List<String> deployments = new ArrayList<>();
    for (Vertx node : cluster.nodes()) {
      deployments.add(await(node.deployVerticle(new SingleFlightVerticle(options(address)))));
    }
    try {
      String a = cluster.keyOwnedBy(2, "late-a-");
      String b = cluster.keyOwnedBy(2, "late-b-");
      CountDownLatch releaseA = new CountDownLatch(1);
      CountDownLatch startedA = new CountDownLatch(1);
      Future<String> callA = SingleFlight.createProxy(cluster.node(0), address).flight(a, () -> {
        startedA.countDown();
        ClusterTest.awaitLatch(releaseA);
        return "value of a";
      });
      ClusterTest.awaitLatch(startedA);
      await(cluster.node(2).undeploy(deployments.get(2)));
      deployments.set(2, await(cluster.node(2).deployVerticle(new SingleFlightVerticle(options(address)))));
      CountDownLatch releaseB = new CountDownLatch(1);
      CountDownLatch startedB = new CountDownLatch(1);
      Future<String> leaderOfB = SingleFlight.createProxy(cluster.node(1), address).flight(b, () -> {
        startedB.countDown();
        ClusterTest.awaitLatch(releaseB);
        return "value of b";
      });
      ClusterTest.awaitLatch(startedB);
      Future<String> followerOfB = SingleFlight.createProxy(cluster.node(0), address).flight(b, () -> "value of b, again");
      messages.await("join", b, 2);
      releaseA.countDown();
      assertEquals("value of a", await(callA));
      releaseB.countDown();
      assertEquals("value of b", await(leaderOfB));
      assertEquals("value of b", await(followerOfB));
    } finally {
      for (int i = 0; i < NODES; i++) {
        await(cluster.node(i).undeploy(deployments.get(i)));
      }
    }
  }
}
