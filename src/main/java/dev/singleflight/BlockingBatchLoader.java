package dev.singleflight;

import java.util.Map;
import java.util.Set;

/**
 * BlockingBatchLoader loads the values of many keys in one blocking call (a JDBC query with
 * {@code WHERE id IN (...)}). It is the function of a {@link Batch} made by {@link SingleFlight#batch}.
 *
 * <p>Threading: {@link #load} runs on a worker thread through unordered {@code executeBlocking} (the
 * verticle's dedicated pool when {@link SingleFlightOptions#setWorkerPoolName workerPoolName} is
 * set), so batches load in parallel. With {@link SingleFlightOptions#setCancelAbandoned
 * cancelAbandoned}, its thread is interrupted when every caller of every key of its batch has left.
 *
 * @param <T> the type of a key's value
 */
@FunctionalInterface
public interface BlockingBatchLoader<T> {

  /**
   * Loads the values of {@code keys}.
   *
   * <p>A key missing from the returned map gets {@code null}; an entry of a key that was not asked
   * is ignored. A thrown exception (checked ones and {@link Error}s unwrapped) or a {@code null} map
   * fails every caller of every key of the batch with that same {@link Throwable} (a
   * {@link NullPointerException} for a {@code null}).
   *
   * @param keys the distinct keys of one batch, at most its {@link BatchOptions#getMaxBatchSize()
   *             maxBatchSize}, in no particular order; immutable
   * @return the values by key
   * @throws Exception any failure of the load
   */
  Map<String, T> load(Set<String> keys) throws Exception;
}
