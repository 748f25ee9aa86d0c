package dev.singleflight.impl.local;

import dev.singleflight.impl.BatchGroup;
import dev.singleflight.impl.Execution;
import dev.singleflight.impl.Flight;
import dev.singleflight.impl.FlightMap;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * One call of a {@link SingleFlightProxy} on its way to the verticle: the caller's function and the
 * promise that the verticle completes, made on the caller's context. When the call starts its key's
 * flight, its function is the flight's {@link Execution}.
 *
 * @param deadline {@link System#nanoTime()} at which the caller gives up; meaningful only when {@code timed}
 */
public record ProxyCall(Kind kind, String key, Object fn, Promise<Object> promise, long deadline, boolean timed)
  implements Execution {

  /** What the caller asks for. */
  public enum Kind {
    /** Join or start a flight whose function is a blocking {@link Callable}. */
    BLOCKING,
    /** Join or start a flight whose function is a {@code Supplier<Future<?>>} run on the event loop. */
    ASYNC,
    /** Forget the key's flight. */
    FORGET,
    /** Join or start a flight of a key of a batch, whose {@link BatchGroup.Definition} is the {@code fn}. */
    BATCH
  }

  /** Serves the call on the verticle's event loop: forgets the key, or joins its flight. */
  public void serve(FlightMap flights, BatchGroup batches) {
    if (kind != Kind.FORGET) {
      // A key of a batch is not hedged: its batch's one loader call loads it.
      flights.join(key, promise, timed, deadline, kind == Kind.BATCH ? execution(batches) : flights.hedged(this));
    } else if (flights.isClosed()) {
      promise.tryFail(flights.stopped());
    } else {
      flights.forget(key);
      promise.tryComplete();
    }
  }

  /**
   * @return what runs when this call starts its key's flight: the caller's function, or the key's place
   * in the open batch of its name
   */
  Execution execution(BatchGroup batches) {
    return kind == Kind.BATCH ? batches.member(key, (BatchGroup.Definition) fn) : this;
  }

  /**
   * Runs the caller's function: a blocking one on a worker thread; an asynchronous one right here,
   * on the event loop. What the function throws is thrown on, and its flight fails with it (each
   * starter of an {@link Execution} catches); a {@code null} instead of a Future gives a failed Future.
   */
  @Override
  @SuppressWarnings("unchecked")
  public Future<Object> start(FlightMap flights, Flight flight) {
    if (kind == Kind.BLOCKING) {
      return flights.executeBlocking(flight, (Callable<Object>) fn);
    }
    Future<Object> result = ((Supplier<Future<Object>>) fn).get();
    if (result == null) {
      return Future.failedFuture(new NullPointerException(
        "the async function of key '" + key + "' returned null instead of a Future"));
    }
    return result;
  }
}
