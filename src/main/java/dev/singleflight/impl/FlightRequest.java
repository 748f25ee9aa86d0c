package dev.singleflight.impl;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * One proxy call on its way to the verticle: it crosses the event bus by reference (see
 * {@link LocalCodec}), carrying the caller's function and the promise that the verticle completes.
 * Immutable.
 */
public final class FlightRequest implements Work {

  /** What the caller asks for. */
  public enum Kind {
    /** Join or start a flight whose function is a blocking {@link Callable}. */
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

  /**
   * Runs the caller's function: a blocking one on a worker thread; an asynchronous one right here,
   * on the event loop. Never throws: a function
   * that throws, or returns {@code null} instead of a Future, gives a failed Future.
   */
  @Override
  @SuppressWarnings("unchecked")
  public Future<Object> start(FlightMap flights, Flight flight) {
    try {
      if (kind == Kind.BLOCKING) {
        return flights.executeBlocking(flight, (Callable<Object>) fn);
      }
      Future<Object> result = ((Supplier<Future<Object>>) fn).get();
      if (result == null) {
        return Future.failedFuture(new NullPointerException(
          "the async function of key '" + key + "' returned null instead of a Future"));
      }
      return result;
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }
}
