package dev.singleflight;

import dev.singleflight.impl.local.SingleFlightProxy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * SingleFlight is the typed proxy of a {@link SingleFlightVerticle}: it collapses concurrent calls
 * for an equal key into one execution of the function.
 *
 * <p>The first call for a key starts the function; calls for the same key made while it runs wait
 * for it; every one of them gets the very same result object, or the very same {@link Throwable}
 * (checked exceptions and {@link Error}s unwrapped). Once the flight completes the key is free
 * again: nothing is cached, failures neither. Calls for different keys never wait for each other.
 * The verticle's options change two of these: with {@code copyResults} every caller but the first
 * gets its own copy of a mutable result, and with {@code hedgeAfter} a slow flight starts the
 * function again and completes every caller with the first success
 * ({@link SingleFlightOptions#setHedgeAfter(long)}).
 *
 * <p>Threading: a returned {@link Future} completes on the caller's Vert.x context when the call is
 * made on one (its {@code onComplete} handlers run there); from a non-Vert.x thread it completes on
 * an event loop of the Vert.x instance. A proxy is thread-safe and cheap; create it once.
 *
 * <p>Failures that do not come from the function:
 * <ul>
 *   <li>{@link java.util.concurrent.TimeoutException}: this caller's timeout elapsed (the flight
 *   goes on for the others), or the flight ran longer than the verticle's maxFlightTime;</li>
 *   <li>{@link java.util.concurrent.RejectedExecutionException}: the verticle's maxInFlight or
 *   maxWaiters was reached;</li>
 *   <li>{@link IllegalArgumentException}: the key is longer than the verticle's maxKeyLength;</li>
 *   <li>{@link RemoteFlightException}: clustered, the function ran on another node and failed;</li>
 *   <li>what a result's {@link io.vertx.core.shareddata.Shareable#copy()} threw: the verticle's
 *   {@code copyResults} is on and this caller's copy failed;</li>
 *   <li>{@link IllegalStateException}: the verticle was undeployed while the caller waited;</li>
 *   <li>{@link io.vertx.core.eventbus.ReplyException} with
 *   {@link io.vertx.core.eventbus.ReplyFailure#NO_HANDLERS}: no verticle is deployed at the
 *   address.</li>
 * </ul>
 * A {@code null} key or function, or a timeout that is not positive, throws at once and nothing is
 * sent.
 */
public interface SingleFlight {

  /**
   * Creates a proxy for the verticle at {@link SingleFlightOptions#DEFAULT_ADDRESS}.
   *
   * @param vertx the Vert.x instance the verticle is deployed on
   * @return the proxy
   */
  static SingleFlight createProxy(Vertx vertx) {
    return createProxy(vertx, SingleFlightOptions.DEFAULT_ADDRESS);
  }

  /**
   * Creates a proxy for the verticle at {@code address}.
   *
   * @param vertx the Vert.x instance the verticle is deployed on
   * @param address the verticle's {@link SingleFlightOptions#getAddress() address}
   * @return the proxy
   * @throws NullPointerException when an argument is {@code null}
   */
  static SingleFlight createProxy(Vertx vertx, String address) {
    return new SingleFlightProxy(vertx, address);
  }

  /**
   * Runs the blocking function {@code fn} once for all concurrent callers of {@code key}, on a worker
   * thread through {@code executeBlocking} (unordered: functions of other keys run in parallel), and
   * waits without a time limit.
   *
   * @param <T> the type of the result; callers of one key must agree on it
   * @param key the key; calls with an {@link String#equals equal} key are collapsed
   * @param fn the function; it may block; it runs only when this call starts the flight
   * @return the flight's result ({@code null} is a valid one) or its failure
   * @throws NullPointerException when {@code key} or {@code fn} is {@code null}
   */
  <T> Future<T> flight(String key, Callable<T> fn);

  /**
   * Like {@link #flight(String, Callable)}, but this caller gives up after {@code timeout}: its
   * Future fails with a {@link java.util.concurrent.TimeoutException} while the function keeps running
   * for the other callers.
   *
   * @param <T> the type of the result; callers of one key must agree on it
   * @param key the key; calls with an {@link String#equals equal} key are collapsed
   * @param fn the function; it may block; it runs only when this call starts the flight
   * @param timeout how long this caller waits, positive (millisecond resolution)
   * @return the flight's result ({@code null} is a valid one) or its failure, or a
   * {@link CallerTimeoutException} once {@code timeout} elapsed
   * @throws NullPointerException when an argument is {@code null}
   * @throws IllegalArgumentException when {@code timeout} is zero or negative
   */
  <T> Future<T> flight(String key, Callable<T> fn, Duration timeout);

  /**
   * Runs the asynchronous function {@code fn} once for all concurrent callers of {@code key}, on the
   * verticle's event loop, and waits without a time limit. {@code fn} must not block. A {@code fn}
   * that throws, or returns {@code null} instead of a Future, fails every caller of the flight.
   * A blocking and an asynchronous call for the same key share one flight.
   *
   * @param <T> the type of the result; callers of one key must agree on it
   * @param key the key; calls with an {@link String#equals equal} key are collapsed
   * @param fn the function; it runs only when this call starts the flight
   * @return the result of the Future that {@code fn} returned, or its failure
   * @throws NullPointerException when {@code key} or {@code fn} is {@code null}
   */
  <T> Future<T> flightAsync(String key, Supplier<Future<T>> fn);

  /**
   * Like {@link #flightAsync(String, Supplier)}, but this caller gives up after {@code timeout}: its
   * Future fails with a {@link java.util.concurrent.TimeoutException} while the flight goes on for the
   * other callers.
   *
   * @param <T> the type of the result; callers of one key must agree on it
   * @param key the key; calls with an {@link String#equals equal} key are collapsed
   * @param fn the function; it runs only when this call starts the flight
   * @param timeout how long this caller waits, positive (millisecond resolution)
   * @return the result of the Future that {@code fn} returned, or its failure, or a
   * {@link CallerTimeoutException} once {@code timeout} elapsed
   * @throws NullPointerException when an argument is {@code null}
   * @throws IllegalArgumentException when {@code timeout} is zero or negative
   */
  <T> Future<T> flightAsync(String key, Supplier<Future<T>> fn, Duration timeout);

  /**
   * Makes a {@link Batch} named {@code name} whose asynchronous {@code loader} loads the keys of a
   * batch in one call, on the verticle's event loop (it must not block). Keys not in flight gather in
   * the open batch of {@code name} on the instance that owns them, which is loaded once it holds
   * {@code options}' maxBatchSize keys or maxDelay ms after its first key; a key already in flight,
   * in a batch or in a plain flight, is joined. The first Batch of a name to open a batch decides its
   * loader and options: give one name one loader.
   *
   * @param <T> the type of a key's value
   * @param name the batch name, tagged on the {@code singleflight.batches} meters
   * @param loader the loader; a failure, a throw or a {@code null} fails every caller of its batch
   * @param options when a batch is loaded, copied
   * @return the batch; making it sends nothing
   * @throws NullPointerException when an argument is {@code null}
   */
  <T> Batch<T> batchAsync(String name, BatchLoader<T> loader, BatchOptions options);

  /**
   * Like {@link #batchAsync}, with a {@code loader} that blocks: it runs on a worker thread through
   * unordered {@code executeBlocking}, so batches load in parallel.
   *
   * @param <T> the type of a key's value
   * @param name the batch name, tagged on the {@code singleflight.batches} meters
   * @param loader the loader; a throw or a {@code null} fails every caller of its batch
   * @param options when a batch is loaded, copied
   * @return the batch; making it sends nothing
   * @throws NullPointerException when an argument is {@code null}
   */
  <T> Batch<T> batch(String name, BlockingBatchLoader<T> loader, BatchOptions options);

  /**
   * Forgets the flight of {@code key}: callers already waiting still get its result, and a call made
   * after the returned Future completes starts a fresh execution. Forgetting a key that is not in
   * flight succeeds.
   *
   * @param key the key
   * @return a Future completed once the verticle has forgotten the key
   * @throws NullPointerException when {@code key} is {@code null}
   */
  Future<Void> forget(String key);

  /**
   * Like {@link #flight(String, Callable, Duration)}, but tells the caller, besides the value, whether
   * it was shared with other callers and whether this call led the flight ({@link FlightResult}).
   * Blocking and asynchronous calls, with or without a result, share one flight for a key.
   *
   * @param <T> the type of the value
   * @param key the key; calls with an {@link String#equals equal} key are collapsed
   * @param fn the function; it runs only when this call starts the flight
   * @param timeout how long this caller waits, positive (millisecond resolution), or {@code null} for
   *                no limit
   * @return the flight's value and how this call took part, or the flight's failure
   * @throws NullPointerException when {@code key} or {@code fn} is {@code null}
   * @throws IllegalArgumentException when {@code timeout} is zero or negative
   */
  <T> Future<FlightResult<T>> flightResult(String key, Callable<T> fn, Duration timeout);

  /**
   * Like {@link #flightAsync(String, Supplier, Duration)}, but tells the caller, besides the value,
   * whether it was shared with other callers and whether this call led the flight ({@link FlightResult}).
   *
   * @param <T> the type of the value
   * @param key the key; calls with an {@link String#equals equal} key are collapsed
   * @param fn the function; it runs only when this call starts the flight
   * @param timeout how long this caller waits, positive (millisecond resolution), or {@code null} for
   *                no limit
   * @return the flight's value and how this call took part, or the flight's failure
   * @throws NullPointerException when {@code key} or {@code fn} is {@code null}
   * @throws IllegalArgumentException when {@code timeout} is zero or negative
   */
  <T> Future<FlightResult<T>> flightAsyncResult(String key, Supplier<Future<T>> fn, Duration timeout);

  /**
   * The keys in flight now, for operators who need to see what is stuck: over every instance of the
   * verticle's deployment (clustered: on this node). A forgotten flight is no longer in flight, even
   * while its function still runs for the callers it had.
   *
   * @return a Future of the keys, a set of its own; failed like a call when no verticle is deployed
   * at the address ({@link io.vertx.core.eventbus.ReplyException}) or it was undeployed
   */
  Future<Set<String>> inFlight();
}
