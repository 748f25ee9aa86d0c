package dev.singleflight;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What callers see: their own context, argument checks, and a herd. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CallerTest extends FlightTestBase {

  /** A verticle that makes a call in start() and records the context its handler runs on. */
  static final class CallingVerticle extends VerticleBase {
    final CompletableFuture<Boolean> sameContext = new CompletableFuture<>();
    final boolean async;

    CallingVerticle(boolean async) {
      this.async = async;
    }

    @Override
    public Future<?> start() {
      SingleFlight flights = SingleFlight.createProxy(vertx);
      Future<String> call = async
        ? flights.flightAsync("k", () -> Future.succeededFuture("value"))
        : flights.flight("k", () -> "value");
      call.onComplete(ar -> sameContext.complete(Vertx.currentContext() == context && ar.succeeded()));
      return Future.succeededFuture();
    }
  }

  @Test
  void aBlockingCallsFutureCompletesOnTheCallersContext() throws Exception {
    CallingVerticle caller = new CallingVerticle(false);
    await(vertx.deployVerticle(caller));
    assertTrue(caller.sameContext.get(WAIT_SECONDS, TimeUnit.SECONDS));
  }

  @Test
  void anAsyncCallsFutureCompletesOnTheCallersContext() throws Exception {
    CallingVerticle caller = new CallingVerticle(true);
    await(vertx.deployVerticle(caller));
    assertTrue(caller.sameContext.get(WAIT_SECONDS, TimeUnit.SECONDS));
  }

  @Test
  void aPlainThreadCallersFutureCompletesOnAnEventLoopThreadOfTheVertxInstance() throws Exception {
    Gate<String> gate = new Gate<>("value");
    Future<String> call = flights.flight("k", gate);
    CompletableFuture<String> completedOn = new CompletableFuture<>();
    call.onComplete(ar -> {
      Context context = Vertx.currentContext();
      boolean eventLoop = Context.isOnEventLoopThread() && context != null && context.owner() == vertx;
      completedOn.complete(eventLoop ? "an event loop" : Thread.currentThread().getName());
    });
    gate.release.countDown();
    assertEquals("an event loop", completedOn.get(WAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals("value", call.result());
  }

  /** A verticle that makes {@code calls} calls of one key and counts those completed on its own context. */
  static final class HerdVerticle extends VerticleBase {
    final Gate<String> gate;
    final int calls;
    final CompletableFuture<Integer> onOwnContext = new CompletableFuture<>();

    HerdVerticle(Gate<String> gate, int calls) {
      this.gate = gate;
      this.calls = calls;
    }

    @Override
    public Future<?> start() {
      SingleFlight flights = SingleFlight.createProxy(vertx);
      AtomicInteger own = new AtomicInteger();
      AtomicInteger done = new AtomicInteger();
      for (int i = 0; i < calls; i++) {
        flights.flight("herd", gate).onComplete(ar -> {
          if (ar.succeeded() && Vertx.currentContext() == context) {
            own.incrementAndGet();
          }
          if (done.incrementAndGet() == calls) {
            onOwnContext.complete(own.get());
          }
        });
      }
      return Future.succeededFuture();
    }
  }

  @Test
  void aHerdFromSeveralVerticlesAndThreadsCompletesEachCallerOnItsOwnContext() throws Exception {
    Gate<String> gate = new Gate<>("value");
    List<HerdVerticle> verticles = new ArrayList<>();
    for (int v = 0; v < 3; v++) {
      HerdVerticle verticle = new HerdVerticle(gate, 500);
      await(vertx.deployVerticle(verticle));
      verticles.add(verticle);
    }
    List<Future<String>> plain = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      plain.add(flights.flight("herd", gate));
    }
    barrier();
    gate.release.countDown();
    for (HerdVerticle verticle : verticles) {
      assertEquals(500, verticle.onOwnContext.get(WAIT_SECONDS, TimeUnit.SECONDS));
    }
    for (Future<String> call : plain) {
      assertEquals("value", await(call));
    }
    assertEquals(1, gate.runs.get());
  }

  @Test
  void callsFromPlainThreadsWork() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<String>> results = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        results.add(pool.submit(() -> await(flights.flight("k", () -> "value"))));
      }
      for (java.util.concurrent.Future<String> result : results) {
        assertEquals("value", result.get(WAIT_SECONDS, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** The promise {@link FlightTestBase#barrier()} stands on. */
  @Test
  void callsFromOneThreadAreHandledInTheOrderSentAndAForgetSentAfterThemIsAnsweredAfterThem() throws Exception {
    // Appended on the verticle's event loop: an async function runs there when its call is handled.
    List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
    Promise<Integer> held = Promise.promise();
    List<Future<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      int sent = i;
      calls.add(flights.flightAsync("order-" + i, () -> {
        handled.add(sent);
        return held.future();
      }));
    }
    await(flights.forget("sent after them"));
    List<Integer> handledWhenTheForgetWasAnswered = List.copyOf(handled);
    held.complete(0);
    assertEquals(IntStream.range(0, 1_000).boxed().toList(), handledWhenTheForgetWasAnswered);
    for (Future<Integer> call : calls) {
      assertEquals(0, await(call));
    }
  }

  @Test
  void aNullKeyOrFunctionIsRejectedAndNothingIsSent() {
    AtomicInteger sent = new AtomicInteger();
    vertx.eventBus().addOutboundInterceptor((DeliveryContext<Object> delivery) -> {
      sent.incrementAndGet();
      delivery.next();
    });
    assertThrows(NullPointerException.class, () -> flights.flight(null, () -> "value"));
    assertThrows(NullPointerException.class, () -> flights.flight("k", null));
    assertThrows(NullPointerException.class, () -> flights.flight(null, () -> "value", Duration.ofSeconds(1)));
    assertThrows(NullPointerException.class, () -> flights.flightAsync(null, () -> Future.succeededFuture("value")));
    assertThrows(NullPointerException.class, () -> flights.flightAsync("k", null));
    assertThrows(NullPointerException.class, () -> flights.flightAsync("k", null, Duration.ofSeconds(1)));
    assertThrows(NullPointerException.class, () -> flights.forget(null));
    assertThrows(NullPointerException.class, () -> flights.flight("k", () -> "value", null));
    assertThrows(IllegalArgumentException.class, () -> flights.flight("k", () -> "value", Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> flights.flightAsync("k", () -> Future.succeededFuture(1), Duration.ofMillis(-1)));
    assertThrows(NullPointerException.class, () -> SingleFlight.createProxy(vertx, null));
    assertEquals(0, sent.get());
  }

  @Test
  void aHerdOfTenThousandCallersOnOneKeyGetsOneExecutionAndEveryCallerCompletes() throws Exception {
    int threads = 4;
    int perThread = 2_500;
    Gate<String> gate = new Gate<>("value");
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<java.util.concurrent.Future<List<Future<String>>>> senders = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        senders.add(pool.submit(() -> {
          awaitLatch(start);
          List<Future<String>> calls = new ArrayList<>(perThread);
          for (int i = 0; i < perThread; i++) {
            calls.add(flights.flight("user:123", gate));
          }
          return calls;
        }));
      }
      start.countDown();
      List<Future<String>> calls = new ArrayList<>();
      for (java.util.concurrent.Future<List<Future<String>>> sender : senders) {
        calls.addAll(sender.get(WAIT_SECONDS, TimeUnit.SECONDS));
      }
      barrier();
      gate.release.countDown();
      for (Future<String> call : calls) {
        assertEquals("value", await(call));
      }
      assertEquals(threads * perThread, calls.size());
      assertEquals(1, gate.runs.get());
    } finally {
      pool.shutdownNow();
    }
  }
}
