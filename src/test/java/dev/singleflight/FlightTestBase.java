package dev.singleflight;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A fresh Vert.x with a {@link SingleFlightVerticle} at the default address, and blocking helpers. */
abstract class FlightTestBase {

  static final long WAIT_SECONDS = 20;

  /** A blocking function that counts its runs and waits for {@link #release} before returning. */
  static final class Gate<T> implements Callable<T> {
    final AtomicInteger runs = new AtomicInteger();
    final CountDownLatch release = new CountDownLatch(1);
    final T value;

    Gate(T value) {
      this.value = value;
    }

    @Override
    public T call() throws Exception {
      runs.incrementAndGet();
      awaitLatch(release);
      return value;
    }
  }

  Vertx vertx;
  String deploymentId;
  SingleFlight flights;

  @BeforeEach
  void deploy() throws Exception {
    vertx = Vertx.vertx();
    deploymentId = await(vertx.deployVerticle(new SingleFlightVerticle()));
    flights = SingleFlight.createProxy(vertx);
  }

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  /** Waits for {@code future} on this (non-Vert.x) thread; its failure is thrown as is. */
  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    }
  }

  /** @return the failure of {@code future}, which must fail */
  static Throwable failureOf(Future<?> future) throws Exception {
    CompletableFuture<AsyncResult<?>> outcome = new CompletableFuture<>();
    future.onComplete(outcome::complete);
    AsyncResult<?> result = outcome.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertTrue(result.failed(), () -> "expected a failure, got the value " + result.result());
    return result.cause();
  }

  /**
   * Returns once the verticle has handled every call this thread sent before: calls from one thread
   * reach the verticle in order, so a forget of an unrelated key is answered after all of them
   * ({@code CallerTest.callsFromOneThreadAreHandledInTheOrderSentAndAForgetSentAfterThemIsAnsweredAfterThem}
   * holds the verticle to it).
   */
  void barrier() throws Exception {
    await(flights.forget("barrier:" + System.nanoTime()));
  }

  static void awaitLatch(CountDownLatch latch) throws InterruptedException, TimeoutException {
    if (!latch.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
      throw new TimeoutException("latch not released in " + WAIT_SECONDS + " s");
    }
  }

  private static Exception rethrow(Throwable cause) {
    if (cause instanceof Exception e) {
      return e;
    }
    if (cause instanceof Error e) {
      throw e;
    }
    return new RuntimeException(cause);
  }
}
