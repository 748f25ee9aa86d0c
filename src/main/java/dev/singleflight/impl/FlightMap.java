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
  /** Null when metrics are off. */
  private final FlightMetrics metrics;
  private boolean closed;

  public FlightMap(ContextInternal context, String address, FlightMetrics metrics) {
    this.context = context;
    this.address = address;
    this.metrics = metrics;
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
      if (metrics != null) {
        metrics.follower();
      }
      flight.join(waiter, timed, deadline, context.owner());
      return;
    }
    if (metrics != null) {
      metrics.leader();
    }
    flight = new Flight(key, metrics);
    flights.put(key, flight);
    flight.join(waiter, timed, deadline, context.owner());
    work.start(context).onComplete(outcomeOf(flight));
  }

  /** Forgets the flight of {@code key}: its waiters keep it, the next call starts a new one. */
  public void forget(String key) {
    if (metrics != null) {
      metrics.forget();
    }
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
      int served = flight.complete(Future.failedFuture(stopped), context.owner());
      if (metrics != null) {
        metrics.flightDropped(served);
      }
    }
    flights.clear();
    if (metrics != null) {
      metrics.close();
    }
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
      if (flight.isDone()) {
        return;
      }
      flights.remove(flight.key, flight);
      int served = flight.complete(result, context.owner());
      if (metrics != null) {
        metrics.executionEnded(flight.startNanos, result.succeeded(), served);
      }
    });
  }
}
