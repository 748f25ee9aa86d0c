package dev.singleflight;

import io.vertx.core.Future;

import java.util.Map;
import java.util.Set;

/**
 * BatchLoader loads the values of many keys in one asynchronous call: one {@code WHERE id IN (...)}
 * query, one multi-get, one bulk request. It is the function of a {@link Batch} made by
 * {@link SingleFlight#batchAsync}.
 *
 * <p>Threading: {@link #load} runs on the verticle's event loop and must not block (use a
 * {@link BlockingBatchLoader} for JDBC-style calls). Its Future may complete on any thread.
 *
 * @param <T> the type of a key's value
 */
@FunctionalInterface
public interface BatchLoader<T> {

  /**
   * Loads the values of {@code keys}.
   *
   * <p>A key missing from the returned map gets {@code null}; an entry of a key that was not asked
   * is ignored. A failed Future, a thrown exception, or a {@code null} (as the map or instead of the
   * Future) fails every caller of every key of the batch with that same {@link Throwable} (a
   * {@link NullPointerException} for a {@code null}).
   *
   * @param keys the distinct keys of one batch, at most its {@link BatchOptions#getMaxBatchSize()
   *             maxBatchSize}, in no particular order; immutable
   * @return the values by key
   */
  Future<Map<String, T>> load(Set<String> keys);
}
