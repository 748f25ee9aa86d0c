package dev.singleflight;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

import static dev.singleflight.JsonProtocolTest.assertFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an adversarial caller sends, on one node: each case once left a caller hanging or a key
 * wedged (issue #12). Every caller must be answered, and the key must be free afterwards.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdversarialTest extends FlightTestBase {

  static final String ADDRESS = SingleFlightOptions.DEFAULT_ADDRESS;
  static final String SERVICE = "echo.service";

  void redeploy(SingleFlightOptions options) throws Exception {
    await(vertx.undeploy(deploymentId));
    deploymentId = await(vertx.deployVerticle(new SingleFlightVerticle(options)));
  }

  Future<Object> json(JsonObject request) {
    return vertx.eventBus().request(ADDRESS, request).map(Message::body);
  }

  static JsonObject flightTo(String key, String address) {
    return new JsonObject().put("key", key).put("address", address);
  }

  /** A service that answers every request with its body. */
  void deployEcho() throws Exception {
    await(vertx.eventBus().consumer(SERVICE, message -> message.reply(message.body())).completion());
  }

  // 1. A result that one waiter cannot receive

  @Test
  void aResultAJsonRequesterCannotReceiveFailsItWith500AndTheOtherCallersStillGetIt() throws Exception {
    Promise<JsonObject> work = Promise.promise();
    Future<JsonObject> leader = flights.flightAsync("k", () -> work.future());
    Future<Object> jsonRequester = json(flightTo("k", SERVICE));
    Future<JsonObject> follower = flights.flightAsync("k", () -> Future.failedFuture("must not run"));
    barrier();
    JsonObject unencodable = new JsonObject().put("when", new Object());
    vertx.runOnContext(v -> work.complete(unencodable));
    assertSame(unencodable, await(leader));
    assertSame(unencodable, await(follower));
    assertFailure(500, "java.lang.Object", failureOf(jsonRequester));
    assertEquals("fresh", await(flights.flight("k", () -> "fresh")));
  }

  // 2. Work that throws while starting

  /** Shareable passes the JSON copy of the request, but no event-bus codec can send it downstream. */
  static final class NoCodec implements Shareable {
  }

  @Test
  void aJsonFlightWhoseBodyCannotBeSentFailsItsCallersAndFreesTheKey() throws Exception {
    deployEcho();
    assertFailure(500, "codec", failureOf(json(flightTo("k", SERVICE).put("body", new NoCodec()))));
    assertEquals("fresh", await(flights.flight("k", () -> "fresh")));
    assertEquals("echoed", await(json(flightTo("k", SERVICE).put("body", "echoed"))));
  }

  @Test
  void aMalformedRequestHoldingAValueThatDoesNotEncodeIs400() throws Exception {
    JsonObject key = new JsonObject().put("inner", new NoCodec());
    assertFailure(400, "key must be a non-empty string", failureOf(json(new JsonObject().put("key", key).put("address", SERVICE))));
  }

  // 3. Flights addressed to the verticle itself

  @Test
  void aJsonFlightToTheVerticlesOwnAddressIs403() throws Exception {
    JsonObject loop = flightTo("x", ADDRESS).put("body", flightTo("x", ADDRESS));
    assertFailure(403, ADDRESS, failureOf(json(loop)));
    assertEquals("fresh", await(flights.flight("x", () -> "fresh")));
  }

  @Test
  void aJsonFlightUnderTheVerticlesAddressIs403EvenWhenAllowedAddressesMatchesIt() throws Exception {
    redeploy(new SingleFlightOptions().setAllowedAddresses(List.of(".*")));
    for (String internal : List.of(ADDRESS, ADDRESS + ".instance-0", ADDRESS + ".node.abc", ADDRESS + ".anything",
      "__singleflight.internal." + ADDRESS + ".node.abc", "__singleflight.internal.other.flight.node.abc")) {
      assertFailure(403, internal, failureOf(json(flightTo("x", internal))));
    }
  }

  @Test
  void aJsonFlightUnderTheAddressOfASeveralInstanceDeploymentIs403() throws Exception {
    await(vertx.undeploy(deploymentId));
    deploymentId = await(vertx.deployVerticle(SingleFlightVerticle.class, new DeploymentOptions().setInstances(2)));
    for (int i = 0; i < 2; i++) {
      String internal = ADDRESS + ".instance-" + i;
      assertFailure(403, internal, failureOf(json(flightTo("x", internal).put("body", flightTo("x", internal)))));
    }
    assertEquals("fresh", await(flights.flight("x", () -> "fresh")));
  }

  @Test
  void aLoopThroughAnotherVerticleBackToTheSameFlightIs508() throws Exception {
    String other = "other.flight";
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setAddress(other))));
    deployEcho();
    // Here (key x) -> other (key x) -> here (key x): the third request would join the flight that waits for it.
    JsonObject loop = flightTo("x", other).put("body", flightTo("x", ADDRESS).put("body", flightTo("x", SERVICE)));
    assertFailure(508, "x", failureOf(json(loop)));
    assertEquals("fresh", await(flights.flight("x", () -> "fresh")));
  }

  @Test
  void aChainThroughAnotherVerticleForOtherKeysIsServed() throws Exception {
    deployEcho();
    String other = "other.flight";
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setAddress(other))));
    // Here (key a) -> other (key b) -> echo: no flight is entered twice.
    JsonObject chain = flightTo("a", other).put("body", flightTo("b", SERVICE).put("body", "through"));
    assertEquals("through", await(json(chain)));
  }

  @Test
  void aSecondDeploymentAtTheSameAddressFailsAndTheFirstStillServes() throws Exception {
    Throwable failure = failureOf(vertx.deployVerticle(new SingleFlightVerticle()));
    assertInstanceOf(IllegalStateException.class, failure);
    assertTrue(failure.getMessage().contains(ADDRESS), failure.getMessage());
    assertEquals("served", await(flights.flight("k", () -> "served")));
  }

  /**
   * Each request gets an answer at once: 503 (the verticle stops), NO_HANDLERS (it is gone), or, for a request that
   * reached the consumer in the instant it unregistered, Vert.x's "Discarded the request" (the README's documented
   * race; Vert.x offers no public way to answer those): never a wait for the request's own timeout.
   */
  @Test
  void jsonRequestsRacingAnUndeployAreEachAnsweredAtOnce() throws Exception {
    await(vertx.eventBus().consumer("silent.service", message -> { }).completion());
    // Vert.x warns of each request it discards, which this test provokes: lowered for this test only.
    Logger discards = Logger.getLogger("io.vertx.core.eventbus.impl.MessageConsumerImpl");
    Level level = discards.getLevel();
    discards.setLevel(Level.SEVERE);
    try {
      Future<Void> undeployed = vertx.undeploy(deploymentId);
      List<Future<Object>> requests = new ArrayList<>();
      // Fewer than the consumer buffers (1 000): past that, Vert.x itself discards a burst.
      for (int i = 0; i < 500; i++) {
        requests.add(json(flightTo("k" + (i % 5), "silent.service")));
      }
      for (Future<Object> request : requests) {
        ReplyException failure = assertInstanceOf(ReplyException.class, failureOf(request));
        boolean discarded = failure.failureType() == ReplyFailure.TIMEOUT && failure.getMessage().startsWith("Discarded the request");
        assertTrue(failure.failureType() == ReplyFailure.NO_HANDLERS || failure.failureCode() == 503 || discarded, failure::toString);
      }
      await(undeployed);
    } finally {
      discards.setLevel(level);
    }
  }

  // 4. Timed-out callers

  @Test
  void aCallerWhoseTimeoutElapsedIsNotKeptByItsFlight() throws Exception {
    Gate<String> stuck = new Gate<>("late");
    Future<String> leader = flights.flight("k", stuck);
    List<WeakReference<Future<String>>> left = new ArrayList<>();
    List<Future<String>> timedOut = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      Future<String> caller = flights.flight("k", stuck, Duration.ofMillis(1));
      left.add(new WeakReference<>(caller));
      timedOut.add(caller);
    }
    for (Future<String> caller : timedOut) {
      assertInstanceOf(TimeoutException.class, failureOf(caller));
    }
    // One more caller joins: the flight drops the callers that left by the time it has many more of them.
    timedOut.clear();
    for (int i = 0; i < 400; i++) {
      failureOf(flights.flight("k", stuck, Duration.ofMillis(1)));
    }
    int kept = 0;
    for (int attempt = 0; attempt < 20; attempt++) {
      System.gc();
      kept = (int) left.stream().filter(ref -> ref.get() != null).count();
      if (kept == 0) {
        break;
      }
    }
    assertEquals(0, kept, "callers that left are still referenced");
    stuck.release.countDown();
    assertEquals("late", await(leader));
    assertEquals(1, stuck.runs.get());
  }

  @Test
  void aCallersTimeoutIsATimeoutExceptionNamingTheKeyWithoutAStackTrace() throws Exception {
    Gate<String> stuck = new Gate<>("late");
    Future<String> leader = flights.flight("k", stuck);
    Throwable failure = failureOf(flights.flight("k", stuck, Duration.ofMillis(1)));
    assertInstanceOf(TimeoutException.class, failure);
    assertEquals("k", assertInstanceOf(CallerTimeoutException.class, failure).getKey());
    assertEquals(0, failure.getStackTrace().length, "a caller's timeout carries no stack trace");
    stuck.release.countDown();
    assertEquals("late", await(leader));
  }

  // 5. maxInFlight counts forgotten flights

  @Test
  void maxInFlightCountsAForgottenProxyFlightStillRunning() throws Exception {
    redeploy(new SingleFlightOptions().setMaxInFlight(1));
    Gate<String> first = new Gate<>("first");
    Future<String> running = flights.flight("k", first);
    await(flights.forget("k"));
    assertInstanceOf(RejectedExecutionException.class, failureOf(flights.flight("k", () -> "second")));
    assertInstanceOf(RejectedExecutionException.class, failureOf(flights.flight("other", () -> "other")));
    first.release.countDown();
    assertEquals("first", await(running));
    assertEquals(1, first.runs.get());
    assertEquals("again", await(flights.flight("k", () -> "again")));
  }

  @Test
  void maxInFlightCountsForgottenJsonFlightsSoASilentServiceGetsOneRequestAtATime() throws Exception {
    redeploy(new SingleFlightOptions().setMaxInFlight(1));
    List<Message<Object>> held = new CopyOnWriteArrayList<>();
    await(vertx.eventBus().consumer("silent.service", message -> {
      if (message.headers().contains("probe")) {
        message.reply(null);
      } else {
        held.add(message);
      }
    }).completion());
    Future<Object> first = json(flightTo("k", "silent.service"));
    for (int i = 0; i < 20; i++) {
      await(vertx.eventBus().request(ADDRESS, new JsonObject().put("key", "k"), new DeliveryOptions().addHeader("action", "forget")));
      assertFailure(503, "maxInFlight", failureOf(json(flightTo("k", "silent.service"))));
    }
    // The service handles the probe after every request the verticle sent it before.
    await(vertx.eventBus().request("silent.service", null, new DeliveryOptions().addHeader("probe", "true")));
    assertEquals(1, held.size());
    held.get(0).reply("answered");
    assertEquals("answered", await(first));
  }

  // 8. Timeouts at the edges of long

  @ParameterizedTest
  @ValueSource(strings = {"1e19", "9223372036854775807", "9.2e18", "4294967297", "1.0E308"})
  void aHugeJsonTimeoutIsClampedAndTheRequesterIsAnswered(String timeout) throws Exception {
    deployEcho();
    JsonObject request = new JsonObject("{\"key\":\"k\",\"address\":\"" + SERVICE + "\",\"body\":\"value\",\"timeout\":" + timeout + "}");
    assertEquals("value", await(json(request)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-1", "-9223372036854775808", "-1e19", "0.5", "\"100\"", "true", "[]"})
  void aJsonTimeoutThatIsNotAPositiveWholeNumberIs400(String timeout) throws Exception {
    JsonObject request = new JsonObject("{\"key\":\"k\",\"address\":\"" + SERVICE + "\",\"timeout\":" + timeout + "}");
    assertFailure(400, "timeout", failureOf(json(request)));
  }

  @Test
  void maxTimeoutCapsTheDownstreamTimeoutARequesterAsksFor() throws Exception {
    redeploy(new SingleFlightOptions().setMaxTimeout(50));
    await(vertx.eventBus().consumer("silent.service", message -> { }).completion());
    assertFailure(504, "", failureOf(json(flightTo("k", "silent.service").put("timeout", Long.MAX_VALUE))));
  }

  @Test
  void aCallerTimeoutAtTheEdgeOfLongWaitsForTheFlight() throws Exception {
    Gate<String> gate = new Gate<>("value");
    List<Future<String>> callers = List.of(
      flights.flight("k", gate, Duration.ofMillis(Long.MAX_VALUE)),
      flights.flight("k", gate, Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)),
      flights.flightAsync("k", () -> Future.succeededFuture("other"), Duration.ofNanos(Long.MAX_VALUE)));
    barrier();
    gate.release.countDown();
    for (Future<String> caller : callers) {
      assertEquals("value", await(caller));
    }
  }

  @Test
  void maxFlightTimeAtTheEdgeOfLongNeverFires() throws Exception {
    redeploy(new SingleFlightOptions().setMaxFlightTime(Long.MAX_VALUE));
    Gate<String> gate = new Gate<>("value");
    Future<String> caller = flights.flight("k", gate);
    barrier();
    gate.release.countDown();
    assertEquals("value", await(caller));
  }
}
