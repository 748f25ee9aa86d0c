package dev.singleflight.examples;

import java.time.Duration;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SlowStore stands for a database in the examples: a map whose reads block for a while and are
 * counted, and whose writes are instant. Thread-safe.
 *
 * <p>A read takes the value first, then waits out the latency, so a read in progress during a write
 * returns the value from before it, as a query that started earlier would. {@link #release()} ends
 * the latency of the reads waiting and of all later ones at once: tests use it to choose when the
 * reads finish.
 */
public final class SlowStore {

  private final Map<String, String> rows = new ConcurrentHashMap<>();
  private final AtomicInteger reads = new AtomicInteger();
  private final CountDownLatch released = new CountDownLatch(1);
  private final Duration latency;

  /**
   * An empty store.
   *
   * @param latency how long each read blocks, unless {@link #release() released}
   */
  public SlowStore(Duration latency) {
    this.latency = latency;
  }

  /**
   * Writes a row, at once.
   *
   * @return this, for chaining
   */
  public SlowStore put(String key, String value) {
    rows.put(key, value);
    return this;
  }

  /**
   * Reads a row; blocks for the latency: call it from a worker thread.
   *
   * @param key the row's key
   * @return the row's value at the start of the read
   * @throws NoSuchElementException when there is no such row, after the latency too
   * @throws InterruptedException when interrupted while waiting
   */
  public String read(String key) throws InterruptedException {
    reads.incrementAndGet();
    String value = rows.get(key);
    released.await(latency.toMillis(), TimeUnit.MILLISECONDS);
    if (value == null) {
      throw new NoSuchElementException("no row '" + key + "'");
    }
    return value;
  }

  /** @return the number of reads started so far */
  public int reads() {
    return reads.get();
  }

  /** Ends the latency of the reads waiting now and of every later read. */
  public void release() {
    released.countDown();
  }
}
