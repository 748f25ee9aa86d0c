package dev.singleflight.impl;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.internal.ContextInternal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * The verticle's map of flights, key to the one {@link Flight} running for it, and the execution of
 * their functions.
 *
 * <p>Only touched on the verticle's event loop ({@link #context}): no locks. Blocking functions run
 * through unordered {@code executeBlocking}; asynchronous ones run here, on the event loop. Their
 * outcome is brought back to the event loop before the map is touched.
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

  /** Serves one proxy call: forget, or join the key's flight, starting it if there is none. */
  public void handle(FlightRequest request) {
    if (closed) {
      request.promise.tryFail(stopped());
      return;
    }
    if (request.kind == FlightRequest.Kind.FORGET) {
      flights.remove(request.key);
      request.promise.tryComplete();
      return;
    }
    Flight flight = flights.get(request.key);
    if (flight != null) {
      flight.join(request, context.owner());
      return;
    }
    flight = new Flight(request.key);
    flights.put(request.key, flight);
    flight.join(request, context.owner());
    execute(request).onComplete(outcomeOf(flight));
  }

  /** @return the number of keys in flight */
  public int size() {
    return flights.size();
  }

  /**
   * Fails every waiting caller with an {@link IllegalStateException}; calls handled afterwards fail
   * the same way. Results of functions still running are dropped.
   */
  public void close() {
    closed = true;
    IllegalStateException stopped = stopped();
    for (Flight flight : new ArrayList<>(flights.values())) {
      flight.complete(Future.failedFuture(stopped), context.owner());
    }
    flights.clear();
  }

  /** @return the error of a caller whose verticle is gone */
  public IllegalStateException stopped() {
    return new IllegalStateException("the SingleFlightVerticle at '" + address + "' was undeployed");
  }

  @SuppressWarnings("unchecked")
  private Future<Object> execute(FlightRequest request) {
    try {
      if (request.kind == FlightRequest.Kind.BLOCKING) {
        return context.executeBlocking((Callable<Object>) request.fn, false);
      }
      Future<Object> result = ((Supplier<Future<Object>>) request.fn).get();
      if (result == null) {
        return Future.failedFuture(new NullPointerException(
          "the async function of key '" + request.key + "' returned null instead of a Future"));
      }
      return result;
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
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
