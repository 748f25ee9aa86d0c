package dev.singleflight.impl;

import dev.singleflight.FlightResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * A caller that asked for a {@link FlightResult}: its {@link Flight} tells it, besides the value,
 * whether the outcome was shared and whether it led. Any thread; the caller's own promise, made on its
 * context, runs its handlers there.
 */
public final class ResultWaiter implements Promise<Object> {

  private final Promise<FlightResult<Object>> caller;

  /** @param caller the caller's promise */
  public ResultWaiter(Promise<FlightResult<Object>> caller) {
    this.caller = caller;
  }

  /** Completes the caller with what its flight tells it. */
  boolean tryComplete(Object value, boolean shared, boolean leader) {
    return caller.tryComplete(new FlightResultImpl(value, shared, leader));
  }

  /** A value that did not come through a flight: neither shared nor led. */
  @Override
  public boolean tryComplete(Object value) {
    return tryComplete(value, false, false);
  }

  @Override
  public boolean tryFail(Throwable failure) {
    return caller.tryFail(failure);
  }

  @Override
  @SuppressWarnings("unchecked")
  public Future<Object> future() {
    return (Future<Object>) (Future<?>) caller.future();
  }
}
