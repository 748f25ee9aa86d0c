package dev.singleflight.impl;

import io.vertx.core.Promise;

/**
 * One proxy call on its way to the verticle: it crosses the event bus by reference (see
 * {@link LocalCodec}), carrying the caller's function and the promise that the verticle completes.
 * Immutable.
 */
public final class FlightRequest {

  /** What the caller asks for. */
  public enum Kind {
    /** Join or start a flight whose function is a blocking {@link java.util.concurrent.Callable}. */
    BLOCKING,
    /** Join or start a flight whose function is a {@code Supplier<Future<?>>} run on the event loop. */
    ASYNC,
    /** Forget the key's flight. */
    FORGET
  }

  final Kind kind;
  final String key;
  final Object fn;
  final Promise<Object> promise;
  /** {@link System#nanoTime()} at which the caller gives up; meaningful only when {@link #timed}. */
  final long deadline;
  final boolean timed;

  FlightRequest(Kind kind, String key, Object fn, Promise<Object> promise, long deadline, boolean timed) {
    this.kind = kind;
    this.key = key;
    this.fn = fn;
    this.promise = promise;
    this.deadline = deadline;
    this.timed = timed;
  }

  /** @return the promise of the caller, completed with the flight's outcome */
  public Promise<Object> promise() {
    return promise;
  }
}
