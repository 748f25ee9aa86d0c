package dev.singleflight;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** A caller's timeout fails that caller only. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class TimeoutTest extends FlightTestBase {

  @Test
  void theCallerWhoseTimeoutElapsesFailsWithATimeoutExceptionWhileTheOthersGetTheResult() throws Exception {
    Gate<String> gate = new Gate<>("value");
    Future<String> patient = flights.flight("k", gate);
    Future<String> impatient = flights.flight("k", gate, Duration.ofMillis(50));
    assertInstanceOf(TimeoutException.class, failureOf(impatient));
    assertFalse(patient.isComplete());
    gate.release.countDown();
    assertEquals("value", await(patient));
    assertEquals(1, gate.runs.get());
  }

  @Test
  void aCallerArrivingAfterATimeoutJoinsTheRunningFlight() throws Exception {
    Gate<String> gate = new Gate<>("value");
    Future<String> impatient = flights.flight("k", gate, Duration.ofMillis(20));
    assertInstanceOf(TimeoutException.class, failureOf(impatient));
    Future<String> late = flights.flight("k", gate, Duration.ofSeconds(WAIT_SECONDS));
    barrier();
    gate.release.countDown();
    assertEquals("value", await(late));
    assertEquals(1, gate.runs.get(), "the late caller started a second execution");
  }

  @Test
  void callersWithDifferentTimeoutsEachFailAtTheirOwn() throws Exception {
    Promise<String> outcome = Promise.promise();
    AtomicInteger runs = new AtomicInteger();
    Future<String> shortest = flights.flightAsync("k", () -> {
      runs.incrementAndGet();
      return outcome.future();
    }, Duration.ofMillis(30));
    Future<String> longest = flights.flightAsync("k", outcome::future, Duration.ofSeconds(WAIT_SECONDS));
    Future<String> middle = flights.flightAsync("k", outcome::future, Duration.ofMillis(60));
    assertInstanceOf(TimeoutException.class, failureOf(shortest));
    assertInstanceOf(TimeoutException.class, failureOf(middle));
    assertFalse(longest.isComplete());
    outcome.complete("value");
    assertEquals("value", await(longest));
    assertEquals(1, runs.get());
  }

  @Test
  void aTimeoutThatDoesNotElapseChangesNothing() throws Exception {
    assertEquals("value", await(flights.flight("k", () -> "value", Duration.ofSeconds(WAIT_SECONDS))));
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aCallWithoutATimeoutWaitsPastTheEventBusThirtySecondDefault() throws Exception {
    Future<String> call = flights.flightAsync("k", () -> {
      Promise<String> promise = Promise.promise();
      vertx.setTimer(31_000, id -> promise.complete("after 31 s"));
      return promise.future();
    });
    String value = call.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertEquals("after 31 s", value);
  }
}
