package dev.singleflight.impl.metrics;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The values of the gauges {@code singleflight.inflight} and {@code singleflight.waiters}, shared by
 * the instances of one deployment: each instance counts on its own event loop, and a scrape on any
 * thread reads their sum.
 */
public final class SharedGauges {
  /** Flights running now, over all instances. */
  final AtomicInteger inflight = new AtomicInteger();
  /** Callers waiting now, over all instances, leaders included. */
  final AtomicInteger waiters = new AtomicInteger();
  /**
   * The instances whose meters are open: the first registers the gauges, the last removes them, so
   * that a gauge is registered once per deployment (Micrometer warns about a second registration).
   */
  final AtomicInteger holders = new AtomicInteger();
}
