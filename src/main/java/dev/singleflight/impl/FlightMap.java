package dev.singleflight.impl;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * The verticle's map of flights: key to the one {@link Flight} running for it.
 *
 * <p>Only touched on the verticle's event loop ({@link #context}): no locks. The outcome of a flight's
 * {@link Work} may complete on any thread; it is brought back to the event loop before the map is
 * touched.
 */
public final class FlightMap {

  private final ContextInternal context;
  private final String address;
  private final Map<String, Flight> flights = new HashMap<>();
  private boolean closed;

  public FlightMap(ContextInternal context, String address) {
    this.context = context;
    this.address = address;
  }

  /** Serves one proxy call: forget, or join the key's flight. */
  public void handle(FlightRequest request) {
    if (request.kind == FlightRequest.Kind.FORGET) {
      if (closed) {
        request.promise.tryFail(stopped());
      } else {
        forget(request.key);
        request.promise.tryComplete();
      }
    } else {
      join(request.key, request.promise, request.timed, request.deadline, request);
    }
  }

  /**
   * Adds {@code waiter} to the flight of {@code key}, starting {@code work} when the key is free.
   * After {@link #close()} the waiter fails at once.
   *
   * @param timed whether the waiter gives up at {@code deadline}, a {@link System#nanoTime()}
   */
  public void join(String key, Promise<Object> waiter, boolean timed, long deadline, Work work) {
    if (closed) {
      waiter.tryFail(stopped());
      return;
    }
    Flight flight = flights.get(key);
    if (flight != null) {
      flight.join(waiter, timed, deadline, context.owner());
      return;
    }
    flight = new Flight(key);
    flights.put(key, flight);
    flight.join(waiter, timed, deadline, context.owner());
    work.start(context).onComplete(outcomeOf(flight));
  }

  /** Forgets the flight of {@code key}: its waiters keep it, the next call starts a new one. */
  public void forget(String key) {
    flights.remove(key);
  }

  /** @return the number of keys in flight */
  public int size() {
    return flights.size();
  }

  /** @return whether {@link #close()} was called */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Fails every waiting caller with {@link #stopped()}; calls joining afterwards fail the same way.
   * Results of work still running are dropped.
   */
  public void close() {
    closed = true;
    VerticleStoppedException stopped = stopped();
    for (Flight flight : new ArrayList<>(flights.values())) {
      flight.complete(Future.failedFuture(stopped), context.owner());
    }
    flights.clear();
  }

  /** @return the failure of a caller whose verticle is gone */
  public VerticleStoppedException stopped() {
    return new VerticleStoppedException("the SingleFlightVerticle at '" + address + "' was undeployed");
  }

  /**
   * The handler that ends {@code flight}: on the event loop, it frees the key, unless a forget
   * already replaced this flight with a newer one (Go's golang/go#31420), and serves every caller.
   */
  private Handler<AsyncResult<Object>> outcomeOf(Flight flight) {
    return outcome -> context.emit(outcome, result -> {
      flights.remove(flight.key, flight);
      flight.complete(result, context.owner());
    });
  }
}
