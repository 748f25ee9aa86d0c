package dev.singleflight;

import dev.singleflight.examples.TracingAndHealth;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SingleFlightHealth}'s procedure, run through vertx-health-check's {@link HealthChecks}. */
class SingleFlightHealthTest extends FlightTestBase {

  private CheckResult check(Duration maxFlightAge) throws Exception {
    return check(SingleFlightOptions.DEFAULT_ADDRESS, maxFlightAge);
  }

  private CheckResult check(String address, Duration maxFlightAge) throws Exception {
    HealthChecks checks = HealthChecks.create(vertx)
      .register("singleflight", SingleFlightHealth.procedure(vertx, address, maxFlightAge, Duration.ofMillis(200)));
    return await(checks.checkStatus("singleflight"));
  }

  private static JsonObject data(CheckResult result) {
    return result.getStatus().getData();
  }

  @Test
  void anIdleVerticleIsUpWithNoFlight() throws Exception {
    CheckResult result = check(Duration.ofSeconds(30));
    assertTrue(result.getUp(), () -> result.toJson().encode());
    assertEquals(0, data(result).getInteger("flights"));
    assertEquals(0L, data(result).getLong("oldestFlightMillis"));
  }

  @Test
  void aVerticleWhoseFlightsAreYoungerThanTheThresholdIsUpAndCountsThem() throws Exception {
    Gate<String> gate = new Gate<>("v");
    Future<String> a = flights.flight("a", gate);
    Future<String> b = flights.flight("b", gate);
    barrier();
    CheckResult result = check(Duration.ofHours(1));
    gate.release.countDown();
    assertTrue(result.getUp(), () -> result.toJson().encode());
    assertEquals(2, data(result).getInteger("flights"));
    assertEquals(3_600_000L, data(result).getLong("maxFlightAgeMillis"));
    await(a);
    await(b);
  }

  /**
   * Without metrics, flights read no clock until the procedure first runs: one that started before
   * counts its age from that first run, so the first run sees it young and a later one old.
   */
  @Test
  void aFlightOlderThanTheThresholdMakesItDownWithTheCountAndTheOldestAge() throws Exception {
    Gate<String> gate = new Gate<>("v");
    Future<String> stuck = flights.flight("stuck", gate);
    barrier();
    CheckResult first = check(Duration.ofHours(1));
    long firstRun = System.nanoTime();
    assertTrue(first.getUp(), () -> first.toJson().encode());
    assertEquals(1, data(first).getInteger("flights"));
    // Only lets the flight grow older than the 1 ms threshold: waiting longer cannot change the outcome.
    while (System.nanoTime() - firstRun < TimeUnit.MILLISECONDS.toNanos(5)) {
      Thread.sleep(5);
    }
    CheckResult result = check(Duration.ofMillis(1));
    gate.release.countDown();
    assertFalse(result.getUp(), () -> result.toJson().encode());
    assertEquals("DOWN", result.toJson().getString("outcome"));
    assertEquals(1, data(result).getInteger("flights"));
    assertTrue(data(result).getLong("oldestFlightMillis") >= 5, () -> data(result).encode());
    await(stuck);
  }

  @Test
  void aFlightStartedAfterTheFirstRunCountsItsAgeFromItsOwnStart() throws Exception {
    check(Duration.ofHours(1));
    Gate<String> gate = new Gate<>("v");
    Future<String> stuck = flights.flight("stuck", gate);
    barrier();
    long started = System.nanoTime();
    while (System.nanoTime() - started < TimeUnit.MILLISECONDS.toNanos(5)) {
      Thread.sleep(5);
    }
    CheckResult result = check(Duration.ofMillis(1));
    gate.release.countDown();
    assertFalse(result.getUp(), () -> result.toJson().encode());
    assertTrue(data(result).getLong("oldestFlightMillis") >= 5, () -> data(result).encode());
    await(stuck);
  }

  @Test
  void aVerticleWhoseEventLoopIsBlockedIsDown() throws Exception {
    CountDownLatch blocking = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    // An async function that blocks (which it must not): the verticle's event loop does nothing else meanwhile.
    Future<String> blocker = flights.flightAsync("blocker", () -> {
      blocking.countDown();
      try {
        awaitLatch(release);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return Future.succeededFuture("done");
    });
    awaitLatch(blocking);
    CheckResult result;
    try {
      result = check(Duration.ofHours(1));
    } finally {
      release.countDown();
    }
    CheckResult down = result;
    assertFalse(down.getUp(), () -> down.toJson().encode());
    assertTrue(data(down).getString("error").contains("did not answer within 200 ms"), () -> data(down).encode());
    assertEquals("done", await(blocker));
  }

  @Test
  void noVerticleAtTheAddressIsDown() throws Exception {
    CheckResult result = check("nobody.here", Duration.ofSeconds(30));
    assertFalse(result.getUp());
    assertTrue(data(result).getString("error").contains("no SingleFlightVerticle is deployed at 'nobody.here'"), () -> data(result).encode());
  }

  @Test
  void anUndeployedVerticleIsDown() throws Exception {
    await(vertx.undeploy(deploymentId));
    assertFalse(check(Duration.ofSeconds(30)).getUp());
  }

  @Test
  void durationsMustBePositive() {
    assertThrows(IllegalArgumentException.class, () -> SingleFlightHealth.procedure(vertx, "a", Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> SingleFlightHealth.procedure(vertx, "a", Duration.ofSeconds(1), Duration.ofMillis(-1)));
    assertThrows(NullPointerException.class, () -> SingleFlightHealth.procedure(vertx, null, Duration.ofSeconds(1)));
  }

  @Test
  void theReadmesRegistrationReportsUp() throws Exception {
    CheckResult result = await(TracingAndHealth.healthChecks(vertx).checkStatus("singleflight"));
    assertTrue(result.getUp(), () -> result.toJson().encode());
    assertEquals(30_000L, data(result).getLong("maxFlightAgeMillis"));
  }
}
