package dev.singleflight;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The semantics of the core issue, one behaviour per test. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SingleFlightTest extends FlightTestBase {

  private List<Future<Object>> callMany(String key, Callable<Object> fn, int count) {
    List<Future<Object>> calls = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      calls.add(flights.flight(key, fn));
    }
    return calls;
  }

  // 1. One execution, the same result instance, the same failure instance.

  @Test
  void concurrentCallersOfOneKeyShareOneExecutionAndTheSameResultInstance() throws Exception {
    JsonObject user = new JsonObject().put("id", 123);
    Gate<Object> gate = new Gate<>(user);
    List<Future<Object>> calls = callMany("user:123", gate, 100);
    barrier();
    gate.release.countDown();
    for (Future<Object> call : calls) {
      assertSame(user, await(call));
    }
    assertEquals(1, gate.runs.get());
  }

  @Test
  void everyCallerGetsTheSameCheckedExceptionInstance() throws Exception {
    assertEveryCallerGetsTheSameThrowable(new IOException("database down"));
  }

  @Test
  void everyCallerGetsTheSameErrorInstanceUnwrapped() throws Exception {
    assertEveryCallerGetsTheSameThrowable(new StackOverflowError("too deep"));
  }

  private void assertEveryCallerGetsTheSameThrowable(Throwable thrown) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    Callable<Object> fn = () -> {
      runs.incrementAndGet();
      awaitLatch(release);
      if (thrown instanceof Error error) {
        throw error;
      }
      throw (Exception) thrown;
    };
    List<Future<Object>> calls = callMany("k", fn, 10);
    barrier();
    release.countDown();
    for (Future<Object> call : calls) {
      assertSame(thrown, failureOf(call));
    }
    assertEquals(1, runs.get());
  }

  @Test
  void aCallSentBeforeTheFunctionReturnedJoinsItEvenWhenTheFunctionEndsAtOnce() throws Exception {
    for (int i = 0; i < 500; i++) {
      Gate<Integer> gate = new Gate<>(i);
      String key = "k" + i;
      Future<Integer> first = flights.flight(key, gate);
      Future<Integer> second = flights.flight(key, gate);
      // No barrier: the function may end before the verticle has seen the second call.
      gate.release.countDown();
      assertEquals(i, await(first));
      assertEquals(i, await(second));
      assertEquals(1, gate.runs.get(), "round " + i);
    }
  }

  // 2. Nothing is cached.

  @Test
  void aCompletedFlightFreesTheKeySoTheNextCallRunsAgain() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    assertEquals(1, await(flights.flight("k", runs::incrementAndGet)));
    assertEquals(2, await(flights.flight("k", runs::incrementAndGet)));
  }

  @Test
  void aFailedFlightIsNotCachedEither() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    Callable<Integer> failing = () -> {
      throw new IOException("failure " + runs.incrementAndGet());
    };
    assertEquals("failure 1", failureOf(flights.flight("k", failing)).getMessage());
    assertEquals("failure 2", failureOf(flights.flight("k", failing)).getMessage());
  }

  // 3. Keys do not wait for each other.

  @Test
  void blockingFunctionsOfDistinctKeysRunInParallel() throws Exception {
    int keys = 8;
    CountDownLatch allRunning = new CountDownLatch(keys);
    List<Future<Boolean>> calls = new ArrayList<>();
    for (int i = 0; i < keys; i++) {
      calls.add(flights.flight("key-" + i, () -> {
        allRunning.countDown();
        // Only true when all eight run at the same time; serialised they would each time out.
        return allRunning.await(WAIT_SECONDS, TimeUnit.SECONDS);
      }));
    }
    for (Future<Boolean> call : calls) {
      assertTrue(await(call), "a key's function waited for another key's");
    }
  }

  @Test
  void eightKeysOfFourHundredMillisecondsFinishTogether() throws Exception {
    long start = System.nanoTime();
    List<Future<String>> calls = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      String key = "key-" + i;
      calls.add(flights.flight(key, () -> {
        Thread.sleep(400);
        return key;
      }));
    }
    for (int i = 0; i < 8; i++) {
      assertEquals("key-" + i, await(calls.get(i)));
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    // Serialised they could not take less than 3.2 s; parallelism itself is proven without a clock above.
    assertTrue(millis < 3_200, "took " + millis + " ms");
  }

  @Test
  void anAsyncKeyCompletesWhileABlockingKeyIsStillRunning() throws Exception {
    Gate<String> slow = new Gate<>("slow");
    Future<String> slowCall = flights.flight("slow", slow);
    assertEquals("fast", await(flights.flightAsync("fast", () -> Future.succeededFuture("fast"))));
    assertFalse(slowCall.isComplete());
    slow.release.countDown();
    assertEquals("slow", await(slowCall));
  }

  // 4. Threads.

  @Test
  void blockingFunctionsRunOnWorkerThreadsNeverOnAnEventLoop() throws Exception {
    assertTrue(await(flights.flight("k", () -> Context.isOnWorkerThread() && !Context.isOnEventLoopThread())));
  }

  @Test
  void asyncFunctionsRunOnTheVerticlesEventLoop() throws Exception {
    String ranIn = await(flights.flightAsync("k", () -> {
      assertTrue(Context.isOnEventLoopThread());
      return Future.succeededFuture(Vertx.currentContext().deploymentID());
    }));
    assertEquals(deploymentId, ranIn);
  }

  @Test
  void aBlockingCallerAndAnAsyncCallerOfOneKeyShareOneFlight() throws Exception {
    Gate<Object> gate = new Gate<>("from the blocking function");
    AtomicInteger asyncRuns = new AtomicInteger();
    Future<Object> blocking = flights.flight("k", gate);
    Future<Object> async = flights.flightAsync("k", () -> {
      asyncRuns.incrementAndGet();
      return Future.succeededFuture("from the async function");
    });
    barrier();
    gate.release.countDown();
    assertEquals("from the blocking function", await(blocking));
    assertEquals("from the blocking function", await(async));
    assertEquals(0, asyncRuns.get());
  }

  // 5. null results and broken async functions.

  @Test
  void nullIsAValidResultForEveryCaller() throws Exception {
    Gate<Object> gate = new Gate<>(null);
    List<Future<Object>> calls = callMany("k", gate, 5);
    barrier();
    gate.release.countDown();
    for (Future<Object> call : calls) {
      assertNull(await(call));
      assertTrue(call.succeeded());
    }
  }

  @Test
  void anAsyncFunctionThatThrowsFailsAllItsCallers() throws Exception {
    IllegalStateException thrown = new IllegalStateException("broken supplier");
    Future<Object> first = flights.flightAsync("k", () -> {
      throw thrown;
    });
    assertSame(thrown, failureOf(first));
    // The key is free again: the failure did not leave the flight behind.
    assertEquals("next", await(flights.flightAsync("k", () -> Future.succeededFuture("next"))));
  }

  @Test
  void anAsyncFunctionThatReturnsNullFailsItsCallersInsteadOfHangingThem() throws Exception {
    Throwable failure = failureOf(flights.flightAsync("k", () -> null));
    assertInstanceOf(NullPointerException.class, failure);
    assertTrue(failure.getMessage().contains("returned null instead of a Future"), failure.getMessage());
    assertEquals("next", await(flights.flightAsync("k", () -> Future.succeededFuture("next"))));
  }

  @Test
  void anAsyncFunctionsFailedFutureFailsEveryCallerThatJoined() throws Exception {
    Promise<Object> outcome = Promise.promise();
    IOException thrown = new IOException("remote failed");
    Future<Object> leader = flights.flightAsync("k", outcome::future);
    Future<Object> follower = flights.flight("k", () -> "unused");
    barrier();
    outcome.fail(thrown);
    assertSame(thrown, failureOf(leader));
    assertSame(thrown, failureOf(follower));
  }
}
