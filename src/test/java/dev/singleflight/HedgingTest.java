package dev.singleflight;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hedged flights (hedgeAfter, maxHedges): each rule as a caller meets it. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HedgingTest extends FlightTestBase {

  /** Short, so that hedges start soon; the tests never depend on how soon. */
  static final long HEDGE_AFTER = 20;

  /** An async function whose every run is a promise the test completes, in the order the runs started. */
  static final class Runs implements Supplier<Future<String>> {
    final BlockingQueue<Promise<String>> started = new LinkedBlockingQueue<>();
    final AtomicInteger count = new AtomicInteger();

    @Override
    public Future<String> get() {
      count.incrementAndGet();
      Promise<String> run = Promise.promise();
      started.add(run);
      return run.future();
    }

    /** @return the next run to start, waiting for it */
    Promise<String> next() throws Exception {
      Promise<String> run = started.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertNotNull(run, "no run started in " + WAIT_SECONDS + " s");
      return run;
    }
  }

  void redeploy(SingleFlightOptions options) throws Exception {
    await(vertx.undeploy(deploymentId));
    deploymentId = await(vertx.deployVerticle(new SingleFlightVerticle(options)));
  }

  SingleFlightOptions hedged() {
    return new SingleFlightOptions().setHedgeAfter(HEDGE_AFTER);
  }

  @Test
  void aHedgeThatSucceedsFirstCompletesEveryCaller() throws Exception {
    redeploy(hedged());
    Runs runs = new Runs();
    Future<String> leader = flights.flightAsync("k", runs);
    Future<String> follower = flights.flightAsync("k", runs);
    Promise<String> slow = runs.next();
    runs.next().complete("from the hedge");
    assertEquals("from the hedge", await(leader));
    assertEquals("from the hedge", await(follower));
    assertEquals(2, runs.count.get());
    slow.complete("too late");
  }

  @Test
  void theFirstExecutionWinsWhenItSucceedsBeforeTheHedge() throws Exception {
    redeploy(hedged());
    Runs runs = new Runs();
    Future<String> caller = flights.flightAsync("k", runs);
    Promise<String> first = runs.next();
    Promise<String> hedge = runs.next();
    first.complete("from the first");
    assertEquals("from the first", await(caller));
    hedge.complete("too late");
  }

  @Test
  void withoutHedgeAfterNoSecondExecutionStarts() throws Exception {
    Runs runs = new Runs();
    Future<String> caller = flights.flightAsync("k", runs);
    Promise<String> only = runs.next();
    // Proving an absence: a wait that can only miss a bug, never fail a correct build.
    assertNull(runs.started.poll(20 * HEDGE_AFTER, TimeUnit.MILLISECONDS));
    only.complete("v");
    assertEquals("v", await(caller));
  }

  @Test
  void maxHedgesExtraExecutionsStartOneHedgeAfterApart() throws Exception {
    redeploy(hedged().setMaxHedges(3));
    Runs runs = new Runs();
    Future<String> caller = flights.flightAsync("k", runs);
    List<Promise<String>> started = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      started.add(runs.next());
    }
    assertNull(runs.started.poll(20 * HEDGE_AFTER, TimeUnit.MILLISECONDS), "more than maxHedges hedges started");
    started.get(2).complete("third");
    assertEquals("third", await(caller));
    assertEquals(4, runs.count.get());
  }

  @Test
  void aFailureWaitsForTheOtherExecutionsAndTheLastFailureWins() throws Exception {
    redeploy(hedged());
    Runs runs = new Runs();
    Future<String> caller = flights.flightAsync("k", runs);
    Promise<String> first = runs.next();
    Promise<String> hedge = runs.next();
    first.fail(new IllegalStateException("first failure"));
    barrier();
    assertFalse(caller.isComplete(), "one failure of two executions ended the flight");
    hedge.fail(new IllegalStateException("last failure"));
    assertEquals("last failure", failureOf(caller).getMessage());
  }

  @Test
  void theLastFailureWinsWhicheverExecutionItComesFrom() throws Exception {
    redeploy(hedged());
    Runs runs = new Runs();
    Future<String> caller = flights.flightAsync("k", runs);
    Promise<String> first = runs.next();
    Promise<String> hedge = runs.next();
    hedge.fail(new IllegalStateException("hedge failed first"));
    barrier();
    first.fail(new IllegalStateException("first failed last"));
    assertEquals("first failed last", failureOf(caller).getMessage());
  }

  @Test
  void aFailureAfterAnotherFailureIsStillBeatenByALateSuccess() throws Exception {
    redeploy(hedged());
    Runs runs = new Runs();
    Future<String> caller = flights.flightAsync("k", runs);
    Promise<String> first = runs.next();
    Promise<String> hedge = runs.next();
    first.fail(new IllegalStateException("failed"));
    barrier();
    hedge.complete("recovered");
    assertEquals("recovered", await(caller));
  }

  @Test
  void aFailureBeforeAnyHedgeStartedFailsTheFlightAtOnceAndIsNotRetried() throws Exception {
    redeploy(new SingleFlightOptions().setHedgeAfter(200));
    Runs runs = new Runs();
    Future<String> caller = flights.flightAsync("k", runs);
    runs.next().fail(new IllegalStateException("failed"));
    assertEquals("failed", failureOf(caller).getMessage());
    assertNull(runs.started.poll(1_000, TimeUnit.MILLISECONDS), "a failed flight was hedged");
  }

  @Test
  void aLateOutcomeReachesNobodyNotEvenTheKeysNextFlight() throws Exception {
    redeploy(hedged());
    Runs runs = new Runs();
    Future<String> caller = flights.flightAsync("k", runs);
    Promise<String> first = runs.next();
    Promise<String> hedge = runs.next();
    hedge.complete("hedge");
    assertEquals("hedge", await(caller));
    Promise<String> current = Promise.promise();
    Future<String> next = flights.flightAsync("k", current::future);
    barrier();
    first.complete("late");
    barrier();
    assertFalse(next.isComplete(), "the late outcome ended the key's next flight");
    current.complete("fresh");
    assertEquals("fresh", await(next));
  }

  @Test
  void aBlockingLoserRunsOnByDefault() throws Exception {
    redeploy(hedged());
    CompletableFuture<Boolean> loserInterrupted = new CompletableFuture<>();
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    Future<String> caller = flights.flight("k", () -> blockFirst(calls, release, loserInterrupted));
    assertEquals("hedge", await(caller));
    release.countDown();
    assertFalse(loserInterrupted.get(WAIT_SECONDS, TimeUnit.SECONDS), "the loser was interrupted without cancelAbandoned");
  }

  @Test
  void aBlockingLoserIsInterruptedWithCancelAbandoned() throws Exception {
    redeploy(hedged().setCancelAbandoned(true));
    CompletableFuture<Boolean> loserInterrupted = new CompletableFuture<>();
    AtomicInteger calls = new AtomicInteger();
    Future<String> caller = flights.flight("k", () -> blockFirst(calls, new CountDownLatch(1), loserInterrupted));
    assertEquals("hedge", await(caller));
    assertTrue(loserInterrupted.get(WAIT_SECONDS, TimeUnit.SECONDS), "the loser was not interrupted");
  }

  /** The first run blocks until {@code release} (or an interrupt, which it reports); the second returns at once. */
  static String blockFirst(AtomicInteger calls, CountDownLatch release, CompletableFuture<Boolean> interrupted) {
    if (calls.incrementAndGet() > 1) {
      return "hedge";
    }
    try {
      interrupted.complete(!release.await(WAIT_SECONDS, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      interrupted.complete(true);
    }
    return "first";
  }

  @Test
  void anAbandonedHedgedFlightInterruptsEveryExecutionWithCancelAbandoned() throws Exception {
    redeploy(hedged().setCancelAbandoned(true));
    CountDownLatch bothRunning = new CountDownLatch(2);
    CountDownLatch interrupted = new CountDownLatch(2);
    Future<String> caller = flights.flight("k", () -> {
      bothRunning.countDown();
      try {
        new CountDownLatch(1).await(WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        interrupted.countDown();
      }
      return "never seen";
    }, Duration.ofMillis(3_000));
    awaitLatch(bothRunning);
    assertInstanceOf(TimeoutException.class, failureOf(caller));
    awaitLatch(interrupted);
  }

  @Test
  void aLoserStillRunningKeepsNoCallerOfItsFlight() throws Exception {
    redeploy(hedged());
    Runs runs = new Runs();
    List<WeakReference<Future<String>>> served = new ArrayList<>();
    List<Future<String>> callers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Future<String> caller = flights.flightAsync("k", runs);
      served.add(new WeakReference<>(caller));
      callers.add(caller);
    }
    Promise<String> loser = runs.next();
    runs.next().complete("hedge");
    for (Future<String> caller : callers) {
      assertEquals("hedge", await(caller));
    }
    callers.clear();
    int kept = 0;
    for (int attempt = 0; attempt < 20; attempt++) {
      System.gc();
      kept = (int) served.stream().filter(ref -> ref.get() != null).count();
      if (kept == 0) {
        break;
      }
    }
    assertEquals(0, kept, "callers served are still referenced while the loser runs");
    loser.complete("late");
  }

  @Test
  void aCallerTimeoutStillEndsOnlyThatCallerOfAHedgedFlight() throws Exception {
    redeploy(hedged());
    Runs runs = new Runs();
    Future<String> impatient = flights.flightAsync("k", runs, Duration.ofMillis(50));
    Future<String> patient = flights.flightAsync("k", runs);
    Promise<String> first = runs.next();
    Promise<String> hedge = runs.next();
    assertInstanceOf(TimeoutException.class, failureOf(impatient));
    hedge.complete("hedge");
    assertEquals("hedge", await(patient));
    first.complete("late");
  }

  @Test
  void aForgottenHedgedFlightStillHedgesForItsCallersWhileTheNextCallStartsAnew() throws Exception {
    redeploy(hedged());
    Runs old = new Runs();
    Future<String> before = flights.flightAsync("k", old);
    Promise<String> first = old.next();
    await(flights.forget("k"));
    Runs fresh = new Runs();
    Future<String> after = flights.flightAsync("k", fresh);
    old.next().complete("old hedge");
    assertEquals("old hedge", await(before));
    fresh.next().complete("fresh");
    assertEquals("fresh", await(after));
    first.complete("late");
  }

  @Test
  void maxInFlightCountsHedges() throws Exception {
    redeploy(hedged().setMaxInFlight(2));
    Runs runs = new Runs();
    Future<String> hedgedFlight = flights.flightAsync("k", runs);
    Promise<String> first = runs.next();
    Promise<String> hedge = runs.next();
    Throwable refused = failureOf(flights.flightAsync("other", () -> Future.succeededFuture("v")));
    assertInstanceOf(RejectedExecutionException.class, refused);
    assertTrue(refused.getMessage().contains("1 of them hedges"), refused.getMessage());
    hedge.complete("hedge");
    assertEquals("hedge", await(hedgedFlight));
    // The loser still runs but the flight has ended: like a timed-out flight's function, it no longer counts.
    assertEquals("v", await(flights.flightAsync("other", () -> Future.succeededFuture("v"))));
    first.complete("late");
  }

  @Test
  void aHedgeThatMaxInFlightRefusesIsNotStarted() throws Exception {
    redeploy(hedged().setMaxInFlight(2));
    Runs a = new Runs();
    Runs b = new Runs();
    Future<String> first = flights.flightAsync("a", a);
    Future<String> second = flights.flightAsync("b", b);
    Promise<String> runA = a.next();
    Promise<String> runB = b.next();
    assertNull(a.started.poll(20 * HEDGE_AFTER, TimeUnit.MILLISECONDS), "a hedge started beyond maxInFlight");
    assertNull(b.started.poll(HEDGE_AFTER, TimeUnit.MILLISECONDS), "a hedge started beyond maxInFlight");
    runA.complete("a");
    runB.complete("b");
    assertEquals("a", await(first));
    assertEquals("b", await(second));
  }

  @Test
  void everyInstanceOfADeploymentHedgesItsKeys() throws Exception {
    await(vertx.undeploy(deploymentId));
    SingleFlightOptions options = hedged();
    deploymentId = await(vertx.deployVerticle(() -> new SingleFlightVerticle(options), new DeploymentOptions().setInstances(4)));
    List<Future<String>> callers = new ArrayList<>();
    List<AtomicInteger> runs = new ArrayList<>();
    for (int key = 0; key < 16; key++) {
      AtomicInteger count = new AtomicInteger();
      runs.add(count);
      String value = "key" + key;
      // The first run never answers; the hedge answers at once.
      Supplier<Future<String>> fn = () -> count.incrementAndGet() == 1 ? Promise.<String>promise().future() : Future.succeededFuture(value);
      callers.add(flights.flightAsync(value, fn));
      callers.add(flights.flightAsync(value, fn));
    }
    for (int key = 0; key < 16; key++) {
      assertEquals("key" + key, await(callers.get(2 * key)));
      assertEquals("key" + key, await(callers.get(2 * key + 1)));
      assertEquals(2, runs.get(key).get());
    }
  }

  @Test
  void aJsonFlightIsHedgedWithAnotherDownstreamRequest() throws Exception {
    redeploy(hedged());
    List<Message<Object>> received = new CopyOnWriteArrayList<>();
    vertx.eventBus().consumer("slow.service", message -> {
      received.add(message);
      if (received.size() == 2) {
        message.reply(new JsonObject().put("from", "second request"));
      }
    });
    JsonObject request = new JsonObject().put("key", "k").put("address", "slow.service");
    Future<Object> a = vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, request).map(Message::body);
    Future<Object> b = vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, request).map(Message::body);
    assertEquals(new JsonObject().put("from", "second request"), await(a));
    assertEquals(new JsonObject().put("from", "second request"), await(b));
    assertEquals(2, received.size());
  }

  @Test
  void aJsonFlightFailsWithTheLastDownstreamFailure() throws Exception {
    redeploy(hedged());
    BlockingQueue<Message<Object>> received = new LinkedBlockingQueue<>();
    vertx.eventBus().consumer("failing.service", received::add);
    Future<Object> caller = vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS,
      new JsonObject().put("key", "k").put("address", "failing.service"), new DeliveryOptions()).map(Message::body);
    Message<Object> first = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    Message<Object> hedge = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    hedge.fail(500, "the hedge failed first");
    barrier();
    assertFalse(caller.isComplete());
    first.fail(502, "the first failed last");
    ReplyException failure = assertInstanceOf(ReplyException.class, failureOf(caller));
    assertEquals(502, failure.failureCode());
    assertEquals("the first failed last", failure.getMessage());
  }
}
