package dev.singleflight.bench;

import io.vertx.core.Completable;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * The one listener that every parked caller of a round shares, so that the harness adds no object
 * per caller: it counts the callers served, and {@link #await()} returns once all of them were.
 */
final class Countdown implements Completable<Object>, BiConsumer<Object, Throwable> {

  private final AtomicInteger remaining;
  private final CountDownLatch done = new CountDownLatch(1);
  private volatile Throwable failure;

  Countdown(int callers) {
    this.remaining = new AtomicInteger(callers);
  }

  @Override
  public void complete(Object result, Throwable cause) {
    if (cause != null) {
      failure = cause;
    }
    if (remaining.decrementAndGet() == 0) {
      done.countDown();
    }
  }

  @Override
  public void accept(Object result, Throwable cause) {
    complete(result, cause);
  }

  /** Waits until every caller was served; throws when one failed or it takes over a minute. */
  void await() {
    try {
      if (!done.await(1, TimeUnit.MINUTES)) {
        throw new IllegalStateException(remaining.get() + " callers still wait after a minute");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    if (failure != null) {
      throw new IllegalStateException("a caller failed", failure);
    }
  }
}
