package dev.singleflight;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.impl.OutboundDeliveryContext;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JSON event-bus protocol, spoken by plain event-bus requests. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JsonProtocolTest extends FlightTestBase {

  static final String SERVICE = "users.service";

  /** The real service: it holds the requests it gets until the test answers them. */
  final List<Message<Object>> received = new CopyOnWriteArrayList<>();
  boolean serviceDeployed;

  /** Deploys the service; it answers a request with a {@code probe} header at once and keeps no other. */
  void deployService() throws Exception {
    await(vertx.eventBus().consumer(SERVICE, message -> {
      if (message.headers().contains("probe")) {
        message.reply(null);
      } else {
        received.add(message);
      }
    }).completion());
    serviceDeployed = true;
  }

  /**
   * Also returns once the service has received every request the verticle sent it until then: the
   * service runs on its own event loop, and handles the probe after them.
   */
  @Override
  void barrier() throws Exception {
    super.barrier();
    if (serviceDeployed) {
      await(vertx.eventBus().request(SERVICE, null, new DeliveryOptions().addHeader("probe", "true")));
    }
  }

  Future<Object> jsonFlight(String key, Object body) {
    return request(new JsonObject().put("key", key).put("address", SERVICE).put("body", body), "flight");
  }

  Future<Object> request(Object body, String action) {
    DeliveryOptions options = new DeliveryOptions();
    if (action != null) {
      options.addHeader("action", action);
    }
    return vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, body, options).map(Message::body);
  }

  static void assertFailure(int code, String messagePart, Throwable failure) {
    ReplyException reply = assertInstanceOf(ReplyException.class, failure);
    assertEquals(code, reply.failureCode(), reply.getMessage());
    assertTrue(reply.getMessage().contains(messagePart), reply.getMessage());
  }

  @Test
  void fiftyConcurrentRequestsForOneKeyMakeOneDownstreamRequestAndAllGetItsReply() throws Exception {
    deployService();
    List<Future<Object>> calls = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      calls.add(jsonFlight("user:1", new JsonObject().put("id", 1)));
    }
    barrier();
    assertEquals(1, received.size());
    assertEquals(new JsonObject().put("id", 1), received.get(0).body());
    received.get(0).reply(new JsonObject().put("name", "Ada"));
    for (Future<Object> call : calls) {
      assertEquals(new JsonObject().put("name", "Ada"), await(call));
    }
  }

  @Test
  void distinctKeysMakeDistinctDownstreamRequests() throws Exception {
    deployService();
    Future<Object> first = jsonFlight("user:1", 1);
    Future<Object> second = jsonFlight("user:2", 2);
    barrier();
    assertEquals(2, received.size());
    for (Message<Object> message : received) {
      message.reply("user " + message.body());
    }
    assertEquals("user 1", await(first));
    assertEquals("user 2", await(second));
  }

  @Test
  void theKeyIsFreeAgainOnceTheReplyArrived() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    vertx.eventBus().consumer(SERVICE, message -> message.reply(requests.incrementAndGet()));
    assertEquals(1, await(jsonFlight("k", null)));
    assertEquals(2, await(jsonFlight("k", null)));
  }

  @Test
  void theServicesFailureReachesEveryRequesterWithItsOwnCodeAndMessage() throws Exception {
    deployService();
    Future<Object> first = jsonFlight("k", null);
    Future<Object> second = jsonFlight("k", null);
    barrier();
    received.get(0).fail(418, "I'm a teapot");
    for (Future<Object> call : List.of(first, second)) {
      ReplyException failure = assertInstanceOf(ReplyException.class, failureOf(call));
      assertEquals(418, failure.failureCode());
      assertEquals("I'm a teapot", failure.getMessage());
    }
  }

  @Test
  void noHandlerAtTheDownstreamAddressIs404() throws Exception {
    assertFailure(404, "nobody.home", failureOf(request(
      new JsonObject().put("key", "k").put("address", "nobody.home"), null)));
  }

  @Test
  void aDownstreamTimeoutIs504() throws Exception {
    deployService();
    JsonObject body = new JsonObject().put("key", "k").put("address", SERVICE).put("timeout", 50);
    assertFailure(504, SERVICE, failureOf(request(body, "flight")));
  }

  /**
   * Records the send timeout of each message sent to the service. The public {@link DeliveryContext}
   * does not show it: Vert.x's outbound context holds the {@link DeliveryOptions} of the send.
   */
  Handler<DeliveryContext<Object>> recordingSendTimeoutsTo(List<Long> sendTimeouts) {
    return delivery -> {
      if (SERVICE.equals(delivery.message().address()) && delivery instanceof OutboundDeliveryContext<?> outbound) {
        sendTimeouts.add(outbound.options.getSendTimeout());
      }
      delivery.next();
    };
  }

  @Test
  void aFlightWithoutATimeoutSendsItsDownstreamRequestWithVertxsDefaultOf30Seconds() throws Exception {
    List<Long> sendTimeouts = new CopyOnWriteArrayList<>();
    vertx.eventBus().addOutboundInterceptor(recordingSendTimeoutsTo(sendTimeouts));
    vertx.eventBus().consumer(SERVICE, message -> message.reply("answered"));
    assertEquals("answered", await(request(new JsonObject().put("key", "k").put("address", SERVICE), null)));
    assertEquals(List.of(30_000L), sendTimeouts);
  }

  @Test
  void aFlightsTimeoutIsTheSendTimeoutOfItsDownstreamRequest() throws Exception {
    List<Long> sendTimeouts = new CopyOnWriteArrayList<>();
    vertx.eventBus().addOutboundInterceptor(recordingSendTimeoutsTo(sendTimeouts));
    vertx.eventBus().consumer(SERVICE, message -> message.reply("answered"));
    JsonObject body = new JsonObject().put("key", "k").put("address", SERVICE).put("timeout", 1_234);
    assertEquals("answered", await(request(body, null)));
    assertEquals(List.of(1_234L), sendTimeouts);
  }

  static Stream<Arguments> malformedRequests() {
    JsonObject valid = new JsonObject().put("key", "k").put("address", SERVICE);
    return Stream.of(
      Arguments.of("not a JSON object", "flight", "body must be a JSON object"),
      Arguments.of(null, "flight", "body must be a JSON object"),
      Arguments.of(new JsonObject().put("address", SERVICE), "flight", "key must be a non-empty string"),
      Arguments.of(valid.copy().put("key", ""), "flight", "key must be a non-empty string"),
      Arguments.of(valid.copy().put("key", 42), "flight", "key must be a non-empty string"),
      Arguments.of(new JsonObject().put("key", "k"), "flight", "address must be a non-empty string"),
      Arguments.of(valid.copy().put("address", 7), null, "address must be a non-empty string"),
      Arguments.of(valid.copy().put("address", ""), null, "address must be a non-empty string"),
      Arguments.of(valid.copy().put("timeout", "soon"), null, "timeout must be a positive whole number"),
      Arguments.of(valid.copy().put("timeout", -5), null, "timeout must be a positive whole number"),
      Arguments.of(valid, "fly", "unknown action 'fly'"),
      Arguments.of(new JsonObject(), "forget", "key must be a non-empty string"));
  }

  @ParameterizedTest
  @MethodSource("malformedRequests")
  void aMalformedRequestIs400WithAMessageSayingWhatIsWrong(Object body, String action, String says) throws Exception {
    deployService();
    assertFailure(400, says, failureOf(request(body, action)));
    assertTrue(received.isEmpty(), "a malformed request reached the service");
  }

  @Test
  void afterBadRequestsTheVerticleServesNormally() throws Exception {
    vertx.eventBus().consumer(SERVICE, message -> message.reply("fine"));
    for (int i = 0; i < 100; i++) {
      failureOf(request(i % 2 == 0 ? "garbage " + i : new JsonObject().put("key", i), null));
    }
    assertEquals("fine", await(jsonFlight("k", null)));
  }

  @Test
  void aRequestWaitingWhenTheVerticleStopsIs503() throws Exception {
    deployService();
    Future<Object> waiting = jsonFlight("k", null);
    barrier();
    await(vertx.undeploy(deploymentId));
    assertFailure(503, "undeployed", failureOf(waiting));
  }

  @Test
  void forgetByMessageRepliesAnEmptySuccessAndTheNextRequestStartsAfresh() throws Exception {
    deployService();
    Future<Object> before = jsonFlight("k", "first");
    barrier();
    assertNull(await(request(new JsonObject().put("key", "k"), "forget")));
    Future<Object> after = jsonFlight("k", "second");
    barrier();
    assertEquals(2, received.size());
    received.get(0).reply("old");
    received.get(1).reply("new");
    assertEquals("old", await(before));
    assertEquals("new", await(after));
  }

  @Test
  void aJsonForgetAppliesToProxyCallersOfTheKey() throws Exception {
    Gate<String> first = new Gate<>("first");
    Gate<String> second = new Gate<>("second");
    Future<String> old = flights.flight("k", first);
    await(request(new JsonObject().put("key", "k"), "forget"));
    Future<String> fresh = flights.flight("k", second);
    barrier();
    first.release.countDown();
    second.release.countDown();
    assertEquals("first", await(old));
    assertEquals("second", await(fresh));
  }

  @Test
  void aProxyForgetAppliesToJsonRequestersOfTheKey() throws Exception {
    deployService();
    Future<Object> old = jsonFlight("k", "first");
    await(flights.forget("k"));
    Future<Object> fresh = jsonFlight("k", "second");
    barrier();
    assertEquals(2, received.size());
    received.forEach(message -> message.reply(message.body()));
    assertEquals("first", await(old));
    assertEquals("second", await(fresh));
  }

  @Test
  void aJsonRequesterJoinsAProxyFlightOfTheSameKey() throws Exception {
    deployService();
    Gate<JsonObject> gate = new Gate<>(new JsonObject().put("from", "proxy"));
    Future<JsonObject> proxyCall = flights.flight("k", gate);
    Future<Object> jsonCall = jsonFlight("k", null);
    barrier();
    gate.release.countDown();
    assertEquals(new JsonObject().put("from", "proxy"), await(jsonCall));
    assertEquals(new JsonObject().put("from", "proxy"), await(proxyCall));
    assertTrue(received.isEmpty());
  }

  @Test
  void aProxyCallerJoinsAJsonFlightOfTheSameKeyAndGetsTheDownstreamReplyWithoutRunningItsFunction() throws Exception {
    deployService();
    Future<Object> jsonCall = jsonFlight("k", null);
    AtomicInteger runs = new AtomicInteger();
    Future<JsonObject> proxyCall = flights.flight("k", () -> {
      runs.incrementAndGet();
      return new JsonObject().put("from", "proxy");
    });
    barrier();
    assertEquals(1, received.size());
    received.get(0).reply(new JsonObject().put("from", "service"));
    assertEquals(new JsonObject().put("from", "service"), await(proxyCall));
    assertEquals(new JsonObject().put("from", "service"), await(jsonCall));
    assertEquals(0, runs.get());
  }

  @Test
  void aProxyFlightsResultWithoutACodecIs500ForJsonRequesters() throws Exception {
    Gate<Object> gate = new Gate<>(new Object() {
      @Override
      public String toString() {
        return "no codec";
      }
    });
    flights.flight("k", gate);
    Future<Object> jsonCall = jsonFlight("k", null);
    barrier();
    gate.release.countDown();
    assertFailure(500, "cannot be sent: No message codec", failureOf(jsonCall));
  }

  @Test
  void aDownstreamAddressOutsideAllowedAddressesIs403AndNothingIsSent() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setAllowedAddresses(List.of("users\\..*")))));
    AtomicInteger forbiddenHits = new AtomicInteger();
    vertx.eventBus().consumer("admin.service", message -> forbiddenHits.incrementAndGet());
    vertx.eventBus().consumer(SERVICE, message -> message.reply("allowed"));
    vertx.eventBus().consumer("xusers.service", message -> message.reply("must not be reached"));
    assertFailure(403, "admin.service", failureOf(request(new JsonObject().put("key", "k").put("address", "admin.service"), null)));
    assertFailure(403, "xusers.service", failureOf(request(new JsonObject().put("key", "k").put("address", "xusers.service"), null)));
    assertEquals("allowed", await(jsonFlight("k", null)));
    assertEquals(0, forbiddenHits.get());
  }
}
