package dev.singleflight;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.singleflight.JsonProtocolTest.assertFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The limits of SingleFlightOptions, each as a caller meets it. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LimitsTest extends FlightTestBase {

  void redeploy(SingleFlightOptions options) throws Exception {
    await(vertx.undeploy(deploymentId));
    deploymentId = await(vertx.deployVerticle(new SingleFlightVerticle(options)));
  }

  Future<Object> jsonFlight(String key, String address) {
    return vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS,
      new JsonObject().put("key", key).put("address", address), new DeliveryOptions()).map(Message::body);
  }

  // maxFlightTime

  @Test
  void aFlightRunningLongerThanMaxFlightTimeFailsAllItsCallersAndFreesTheKey() throws Exception {
    // Long enough for the second call to join the first flight on a loaded machine: it fails the test only by running twice.
    redeploy(new SingleFlightOptions().setMaxFlightTime(1_000));
    Gate<String> slow = new Gate<>("late");
    Future<String> first = flights.flight("k", slow);
    Future<String> second = flights.flight("k", slow);
    assertInstanceOf(TimeoutException.class, failureOf(first));
    assertInstanceOf(TimeoutException.class, failureOf(second));
    assertEquals("fresh", await(flights.flight("k", () -> "fresh")));
    slow.release.countDown();
    assertEquals(1, slow.runs.get());
  }

  @Test
  void aResultArrivingAfterMaxFlightTimeReachesNobodyNotEvenTheKeysNextFlight() throws Exception {
    // Long enough for the next flight to run its course in a few event-bus round trips.
    redeploy(new SingleFlightOptions().setMaxFlightTime(2_000));
    Promise<String> late = Promise.promise();
    Future<String> timedOut = flights.flightAsync("k", late::future);
    assertInstanceOf(TimeoutException.class, failureOf(timedOut));
    Promise<String> current = Promise.promise();
    Future<String> next = flights.flightAsync("k", current::future);
    barrier();
    // Its listener runs on this thread and hands it to the verticle's event loop, ahead of the barrier.
    late.complete("late");
    barrier();
    AtomicInteger thirdRuns = new AtomicInteger();
    Future<String> joiner = flights.flightAsync("k", () -> {
      thirdRuns.incrementAndGet();
      return Future.succeededFuture("third");
    });
    barrier();
    current.complete("fresh");
    assertEquals("fresh", await(next));
    assertEquals("fresh", await(joiner));
    assertEquals(0, thirdRuns.get(), "the late result ended the key's next flight");
  }

  @Test
  void aJsonFlightRunningLongerThanMaxFlightTimeIs504() throws Exception {
    redeploy(new SingleFlightOptions().setMaxFlightTime(50));
    vertx.eventBus().consumer("silent.service", message -> { });
    assertFailure(504, "maxFlightTime", failureOf(jsonFlight("k", "silent.service")));
  }

  @Test
  void aFlightWithinMaxFlightTimeIsUntouched() throws Exception {
    redeploy(new SingleFlightOptions().setMaxFlightTime(10_000));
    assertEquals("value", await(flights.flight("k", () -> "value")));
  }

  // cancelAbandoned

  @Test
  void byDefaultACallerArrivingAfterEveryoneLeftJoinsTheRunningFlight() throws Exception {
    Gate<String> gate = new Gate<>("value");
    assertInstanceOf(TimeoutException.class, failureOf(flights.flight("k", gate, Duration.ofMillis(20))));
    Future<String> late = flights.flight("k", gate);
    barrier();
    gate.release.countDown();
    assertEquals("value", await(late));
    assertEquals(1, gate.runs.get());
  }

  @Test
  void anAbandonedFlightIsCancelledItsThreadInterruptedAndNeverJoined() throws Exception {
    redeploy(new SingleFlightOptions().setCancelAbandoned(true));
    CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
    CountDownLatch started = new CountDownLatch(1);
    Future<String> abandoned = flights.flight("k", () -> {
      started.countDown();
      try {
        new CountDownLatch(1).await(WAIT_SECONDS, TimeUnit.SECONDS);
        interrupted.complete(false);
      } catch (InterruptedException e) {
        interrupted.complete(true);
      }
      return "from the cancelled flight";
    }, Duration.ofMillis(50));
    awaitLatch(started);
    assertInstanceOf(TimeoutException.class, failureOf(abandoned));
    assertTrue(interrupted.get(WAIT_SECONDS, TimeUnit.SECONDS), "the blocking function was not interrupted");
    AtomicInteger freshRuns = new AtomicInteger();
    assertEquals("fresh", await(flights.flight("k", () -> {
      freshRuns.incrementAndGet();
      return "fresh";
    })));
    assertEquals(1, freshRuns.get());
  }

  @Test
  void aCallerArrivingRightAfterCancellationStartsAfreshEvenWhileTheOldFunctionRuns() throws Exception {
    redeploy(new SingleFlightOptions().setCancelAbandoned(true));
    Promise<String> never = Promise.promise();
    assertInstanceOf(TimeoutException.class, failureOf(flights.flightAsync("k", never::future, Duration.ofMillis(20))));
    assertEquals("fresh", await(flights.flightAsync("k", () -> Future.succeededFuture("fresh"))));
    never.complete("too late");
  }

  @Test
  void aFlightWithOneCallerLeftIsNotCancelled() throws Exception {
    redeploy(new SingleFlightOptions().setCancelAbandoned(true));
    Gate<String> gate = new Gate<>("value");
    Future<String> patient = flights.flight("k", gate);
    assertInstanceOf(TimeoutException.class, failureOf(flights.flight("k", gate, Duration.ofMillis(20))));
    Future<String> joiner = flights.flight("k", gate);
    barrier();
    gate.release.countDown();
    assertEquals("value", await(patient));
    assertEquals("value", await(joiner));
    assertEquals(1, gate.runs.get());
  }

  // maxInFlight and maxWaiters

  @Test
  void beyondMaxInFlightANewKeyIsRejectedAtOnceWhileRunningKeysCanBeJoined() throws Exception {
    redeploy(new SingleFlightOptions().setMaxInFlight(2));
    Gate<String> gate = new Gate<>("value");
    Future<String> a = flights.flight("a", gate);
    Future<String> b = flights.flight("b", gate);
    assertInstanceOf(RejectedExecutionException.class, failureOf(flights.flight("c", gate)));
    Future<String> joiner = flights.flight("a", gate);
    barrier();
    gate.release.countDown();
    assertEquals("value", await(a));
    assertEquals("value", await(b));
    assertEquals("value", await(joiner));
    assertEquals("value", await(flights.flight("c", () -> "value")));
  }

  @Test
  void beyondMaxInFlightAJsonFlightIs503() throws Exception {
    redeploy(new SingleFlightOptions().setMaxInFlight(1));
    Gate<String> gate = new Gate<>("value");
    Future<String> running = flights.flight("a", gate);
    assertFailure(503, "maxInFlight", failureOf(jsonFlight("b", "any.service")));
    gate.release.countDown();
    await(running);
  }

  @Test
  void beyondMaxWaitersACallerIsRejectedAtOnceWhileTheAdmittedOnesGetTheResult() throws Exception {
    redeploy(new SingleFlightOptions().setMaxWaiters(3));
    Gate<String> gate = new Gate<>("value");
    List<Future<String>> admitted = List.of(flights.flight("k", gate), flights.flight("k", gate), flights.flight("k", gate));
    Throwable rejected = failureOf(flights.flight("k", gate));
    assertInstanceOf(RejectedExecutionException.class, rejected);
    assertTrue(rejected.getMessage().contains("maxWaiters"), rejected.getMessage());
    assertFailure(503, "maxWaiters", failureOf(jsonFlight("k", "any.service")));
    gate.release.countDown();
    for (Future<String> call : admitted) {
      assertEquals("value", await(call));
    }
    assertEquals(1, gate.runs.get());
  }

  @Test
  void maxWaitersIsCountedPerKeySoAFullKeyDoesNotRefuseCallersOfAnother() throws Exception {
    redeploy(new SingleFlightOptions().setMaxWaiters(2));
    Gate<String> fullGate = new Gate<>("full");
    List<Future<String>> full = List.of(flights.flight("full", fullGate), flights.flight("full", fullGate));
    assertInstanceOf(RejectedExecutionException.class, failureOf(flights.flight("full", fullGate)));
    Gate<String> otherGate = new Gate<>("other");
    List<Future<String>> other = List.of(flights.flight("other", otherGate), flights.flight("other", otherGate));
    assertInstanceOf(RejectedExecutionException.class, failureOf(flights.flight("other", otherGate)));
    otherGate.release.countDown();
    for (Future<String> call : other) {
      assertEquals("other", await(call));
    }
    fullGate.release.countDown();
    for (Future<String> call : full) {
      assertEquals("full", await(call));
    }
  }

  // maxKeyLength

  @Test
  void keysLongerThanTheDefault4096CharsAreRefused() throws Exception {
    assertEquals("ok", await(flights.flight("k".repeat(4096), () -> "ok")));
    assertInstanceOf(IllegalArgumentException.class, failureOf(flights.flight("k".repeat(4097), () -> "never")));
  }

  @Test
  void aJsonFlightWithAKeyLongerThanMaxKeyLengthIs400() throws Exception {
    redeploy(new SingleFlightOptions().setMaxKeyLength(8));
    AtomicInteger reached = new AtomicInteger();
    vertx.eventBus().consumer("any.service", message -> reached.incrementAndGet());
    assertFailure(400, "maxKeyLength", failureOf(jsonFlight("123456789", "any.service")));
    assertEquals(0, reached.get());
  }

  // workerPoolName and workerPoolSize

  @Test
  void blockingFunctionsRunOnTheDedicatedPoolAndCannotStarveTheApplicationsBlockingWork() throws Exception {
    redeploy(new SingleFlightOptions().setWorkerPoolName("user-lookups").setWorkerPoolSize(2));
    Gate<String> gate = new Gate<>("value");
    CountDownLatch bothRunning = new CountDownLatch(2);
    Future<String> a = flights.flight("a", () -> {
      bothRunning.countDown();
      return gate.call() + " on " + Thread.currentThread().getName();
    });
    Future<String> b = flights.flight("b", () -> {
      bothRunning.countDown();
      return gate.call();
    });
    Future<String> queued = flights.flight("c", () -> "queued");
    awaitLatch(bothRunning);
    assertFalse(queued.isComplete());
    assertEquals("own work", await(vertx.executeBlocking(() -> "own work", false)));
    gate.release.countDown();
    assertTrue(await(a).startsWith("value on user-lookups"), a.result());
    assertEquals("value", await(b));
    assertEquals("queued", await(queued));
  }
}
