package dev.singleflight;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;

/**
 * Batch gets keys' values through one loader, many keys per loader call, made by
 * {@link SingleFlight#batchAsync} or {@link SingleFlight#batch}.
 *
 * <p>Each key is a flight of the verticle, shared with every other call for that key: a call for a
 * key in flight (in a batch being gathered or loaded, or in a plain {@code flight} of the same key)
 * joins it. A key not in flight joins the open batch of the Batch's name on the verticle instance
 * that owns the key; that batch is loaded (one loader call) once it holds
 * {@link BatchOptions#getMaxBatchSize() maxBatchSize} keys, or {@link BatchOptions#getMaxDelay()
 * maxDelay} ms after its first key came. Batches of one name never wait for each other. Nothing is
 * cached: once its batch is loaded, a key is free again.
 *
 * <p>A key the loader leaves out of its map gets {@code null} (DataLoader fails it instead). A loader
 * that fails fails every caller of its batch with the same {@link Throwable}.
 *
 * <p>Threading and failures are those of {@link SingleFlight}: a Future completes on the caller's
 * context; per-caller timeouts, {@code maxFlightTime}, {@code maxInFlight} (each key counts),
 * {@code maxWaiters}, {@code maxKeyLength} and undeploy apply to each key as to a flight. A Batch is
 * thread-safe and cheap; create it once.
 *
 * @param <T> the type of a key's value
 */
public interface Batch<T> {

  /**
   * Gets the value of {@code key}, waiting without a time limit.
   *
   * @param key the key
   * @return its value as loaded by its batch ({@code null} when the loader left it out), or the
   * batch's failure
   * @throws NullPointerException when {@code key} is {@code null}
   */
  Future<T> get(String key);

  /**
   * Like {@link #get(String)}, but this caller gives up after {@code timeout} with a
   * {@link java.util.concurrent.TimeoutException}; the batch goes on for the other callers.
   *
   * @param key the key
   * @param timeout how long this caller waits, positive (millisecond resolution)
   * @return its value as loaded by its batch, or the batch's failure, or a
   * {@link java.util.concurrent.TimeoutException} once {@code timeout} elapsed
   * @throws NullPointerException when an argument is {@code null}
   * @throws IllegalArgumentException when {@code timeout} is zero or negative
   */
  Future<T> get(String key, Duration timeout);

  /**
   * Gets the values of {@code keys}, each as {@link #get(String)} does (keys owned by one instance
   * gather in its batches; equal keys are asked once).
   *
   * @param keys the keys, none {@code null}
   * @return the values by key, in the order of {@code keys}, once every key has its value; failed
   * with the first failure of a key
   * @throws NullPointerException when {@code keys} or one of them is {@code null}
   */
  Future<Map<String, T>> getAll(Collection<String> keys);

  /**
   * Forgets the flight of {@code key}, exactly as {@link SingleFlight#forget(String)}: callers
   * already waiting still get the value of their batch, and a call made after the returned Future
   * completed starts a fresh one.
   *
   * @param key the key
   * @return a Future completed once the verticle has forgotten the key
   * @throws NullPointerException when {@code key} is {@code null}
   */
  Future<Void> forget(String key);
}
