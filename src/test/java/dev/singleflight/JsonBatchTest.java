package dev.singleflight;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Semantics 6: JSON batch requests ({@code action: batch}) on one verticle instance. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JsonBatchTest extends FlightTestBase {

  static final String SERVICE = "users.service";

  /** The real batch service: it holds the requests it gets until the test answers them. */
  final List<Message<JsonObject>> received = new CopyOnWriteArrayList<>();

  void deployService(Vertx on) throws Exception {
    await(on.eventBus().<JsonObject>consumer(SERVICE, message -> {
      if (message.headers().contains("probe")) {
        message.reply(null);
      } else {
        received.add(message);
      }
    }).completion());
  }

  /** Waits until the service has received {@code count} requests. */
  void awaitReceived(int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (received.size() < count) {
      if (System.nanoTime() > deadline) {
        throw new java.util.concurrent.TimeoutException("the service received " + received.size() + " requests, not " + count);
      }
      Thread.sleep(5);
    }
  }

  static Future<JsonObject> batch(Vertx on, JsonObject request) {
    return on.eventBus().<JsonObject>request(SingleFlightOptions.DEFAULT_ADDRESS, request,
      new DeliveryOptions().addHeader("action", "batch")).map(Message::body);
  }

  static JsonObject keys(String... keys) {
    return new JsonObject().put("keys", new JsonArray(List.of((Object[]) keys))).put("address", SERVICE);
  }

  /** Answers a held downstream request with "v:" + key for each of its keys. */
  static void answer(Message<JsonObject> request) {
    JsonObject reply = new JsonObject();
    request.body().getJsonArray("keys").forEach(key -> reply.put((String) key, "v:" + key));
    request.reply(reply);
  }

  static void assertFailure(int code, String messagePart, Throwable failure) {
    ReplyException reply = assertInstanceOf(ReplyException.class, failure);
    assertEquals(code, reply.failureCode(), reply.getMessage());
    assertTrue(reply.getMessage().contains(messagePart), reply.getMessage());
  }

  @Test
  void requestsQueuedInOneTurnShareOneDownstreamRequestAndEachGetsItsOwnKeysOnly() throws Exception {
    Vertx single = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    try {
      await(single.deployVerticle(new SingleFlightVerticle()));
      deployService(single);
      Promise<List<Future<JsonObject>>> sent = Promise.promise();
      single.runOnContext(v -> sent.complete(List.of(
        batch(single, keys("1", "2").put("body", "opener")),
        batch(single, keys("2", "3").put("body", "other")))));
      List<Future<JsonObject>> replies = await(sent.future());
      awaitReceived(1);
      Message<JsonObject> downstream = received.get(0);
      assertEquals(Set.of("1", "2", "3"), Set.copyOf(downstream.body().getJsonArray("keys").getList()));
      assertEquals("opener", downstream.body().getValue("body"));
      assertEquals(Set.of("keys", "body"), downstream.body().fieldNames());
      answer(downstream);
      assertEquals(new JsonObject().put("1", "v:1").put("2", "v:2"), await(replies.get(0)));
      assertEquals(new JsonObject().put("2", "v:2").put("3", "v:3"), await(replies.get(1)));
      assertEquals(1, received.size());
    } finally {
      await(single.close());
    }
  }

  @Test
  void aKeyInFlightIsJoinedAndOnlyTheNewKeysMakeANewDownstreamRequest() throws Exception {
    deployService(vertx);
    Future<JsonObject> first = batch(vertx, keys("1", "2"));
    awaitReceived(1);
    Future<JsonObject> second = batch(vertx, keys("2", "3"));
    awaitReceived(2);
    assertEquals(new JsonArray().add("3"), received.get(1).body().getJsonArray("keys"));
    answer(received.get(1));
    answer(received.get(0));
    assertEquals(new JsonObject().put("1", "v:1").put("2", "v:2"), await(first));
    assertEquals(new JsonObject().put("2", "v:2").put("3", "v:3"), await(second));
  }

  @Test
  void aKeyTheServiceLeavesOutIsNullAndKeysNotAskedAreNotDelivered() throws Exception {
    deployService(vertx);
    Future<JsonObject> reply = batch(vertx, keys("1", "2"));
    awaitReceived(1);
    received.get(0).reply(new JsonObject().put("1", "one").put("9", "not asked"));
    JsonObject values = await(reply);
    assertEquals("one", values.getString("1"));
    assertTrue(values.containsKey("2") && values.getValue("2") == null, values.encode());
    assertEquals(2, values.size());
  }

  @Test
  void aJsonBatchKeyJoinsAProxyFlightOfTheSameKey() throws Exception {
    deployService(vertx);
    Promise<String> plain = Promise.promise();
    Future<String> proxyCaller = flights.flightAsync("1", plain::future);
    Future<JsonObject> reply = batch(vertx, keys("1", "2"));
    // Key 2 reaching the service means the request was handled: key 1 joined the proxy flight then.
    awaitReceived(1);
    assertEquals(new JsonArray().add("2"), received.get(0).body().getJsonArray("keys"));
    plain.complete("from the flight");
    answer(received.get(0));
    assertEquals(new JsonObject().put("1", "from the flight").put("2", "v:2"), await(reply));
    assertEquals("from the flight", await(proxyCaller));
  }

  @Test
  void theServicesFailureFailsEveryRequesterOfTheBatchWithItsCode() throws Exception {
    deployService(vertx);
    Future<JsonObject> one = batch(vertx, keys("1"));
    awaitReceived(1);
    received.get(0).fail(418, "teapot");
    assertFailure(418, "teapot", failureOf(one));
  }

  @Test
  void aReplyThatIsNotAJsonObjectIs500() throws Exception {
    deployService(vertx);
    Future<JsonObject> one = batch(vertx, keys("1"));
    awaitReceived(1);
    received.get(0).reply("just a string");
    assertFailure(500, "not a JSON object keyed by key", failureOf(one));
  }

  @Test
  void noServiceAtTheAddressIs404() throws Exception {
    assertFailure(404, "nowhere", failureOf(batch(vertx, keys("1").put("address", "nowhere"))));
  }

  @Test
  void malformedBatchRequestsAre400() throws Exception {
    assertFailure(400, "keys must be a non-empty array", failureOf(batch(vertx, new JsonObject().put("address", SERVICE))));
    assertFailure(400, "keys must be a non-empty array", failureOf(batch(vertx, keys())));
    assertFailure(400, "keys must hold non-empty strings", failureOf(batch(vertx,
      new JsonObject().put("keys", new JsonArray().add("1").add(2)).put("address", SERVICE))));
    assertFailure(400, "keys must hold non-empty strings", failureOf(batch(vertx, keys("1", ""))));
    assertFailure(400, "address must be", failureOf(batch(vertx, keys("1").put("address", 3))));
    assertFailure(400, "timeout must be", failureOf(batch(vertx, keys("1").put("timeout", -1))));
    assertFailure(400, "the body must be a JSON object", failureOf(batch(vertx, null)));
    assertFailure(400, "maxKeyLength", failureOf(batch(vertx, keys("x".repeat(SingleFlightOptions.DEFAULT_MAX_KEY_LENGTH + 1)))));
  }

  @Test
  void theAllowListAndTheVerticlesOwnAddressesApplyTo403() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setAllowedAddresses(List.of("users\\..*")))));
    assertFailure(403, "not in allowedAddresses", failureOf(batch(vertx, keys("1").put("address", "orders.service"))));
    assertFailure(403, "the single-flight verticle's own", failureOf(batch(vertx,
      keys("1").put("address", SingleFlightOptions.DEFAULT_ADDRESS + ".node.x"))));
  }

  @Test
  void aBatchRequestFromTheFlightOfOneOfItsKeysIsALoop508() throws Exception {
    String via = new JsonArray().add(SingleFlightOptions.DEFAULT_ADDRESS).add("2").encode();
    Throwable failure = failureOf(vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, keys("1", "2"),
      new DeliveryOptions().addHeader("action", "batch").addHeader("singleflight-via", via)));
    assertFailure(508, "'2'", failure);
  }
}
