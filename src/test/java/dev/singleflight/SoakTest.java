package dev.singleflight;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import static dev.singleflight.FlightTestBase.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A million mixed calls, half from plain threads and half from verticles' event loops: blocking
 * and async, hot and cold keys, random failures, timeouts and forgets. Every caller must get the
 * value of its own key or an error it asked for, none may be lost, and afterwards nothing is left
 * in flight.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SoakTest {

  static final int CALLS = 1_000_000;
  static final int SENDERS = 4;
  static final int BATCH = 2_000;
  static final String[] HOT_KEYS = {"hot-0", "hot-1", "hot-2", "hot-3", "hot-4", "hot-5", "hot-6", "hot-7"};

  /** The failure a function asks for: it names its key, so a caller can check it got its own. */
  static final class KeyedFailure extends Exception {
    final String key;

    KeyedFailure(String key) {
      super("planned failure of " + key, null, false, false);
      this.key = key;
    }
  }

  final AtomicLong values = new AtomicLong();
  final AtomicLong failures = new AtomicLong();
  final AtomicLong timeouts = new AtomicLong();
  final AtomicLong forgets = new AtomicLong();
  /** Calls made on a thread that is not Vert.x's, and on an event loop. */
  final AtomicLong fromPlainThreads = new AtomicLong();
  final AtomicLong fromEventLoops = new AtomicLong();
  final List<String> wrong = java.util.Collections.synchronizedList(new ArrayList<>());

  /**
   * One sender's share of the calls from a verticle's event loop, in batches: each batch is sent
   * once the one before completed, from the callback of that completion, on the same event loop.
   */
  Future<Void> sendFromEventLoop(Vertx vertx, SingleFlight flights, int sender, int calls) {
    SplittableRandom random = new SplittableRandom(sender);
    Promise<Void> done = Promise.promise();
    sendBatch(vertx, flights, sender, random, calls, done);
    return done.future();
  }

  private void sendBatch(Vertx vertx, SingleFlight flights, int sender, SplittableRandom random, int left, Promise<Void> done) {
    if (left == 0) {
      done.complete();
      return;
    }
    int size = Math.min(BATCH, left);
    List<Future<?>> batch = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      batch.add(call(vertx, flights, sender, random, left - i));
    }
    Future.join(batch).onComplete(ar -> sendBatch(vertx, flights, sender, random, left - size, done));
  }

  /**
   * One sender's share of the calls from the calling plain thread, in batches: each batch is sent
   * from this thread once this thread saw the one before complete.
   */
  void sendFromThisThread(Vertx vertx, SingleFlight flights, int sender, int calls) throws Exception {
    SplittableRandom random = new SplittableRandom(sender);
    for (int left = calls; left > 0; ) {
      int size = Math.min(BATCH, left);
      List<Future<?>> batch = new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        batch.add(call(vertx, flights, sender, random, left - i));
      }
      await(Future.join(batch).otherwiseEmpty());
      left -= size;
    }
  }

  private Future<?> call(Vertx vertx, SingleFlight flights, int sender, SplittableRandom random, int n) {
    if (Context.isOnEventLoopThread()) {
      fromEventLoops.incrementAndGet();
    } else if (!Context.isOnVertxThread()) {
      fromPlainThreads.incrementAndGet();
    }
    int dice = random.nextInt(100);
    String key = dice < 70 ? HOT_KEYS[random.nextInt(HOT_KEYS.length)] : "cold-" + sender + "-" + n;
    if (dice == 99) {
      return flights.forget(key).onSuccess(v -> forgets.incrementAndGet());
    }
    boolean fails = random.nextInt(20) == 0;
    Duration timeout = random.nextInt(20) == 0 ? Duration.ofMillis(1 + random.nextInt(3)) : null;
    Future<String> result;
    if (random.nextBoolean()) {
      java.util.concurrent.Callable<String> fn = () -> {
        if (fails) {
          throw new KeyedFailure(key);
        }
        return key;
      };
      result = timeout == null ? flights.flight(key, fn) : flights.flight(key, fn, timeout);
    } else {
      java.util.function.Supplier<Future<String>> fn = () -> {
        Promise<String> promise = Promise.promise();
        vertx.setTimer(1, id -> {
          if (fails) {
            promise.fail(new KeyedFailure(key));
          } else {
            promise.complete(key);
          }
        });
        return promise.future();
      };
      result = timeout == null ? flights.flightAsync(key, fn) : flights.flightAsync(key, fn, timeout);
    }
    return result.onComplete(ar -> check(key, timeout != null, ar.succeeded() ? ar.result() : null, ar.cause()));
  }

  private void check(String key, boolean timed, String value, Throwable failure) {
    if (failure == null && key.equals(value)) {
      values.incrementAndGet();
    } else if (failure instanceof KeyedFailure keyed && keyed.key.equals(key)) {
      failures.incrementAndGet();
    } else if (failure instanceof TimeoutException && timed) {
      timeouts.incrementAndGet();
    } else if (wrong.size() < 10) {
      wrong.add(key + " got " + (failure != null ? failure : value));
    }
  }

  /** A verticle that sends its share of the calls from its own event loop. */
  final class SendingVerticle extends VerticleBase {
    final int sender;
    final int calls;
    final CompletableFuture<Void> done = new CompletableFuture<>();

    SendingVerticle(int sender, int calls) {
      this.sender = sender;
      this.calls = calls;
    }

    @Override
    public Future<?> start() {
      sendFromEventLoop(vertx, SingleFlight.createProxy(vertx), sender, calls).onComplete(ar -> done.complete(null));
      return Future.succeededFuture();
    }
  }

  @Test
  void aMillionMixedCallsAreAllAnsweredCorrectlyAndNothingIsLeftInFlight() throws Exception {
    MeterRegistry registry = new SimpleMeterRegistry();
    Vertx vertx = MetricsTest.vertxWithMetrics(registry, true);
    ExecutorService plainThreads = Executors.newFixedThreadPool(SENDERS - SENDERS / 2);
    try {
      await(vertx.deployVerticle(new SingleFlightVerticle(MetricsTest.measured())));
      SingleFlight flights = SingleFlight.createProxy(vertx);
      int share = CALLS / SENDERS;
      List<CompletableFuture<Void>> senders = new ArrayList<>();
      for (int s = 0; s < SENDERS / 2; s++) {
        SendingVerticle verticle = new SendingVerticle(s, share);
        await(vertx.deployVerticle(verticle));
        senders.add(verticle.done);
      }
      for (int s = SENDERS / 2; s < SENDERS; s++) {
        int sender = s;
        senders.add(CompletableFuture.runAsync(() -> {
          try {
            sendFromThisThread(vertx, flights, sender, share);
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        }, plainThreads));
      }
      CompletableFuture.allOf(senders.toArray(CompletableFuture[]::new)).get(4, TimeUnit.MINUTES);
      assertEquals(CALLS / 2, fromPlainThreads.get(), "calls sent from plain threads");
      assertEquals(CALLS / 2, fromEventLoops.get(), "calls sent from event loops");

      assertEquals(List.of(), wrong);
      assertEquals(CALLS, values.get() + failures.get() + timeouts.get() + forgets.get(), "calls lost");
      assertTrue(failures.get() > 0 && timeouts.get() > 0 && forgets.get() > 0,
        "the mix lacked a kind: " + failures + " failures, " + timeouts + " timeouts, " + forgets + " forgets");
      await(flights.forget("barrier"));
      assertEquals(0.0, registry.get("singleflight.inflight").gauge().value(), "flights left running");
      assertEquals(0.0, registry.get("singleflight.waiters").gauge().value(), "callers left waiting");
      double calls = registry.get("singleflight.calls").tag("role", "leader").counter().count()
        + registry.get("singleflight.calls").tag("role", "follower").counter().count();
      assertEquals(CALLS - forgets.get(), (long) calls);
    } finally {
      plainThreads.shutdownNow();
      await(vertx.close());
    }
  }
}
