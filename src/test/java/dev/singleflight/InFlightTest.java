package dev.singleflight;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SingleFlight#inFlight()} and the JSON {@code inflight} action: what an operator sees. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InFlightTest extends FlightTestBase {

  Future<JsonObject> jsonInFlight() {
    return vertx.eventBus().<JsonObject>request(SingleFlightOptions.DEFAULT_ADDRESS, null,
      new DeliveryOptions().addHeader("action", "inflight")).map(Message::body);
  }

  @Test
  void theKeysOfRunningFlightsAreInFlightUntilTheyEnd() throws Exception {
    assertEquals(Set.of(), await(flights.inFlight()));
    Promise<String> a = Promise.promise();
    Promise<String> b = Promise.promise();
    Future<String> callerA = flights.flightAsync("a", a::future);
    Future<String> callerB = flights.flightAsync("b", b::future);
    assertEquals(Set.of("a", "b"), await(flights.inFlight()));
    assertEquals(new JsonObject().put("keys", new JsonArray().add("a").add("b")).put("total", 2).put("truncated", false),
      sortedKeys(await(jsonInFlight())));
    a.complete("done");
    await(callerA);
    assertEquals(Set.of("b"), await(flights.inFlight()));
    b.complete("done");
    await(callerB);
    assertEquals(Set.of(), await(flights.inFlight()));
  }

  @Test
  void aForgottenFlightIsNotInFlightWhileItStillRuns() throws Exception {
    Promise<String> forgotten = Promise.promise();
    Future<String> caller = flights.flightAsync("k", forgotten::future);
    await(flights.forget("k"));
    assertEquals(Set.of(), await(flights.inFlight()));
    assertEquals(0, await(jsonInFlight()).getJsonArray("keys").size());
    forgotten.complete("still served");
    assertEquals("still served", await(caller));
  }

  @Test
  void theJsonAnswerListsAtMostAThousandKeysAndTellsTheTotal() throws Exception {
    for (int i = 0; i < 1_005; i++) {
      flights.flightAsync("key" + i, () -> Promise.<String>promise().future());
    }
    JsonObject answer = await(jsonInFlight());
    assertEquals(1_000, answer.getJsonArray("keys").size());
    assertEquals(1_005, answer.getInteger("total"));
    assertTrue(answer.getBoolean("truncated"));
    assertEquals(1_000, new HashSet<>(answer.getJsonArray("keys").getList()).size());
    assertEquals(1_005, await(flights.inFlight()).size(), "the proxy's answer is not capped");
  }

  @Test
  void theKeysOfEveryInstanceAreListed() throws Exception {
    await(vertx.undeploy(deploymentId));
    deploymentId = await(vertx.deployVerticle(SingleFlightVerticle.class, new DeploymentOptions().setInstances(4)));
    Set<String> keys = new HashSet<>();
    for (int i = 0; i < 32; i++) {
      keys.add("key" + i);
      flights.flightAsync("key" + i, () -> Promise.<String>promise().future());
    }
    assertEquals(keys, await(flights.inFlight()));
    for (int i = 0; i < 4; i++) {
      // The event bus hands each request to another instance: each answers for all.
      assertEquals(32, await(jsonInFlight()).getJsonArray("keys").size());
    }
  }

  @Test
  void withoutAVerticleInFlightFailsWithNoHandlers() throws Exception {
    Throwable failure = failureOf(SingleFlight.createProxy(vertx, "nowhere").inFlight());
    assertEquals(ReplyFailure.NO_HANDLERS, assertInstanceOf(ReplyException.class, failure).failureType());
  }

  @Test
  void afterUndeployInFlightFails() throws Exception {
    await(vertx.undeploy(deploymentId));
    assertFalse(failureOf(flights.inFlight()).getMessage().isEmpty());
  }

  /** @return {@code answer} with its keys sorted, for comparison */
  static JsonObject sortedKeys(JsonObject answer) {
    JsonArray sorted = new JsonArray(answer.getJsonArray("keys").stream().map(String.class::cast).sorted().map(Object.class::cast).toList());
    return answer.copy().put("keys", sorted);
  }
}
