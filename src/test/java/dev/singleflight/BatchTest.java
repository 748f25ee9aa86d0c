package dev.singleflight;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batch flights: semantics 1 to 4 of the issue, on one verticle instance. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BatchTest extends FlightTestBase {

  /** An asynchronous loader that records each call's keys and completes it only when told. */
  static final class Loads implements BatchLoader<String> {
    final List<Set<String>> calls = new CopyOnWriteArrayList<>();
    final List<Promise<Map<String, String>>> pending = new CopyOnWriteArrayList<>();

    @Override
    public Future<Map<String, String>> load(Set<String> keys) {
      calls.add(new TreeSet<>(keys));
      Promise<Map<String, String>> promise = Promise.promise();
      pending.add(promise);
      return promise.future();
    }

    /** Completes call {@code i} with "v:" + key for each of its keys. */
    void answer(int i) {
      pending.get(i).complete(calls.get(i).stream().collect(Collectors.toMap(key -> key, key -> "v:" + key)));
    }
  }

  /** A loader that answers "v:" + key for each key at once, and counts its calls. */
  static final class Instant implements BatchLoader<String> {
    final List<Set<String>> calls = new CopyOnWriteArrayList<>();

    @Override
    public Future<Map<String, String>> load(Set<String> keys) {
      calls.add(Set.copyOf(keys));
      return Future.succeededFuture(keys.stream().collect(Collectors.toMap(key -> key, key -> "v:" + key)));
    }
  }

  static BatchOptions options(int maxBatchSize, long maxDelay) {
    return new BatchOptions().setMaxBatchSize(maxBatchSize).setMaxDelay(maxDelay);
  }

  /** Waits until {@code loads} was called {@code calls} times; the calls reach it on the verticle's event loop. */
  static void awaitCalls(Loads loads, int calls) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (loads.calls.size() < calls) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("the loader was called " + loads.calls.size() + " times, not " + calls);
      }
      Thread.sleep(5);
    }
  }

  // 1. A call for a key in flight joins it.

  @Test
  void aCallForAKeyInABatchBeingLoadedJoinsItAndTheKeyIsLoadedOnce() throws Exception {
    Loads loads = new Loads();
    Batch<String> users = flights.batchAsync("users", loads, new BatchOptions());
    Future<String> first = users.get("1");
    awaitCalls(loads, 1);
    Future<String> second = users.get("1");
    barrier();
    loads.answer(0);
    assertEquals("v:1", await(first));
    assertSame(await(first), await(second));
    assertEquals(List.of(Set.of("1")), loads.calls);
  }

  @Test
  void aCallForAKeyInAnOpenBatchJoinsItAndTakesNoPlaceInTheBatch() throws Exception {
    Instant loader = new Instant();
    Batch<String> users = flights.batchAsync("users", loader, options(2, 60_000));
    Future<String> first = users.get("1");
    Future<String> second = users.get("1");
    Future<String> other = users.get("2");
    assertEquals("v:1", await(first));
    assertSame(await(first), await(second));
    assertEquals("v:2", await(other));
    assertEquals(List.of(Set.of("1", "2")), loader.calls, "the second call of key 1 did not fill the batch");
  }

  @Test
  void aBatchCallForAKeyInAPlainFlightJoinsThatFlight() throws Exception {
    Loads loads = new Loads();
    Promise<String> plain = Promise.promise();
    Future<String> flightCaller = flights.flightAsync("1", () -> plain.future());
    Future<String> batchCaller = flights.batchAsync("users", loads, new BatchOptions()).get("1");
    barrier();
    plain.complete("from the flight");
    assertEquals("from the flight", await(batchCaller));
    assertEquals("from the flight", await(flightCaller));
    assertTrue(loads.calls.isEmpty(), "the loader never ran");
  }

  @Test
  void aPlainFlightOfAKeyInABatchJoinsTheBatch() throws Exception {
    Loads loads = new Loads();
    Future<String> batchCaller = flights.batchAsync("users", loads, new BatchOptions()).get("1");
    awaitCalls(loads, 1);
    AtomicInteger runs = new AtomicInteger();
    Future<String> flightCaller = flights.flightAsync("1", () -> {
      runs.incrementAndGet();
      return Future.succeededFuture("from the function");
    });
    barrier();
    loads.answer(0);
    assertEquals("v:1", await(flightCaller));
    assertEquals("v:1", await(batchCaller));
    assertEquals(0, runs.get());
  }

  // 2. When a batch is loaded.

  @Test
  void athousandDistinctIdsWithinMaxDelayMakeExactlyTenLoaderCalls() throws Exception {
    Instant loader = new Instant();
    Batch<String> users = flights.batchAsync("users", loader, options(100, 500));
    List<Future<String>> values = new ArrayList<>();
    for (int id = 0; id < 1000; id++) {
      values.add(users.get(String.valueOf(id)));
    }
    for (int id = 0; id < 1000; id++) {
      assertEquals("v:" + id, await(values.get(id)));
    }
    assertEquals(10, loader.calls.size());
    assertEquals(1000, loader.calls.stream().mapToInt(Set::size).sum());
    assertTrue(loader.calls.stream().allMatch(keys -> keys.size() == 100));
  }

  @Test
  void fiveHundredDistinctIdsAskedTwiceMakeFiveLoaderCalls() throws Exception {
    // The loads end only once every call was made: the second asks find their keys in flight.
    Loads loads = new Loads();
    Batch<String> users = flights.batchAsync("users", loads, options(100, 500));
    List<Future<String>> values = new ArrayList<>();
    for (int round = 0; round < 2; round++) {
      for (int id = 0; id < 500; id++) {
        values.add(users.get(String.valueOf(id)));
      }
    }
    barrier();
    assertEquals(5, loads.calls.size());
    for (int i = 0; i < 5; i++) {
      loads.answer(i);
    }
    for (int i = 0; i < 1000; i++) {
      assertEquals("v:" + (i % 500), await(values.get(i)));
    }
    assertEquals(5, loads.calls.size());
    assertEquals(IntStream.range(0, 500).mapToObj(String::valueOf).collect(Collectors.toSet()),
      loads.calls.stream().flatMap(Set::stream).collect(Collectors.toSet()));
  }

  @Test
  void aBatchThatDoesNotFillUpIsLoadedAfterMaxDelay() throws Exception {
    Instant loader = new Instant();
    Batch<String> users = flights.batchAsync("users", loader, options(100, 50));
    Future<String> one = users.get("1");
    Future<String> two = users.get("2");
    assertEquals("v:1", await(one));
    assertEquals("v:2", await(two));
    assertEquals(List.of(Set.of("1", "2")), loader.calls);
  }

  @Test
  void withMaxDelayZeroTheCallsQueuedInOneEventLoopTurnShareOneBatch() throws Exception {
    // One event loop for the caller and the verticle: the caller's ten calls are queued before the
    // verticle handles the first, whose batch is loaded behind them.
    Vertx single = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    try {
      await(single.deployVerticle(new SingleFlightVerticle()));
      Instant loader = new Instant();
      Batch<String> users = SingleFlight.createProxy(single).batchAsync("users", loader, new BatchOptions());
      Promise<List<Future<String>>> asked = Promise.promise();
      single.runOnContext(v -> {
        List<Future<String>> values = new ArrayList<>();
        for (int id = 0; id < 10; id++) {
          values.add(users.get(String.valueOf(id)));
        }
        asked.complete(values);
      });
      for (Future<String> value : await(asked.future())) {
        await(value);
      }
      assertEquals(List.of(IntStream.range(0, 10).mapToObj(String::valueOf).collect(Collectors.toSet())), loader.calls);
      // The next turn opens a new batch.
      assertEquals("v:10", await(users.get("10")));
      assertEquals(2, loader.calls.size());
    } finally {
      await(single.close());
    }
  }

  @Test
  void batchesAreLoadedWithoutWaitingForEachOther() throws Exception {
    Loads loads = new Loads();
    Batch<String> users = flights.batchAsync("users", loads, options(2, 60_000));
    Future<String> a = users.get("a");
    Future<String> b = users.get("b");
    Future<String> c = users.get("c");
    Future<String> d = users.get("d");
    awaitCalls(loads, 2);
    assertEquals(List.of(Set.of("a", "b"), Set.of("c", "d")), loads.calls);
    loads.answer(1);
    assertEquals("v:c", await(c));
    assertEquals("v:d", await(d));
    assertFalse(a.isComplete() || b.isComplete(), "the first batch is still loading");
    loads.answer(0);
    assertEquals("v:a", await(a));
    assertEquals("v:b", await(b));
  }

  // 3. What the loader's outcome gives.

  @Test
  void aKeyMissingFromTheMapCompletesItsCallersWithNull() throws Exception {
    Batch<String> users = flights.batchAsync("users", keys -> Future.succeededFuture(Map.of("1", "one")), options(2, 60_000));
    // Both callers of the missing key before the key that fills the batch.
    Future<String> missing = users.get("2");
    Future<String> missingToo = users.get("2");
    Future<String> one = users.get("1");
    assertEquals("one", await(one));
    assertNull(await(missing));
    assertNull(await(missingToo));
  }

  @Test
  void aFailedLoaderFutureFailsEveryCallerOfTheBatchWithTheSameThrowable() throws Exception {
    IllegalStateException down = new IllegalStateException("database down");
    Batch<String> users = flights.batchAsync("users", keys -> Future.failedFuture(down), options(2, 60_000));
    Future<String> one = users.get("1");
    Future<String> oneAgain = users.get("1");
    Future<String> two = users.get("2");
    assertSame(down, failureOf(one));
    assertSame(down, failureOf(oneAgain));
    assertSame(down, failureOf(two));
  }

  @Test
  void aLoaderThatThrowsFailsEveryCallerOfTheBatchWithWhatItThrew() throws Exception {
    IllegalArgumentException thrown = new IllegalArgumentException("bad query");
    Batch<String> users = flights.batchAsync("users", keys -> {
      throw thrown;
    }, options(2, 60_000));
    Future<String> one = users.get("1");
    Future<String> two = users.get("2");
    assertSame(thrown, failureOf(one));
    assertSame(thrown, failureOf(two));
    // The keys are free again.
    assertSame(thrown, failureOf(users.getAll(List.of("1", "2"))));
  }

  @Test
  void aBlockingLoaderThatThrowsACheckedExceptionFailsEveryCallerWithIt() throws Exception {
    java.io.IOException thrown = new java.io.IOException("disk");
    Batch<String> users = flights.batch("users", keys -> {
      throw thrown;
    }, options(2, 60_000));
    Future<String> one = users.get("1");
    Future<String> two = users.get("2");
    assertSame(thrown, failureOf(one));
    assertSame(thrown, failureOf(two));
  }

  @Test
  void aNullMapFailsEveryCallerOfTheBatchWithOneNullPointerException() throws Exception {
    Batch<String> users = flights.batchAsync("users", keys -> Future.succeededFuture(null), options(2, 60_000));
    Future<String> one = users.get("1");
    Future<String> two = users.get("2");
    Throwable failure = failureOf(one);
    assertInstanceOf(NullPointerException.class, failure);
    assertSame(failure, failureOf(two));
  }

  @Test
  void aNullFutureOrABlockingNullMapFailsEveryCallerOfTheBatch() throws Exception {
    Batch<String> async = flights.batchAsync("async", keys -> null, options(1, 0));
    assertInstanceOf(NullPointerException.class, failureOf(async.get("1")));
    Batch<String> blocking = flights.batch("blocking", keys -> null, options(1, 0));
    assertInstanceOf(NullPointerException.class, failureOf(blocking.get("2")));
  }

  @Test
  void entriesOfKeysThatWereNotAskedAreIgnored() throws Exception {
    Instant instant = new Instant();
    Batch<String> users = flights.batchAsync("users", keys -> {
      instant.calls.add(Set.copyOf(keys));
      return Future.succeededFuture(Map.of("1", "one", "3", "not asked"));
    }, options(2, 60_000));
    Future<String> one = users.get("1");
    Future<String> two = users.get("2");
    assertEquals("one", await(one));
    assertNull(await(two), "never another key's value");
    // Key 3 was not in flight: asking for it loads it.
    Batch<String> fresh = flights.batchAsync("fresh", instant, options(1, 0));
    assertEquals("v:3", await(fresh.get("3")));
    assertEquals(List.of(Set.of("1", "2"), Set.of("3")), instant.calls);
  }

  @Test
  void aBlockingLoaderRunsOnAWorkerThreadAndBatchesLoadInParallel() throws Exception {
    CountDownLatch bothRunning = new CountDownLatch(2);
    List<String> threads = new CopyOnWriteArrayList<>();
    Batch<String> users = flights.batch("users", keys -> {
      threads.add(Thread.currentThread().getName());
      bothRunning.countDown();
      awaitLatch(bothRunning);
      return keys.stream().collect(Collectors.toMap(key -> key, key -> "v:" + key));
    }, options(1, 0));
    Future<String> one = users.get("1");
    Future<String> two = users.get("2");
    assertEquals("v:1", await(one));
    assertEquals("v:2", await(two));
    assertTrue(threads.stream().allMatch(name -> name.startsWith("vert.x-worker-thread")), threads.toString());
  }

  // 4. Timeouts, forget, limits, cancelAbandoned, undeploy, as for flights.

  @Test
  void aCallerTimeoutFailsThatCallerAloneAndTheBatchGoesOn() throws Exception {
    Loads loads = new Loads();
    Batch<String> users = flights.batchAsync("users", loads, new BatchOptions());
    Future<String> patient = users.get("1");
    Future<String> impatient = users.get("1", Duration.ofMillis(20));
    assertInstanceOf(CallerTimeoutException.class, failureOf(impatient));
    awaitCalls(loads, 1);
    loads.answer(0);
    assertEquals("v:1", await(patient));
  }

  @Test
  void forgetLetsTheNextCallLoadTheKeyAgainWhileEarlierCallersKeepTheirBatch() throws Exception {
    Loads loads = new Loads();
    Batch<String> users = flights.batchAsync("users", loads, new BatchOptions());
    Future<String> before = users.get("1");
    awaitCalls(loads, 1);
    await(users.forget("1"));
    Future<String> after = users.get("1");
    awaitCalls(loads, 2);
    assertEquals(List.of(Set.of("1"), Set.of("1")), loads.calls);
    loads.pending.get(0).complete(Map.of("1", "old"));
    loads.pending.get(1).complete(Map.of("1", "new"));
    assertEquals("old", await(before));
    assertEquals("new", await(after));
  }

  @Test
  void aKeyForgottenAndAskedAgainBeforeItsBatchIsLoadedIsLoadedOnceForBothFlights() throws Exception {
    Instant loader = new Instant();
    Batch<String> users = flights.batchAsync("users", loader, options(100, 200));
    Future<String> before = users.get("1");
    Future<Void> forgotten = users.forget("1");
    Future<String> after = users.get("1");
    await(forgotten);
    assertEquals("v:1", await(before));
    assertEquals("v:1", await(after));
    assertEquals(List.of(Set.of("1")), loader.calls);
  }

  @Test
  void maxFlightTimeFailsTheKeysOfABatchThatRunsTooLong() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setMaxFlightTime(50))));
    Loads loads = new Loads();
    Batch<String> users = flights.batchAsync("users", loads, options(2, 0));
    Future<String> one = users.get("1");
    Future<String> two = users.get("2");
    assertInstanceOf(TimeoutException.class, failureOf(one));
    assertInstanceOf(TimeoutException.class, failureOf(two));
  }

  @Test
  void maxInFlightCountsEachKeyOfABatch() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setMaxInFlight(3))));
    Loads loads = new Loads();
    Batch<String> users = flights.batchAsync("users", loads, options(100, 60_000));
    List<Future<String>> values = new ArrayList<>();
    for (int id = 0; id < 5; id++) {
      values.add(users.get(String.valueOf(id)));
    }
    assertInstanceOf(RejectedExecutionException.class, failureOf(values.get(3)));
    assertInstanceOf(RejectedExecutionException.class, failureOf(values.get(4)));
    assertFalse(values.get(0).isComplete());
  }

  @Test
  void maxWaitersRefusesOneMoreCallerOfAKeyOfABatch() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setMaxWaiters(1))));
    Loads loads = new Loads();
    Batch<String> users = flights.batchAsync("users", loads, options(100, 60_000));
    Future<String> first = users.get("1");
    assertInstanceOf(RejectedExecutionException.class, failureOf(users.get("1")));
    assertFalse(first.isComplete());
  }

  @Test
  void withCancelAbandonedAnOpenBatchDropsAKeyWhoseCallersAllLeft() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setCancelAbandoned(true))));
    Instant loader = new Instant();
    Batch<String> users = flights.batchAsync("users", loader, options(2, 60_000));
    assertInstanceOf(CallerTimeoutException.class, failureOf(users.get("gone", Duration.ofMillis(20))));
    Future<String> one = users.get("1");
    Future<String> two = users.get("2");
    assertEquals("v:1", await(one));
    assertEquals("v:2", await(two));
    assertEquals(List.of(Set.of("1", "2")), loader.calls, "the abandoned key was not loaded, and did not count");
  }

  @Test
  void withCancelAbandonedABatchIsNotCancelledWhileAnotherOfItsKeysHasCallers() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setCancelAbandoned(true))));
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger interrupted = new AtomicInteger();
    Batch<String> users = flights.batch("users", keys -> {
      running.countDown();
      try {
        awaitLatch(release);
      } catch (InterruptedException e) {
        interrupted.incrementAndGet();
        throw e;
      }
      return keys.stream().collect(Collectors.toMap(key -> key, key -> "v:" + key));
    }, options(2, 60_000));
    // The key without a timeout first: the batch is full, and loading, before the other caller can leave.
    Future<String> stays = users.get("2");
    Future<String> leaves = users.get("1", Duration.ofMillis(20));
    awaitLatch(running);
    assertInstanceOf(CallerTimeoutException.class, failureOf(leaves));
    barrier();
    release.countDown();
    assertEquals("v:2", await(stays));
    assertEquals(0, interrupted.get());
  }

  @Test
  void withCancelAbandonedABlockingLoadIsInterruptedOnceEveryCallerOfEveryKeyLeft() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setCancelAbandoned(true))));
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    Batch<String> users = flights.batch("users", keys -> {
      running.countDown();
      try {
        new CountDownLatch(1).await();
      } catch (InterruptedException e) {
        interrupted.countDown();
      }
      return Map.of();
    }, options(2, 60_000));
    // Long enough for both calls to fill the batch before the first leaves.
    Future<String> one = users.get("1", Duration.ofSeconds(1));
    Future<String> two = users.get("2", Duration.ofSeconds(1));
    awaitLatch(running);
    assertInstanceOf(CallerTimeoutException.class, failureOf(one));
    assertInstanceOf(CallerTimeoutException.class, failureOf(two));
    awaitLatch(interrupted);
  }

  @Test
  void undeployFailsTheCallersOfALoadingBatchAndLoadsNoOpenBatch() throws Exception {
    Loads loads = new Loads();
    Batch<String> loading = flights.batchAsync("loading", loads, options(1, 0));
    Future<String> one = loading.get("1");
    awaitCalls(loads, 1);
    AtomicBoolean undeploying = new AtomicBoolean();
    List<Boolean> loadedWhileUndeploying = new CopyOnWriteArrayList<>();
    Batch<String> open = flights.batchAsync("open", keys -> {
      loadedWhileUndeploying.add(undeploying.get());
      return Promise.<Map<String, String>>promise().future();
    }, options(100, 200));
    Future<String> two = open.get("2");
    barrier();
    undeploying.set(true);
    await(vertx.undeploy(deploymentId));
    assertInstanceOf(VerticleStoppedException.class, failureOf(one));
    assertInstanceOf(VerticleStoppedException.class, failureOf(two));
    // The open batch's delay passes with the verticle gone: it is not loaded (unless it was before the undeploy).
    Promise<Void> later = Promise.promise();
    vertx.setTimer(400, id -> later.complete());
    await(later.future());
    assertFalse(loadedWhileUndeploying.contains(true), "an open batch was loaded after the undeploy");
  }

  @Test
  void getAllGivesEachKeyItsValueInOneBatch() throws Exception {
    Instant loader = new Instant();
    Batch<String> users = flights.batchAsync("users", loader, options(3, 60_000));
    Map<String, String> values = await(users.getAll(List.of("1", "2", "1", "3")));
    assertEquals(new ArrayList<>(List.of("1", "2", "3")), new ArrayList<>(values.keySet()));
    assertEquals(Map.of("1", "v:1", "2", "v:2", "3", "v:3"), new HashMap<>(values));
    assertEquals(List.of(Set.of("1", "2", "3")), loader.calls);
  }

  @Test
  void everyCallerIsAnsweredOnItsOwnContextEventLoopDuplicateOrWorker() throws Exception {
    Batch<String> users = flights.batchAsync("users", new Instant(), options(4, 60_000));
    List<io.vertx.core.Context> contexts = new ArrayList<>();
    for (boolean worker : new boolean[] {false, false, true}) {
      Promise<io.vertx.core.Context> started = Promise.promise();
      await(vertx.deployVerticle(new io.vertx.core.VerticleBase() {
        @Override
        public Future<?> start() {
          started.complete(context);
          return Future.succeededFuture();
        }
      }, new io.vertx.core.DeploymentOptions().setThreadingModel(worker ? io.vertx.core.ThreadingModel.WORKER : io.vertx.core.ThreadingModel.EVENT_LOOP)));
      contexts.add(await(started.future()));
    }
    contexts.add(((io.vertx.core.internal.ContextInternal) contexts.get(0)).duplicate());
    List<Future<Boolean>> onTheirContext = new ArrayList<>();
    for (int i = 0; i < contexts.size(); i++) {
      io.vertx.core.Context context = contexts.get(i);
      String key = String.valueOf(i);
      Promise<Boolean> answered = Promise.promise();
      context.runOnContext(v -> users.get(key).onComplete(value -> answered.complete(
        value.succeeded() && value.result().equals("v:" + key) && Vertx.currentContext() == context)));
      onTheirContext.add(answered.future());
    }
    for (Future<Boolean> answered : onTheirContext) {
      assertTrue(await(answered));
    }
  }

  @Test
  void aCallersHandlerThatThrowsKeepsNoOtherCallerFromItsValue() throws Exception {
    vertx.exceptionHandler(thrown -> { });
    Batch<String> users = flights.batchAsync("users", new Instant(), options(2, 60_000));
    Promise<String> other = Promise.promise();
    vertx.runOnContext(v -> {
      users.get("1").onComplete(value -> {
        throw new IllegalStateException("a handler that throws");
      });
      users.get("2").onComplete(other);
    });
    assertEquals("v:2", await(other.future()));
  }

  @Test
  void aStormOfCallsFromManyThreadsAndContextsAnswersEveryCallerWithItsKeysValueAndWedgesNoKey() throws Exception {
    storm();
  }

  @Test
  void withCancelAbandonedAStormAnswersEveryCallerAndWedgesNoKey() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setCancelAbandoned(true))));
    storm();
  }

  /**
   * Calls of 300 keys from two plain threads and two event-loop contexts, 5 000 each, one in seven with a
   * timeout of a few ms, one in 97 followed by a forget of its key, against a loader that answers on a
   * worker thread a moment later; then every caller must have its key's value or its timeout, and a new
   * call of each key its value.
   */
  private void storm() throws Exception {
    int threads = 4;
    int callsPerThread = 5_000;
    int keys = 300;
    List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    // The loader answers on a worker thread, after a moment: keys stay in flight while others join them.
    Batch<String> users = flights.batchAsync("users", batch -> {
      batchSizes.add(batch.size());
      return vertx.executeBlocking(() -> {
        Thread.sleep(1);
        return batch.stream().collect(Collectors.toMap(key -> key, key -> "v:" + key));
      }, false);
    }, options(50, 0));
    List<Map.Entry<String, Future<String>>> calls = new CopyOnWriteArrayList<>();
    CountDownLatch asked = new CountDownLatch(threads);
    for (int t = 0; t < threads; t++) {
      int seed = t;
      Runnable caller = () -> {
        java.util.Random random = new java.util.Random(seed);
        for (int i = 0; i < callsPerThread; i++) {
          String key = String.valueOf(random.nextInt(keys));
          calls.add(Map.entry(key, i % 7 == 0 ? users.get(key, Duration.ofMillis(1 + random.nextInt(5))) : users.get(key)));
          if (i % 97 == 0) {
            users.forget(key);
          }
        }
        asked.countDown();
      };
      // Half the callers on plain threads, half on event-loop contexts.
      if (t % 2 == 0) {
        new Thread(caller).start();
      } else {
        vertx.runOnContext(v -> caller.run());
      }
    }
    awaitLatch(asked);
    int timedOut = 0;
    for (Map.Entry<String, Future<String>> call : calls) {
      if (failureOrValue(call.getValue()) instanceof CallerTimeoutException) {
        timedOut++;
      } else {
        assertEquals("v:" + call.getKey(), call.getValue().result());
      }
    }
    assertTrue(timedOut < calls.size() / 7 + 1, timedOut + " callers timed out");
    assertTrue(batchSizes.stream().allMatch(size -> size >= 1 && size <= 50), batchSizes.toString());
    // No key is wedged: a new call of each key gets its value.
    Map<String, String> after = await(users.getAll(IntStream.range(0, keys).mapToObj(String::valueOf).toList()));
    after.forEach((key, value) -> assertEquals("v:" + key, value));
  }

  /** @return the failure of {@code future}, or its value, once it completed */
  static Object failureOrValue(Future<?> future) throws Exception {
    CompletableFuture<Object> outcome = new CompletableFuture<>();
    future.onComplete(value -> outcome.complete(value.failed() ? value.cause() : value.result()));
    return outcome.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  @Test
  void badArgumentsThrowAndSendNothing() {
    Batch<String> users = flights.batchAsync("users", new Instant(), new BatchOptions());
    org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class, () -> users.get(null));
    org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class, () -> users.getAll(null));
    org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class, () -> users.getAll(java.util.Arrays.asList("1", null)));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> users.get("1", Duration.ZERO));
    org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class, () -> flights.batchAsync(null, new Instant(), new BatchOptions()));
    org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class, () -> flights.batch("users", null, new BatchOptions()));
    org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class, () -> flights.batchAsync("users", new Instant(), null));
  }

  /**
   * Batch calls coming faster than the verticle's event loop serves them cannot keep it from another key's flight: that
   * flight starts once the calls made before it are served, not the calls made after it.
   */
  @Test
  void batchCallsFasterThanTheEventLoopLetAnotherKeysFlightThrough() throws Exception {
    AtomicLong loaded = new AtomicLong();
    Batch<String> batch = flights.batchAsync("storm", keys -> {
      loaded.addAndGet(keys.size());
      return Future.succeededFuture(keys.stream().collect(Collectors.toMap(key -> key, key -> "v:" + key)));
    }, options(100, 0));
    AtomicLong loadedBeforeOther = new AtomicLong(-1);
    AtomicInteger made = new AtomicInteger();
    int most = 1_000_000;
    Runnable produce = () -> {
      while (made.get() < most && loadedBeforeOther.get() < 0) {
        batch.get("k" + made.incrementAndGet());
      }
    };
    List<Thread> producers = List.of(new Thread(produce), new Thread(produce), new Thread(produce));
    producers.forEach(Thread::start);
    while (made.get() < 10_000) {
      Thread.onSpinWait();
    }
    Future<String> other = flights.flightAsync("other", () -> {
      loadedBeforeOther.set(loaded.get());
      return Future.succeededFuture("served");
    });
    // Every batch call queued before the other key's call counted itself before it was queued.
    int madeBefore = made.get();
    for (Thread producer : producers) {
      producer.join();
    }
    assertEquals("served", await(other));
    assertTrue(loadedBeforeOther.get() <= madeBefore,
      "keys loaded before the other key's flight started: " + loadedBeforeOther.get() + ", calls made before it: " + madeBefore);
  }
}
