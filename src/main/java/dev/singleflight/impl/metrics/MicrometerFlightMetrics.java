package dev.singleflight.impl.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.micrometer.backends.BackendRegistries;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The verticle's meters in the Micrometer registry of its Vert.x instance, each tagged
 * {@code address}. Counted on the event loop; the gauges' values are atomics, shared by the
 * instances of a deployment, so that a scrape on another thread reads their sum safely.
 */
final class MicrometerFlightMetrics implements FlightMetrics {

  /** The registry names already warned about, so that a warning is logged once per name. */
  private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

  private final MeterRegistry registry;
  private final Counter leaders;
  private final Counter followers;
  private final Counter forgets;
  private final Counter clusterMoves;
  private final Counter hedgesWon;
  private final Counter hedgesLost;
  private final Timer successes;
  private final Timer failures;
  private final AtomicInteger inflight;
  private final AtomicInteger waiters;
  private final String address;
  private final SharedGauges gauges;

  private MicrometerFlightMetrics(MeterRegistry registry, String address, SharedGauges gauges) {
    this.registry = registry;
    this.inflight = gauges.inflight;
    this.waiters = gauges.waiters;
    leaders = Counter.builder("singleflight.calls").description("Calls, each counted once: a leader started an execution, a follower joined one")
      .tag("address", address).tag("role", "leader").register(registry);
    followers = Counter.builder("singleflight.calls").description("Calls, each counted once: a leader started an execution, a follower joined one")
      .tag("address", address).tag("role", "follower").register(registry);
    forgets = Counter.builder("singleflight.forgets").description("Forget requests")
      .tag("address", address).register(registry);
    clusterMoves = Counter.builder("singleflight.cluster.moves")
      .description("Extra executions of clustered flights, each counted once: a lead granted again, or a JSON flight started again at a new owner")
      .tag("address", address).register(registry);
    hedgesWon = Counter.builder("singleflight.hedges")
      .description("Extra executions of slow flights (hedgeAfter): won when their success was the flight's outcome, else lost")
      .tag("address", address).tag("outcome", "won").register(registry);
    hedgesLost = Counter.builder("singleflight.hedges")
      .description("Extra executions of slow flights (hedgeAfter): won when their success was the flight's outcome, else lost")
      .tag("address", address).tag("outcome", "lost").register(registry);
    successes = Timer.builder("singleflight.executions").description("Executions and their durations")
      .tag("address", address).tag("outcome", "success").register(registry);
    failures = Timer.builder("singleflight.executions").description("Executions and their durations")
      .tag("address", address).tag("outcome", "failure").register(registry);
    this.address = address;
    this.gauges = gauges;
    if (gauges.holders.getAndIncrement() == 0) {
      Gauge.builder("singleflight.inflight", inflight, AtomicInteger::get).description("Flights running now")
        .tag("address", address).register(registry);
      Gauge.builder("singleflight.waiters", waiters, AtomicInteger::get).description("Callers waiting now, leaders included")
        .tag("address", address).register(registry);
    }
  }

  /**
   * @return the metrics in the registry named {@code registryName}, or {@code null} when there is
   * none (logged once per name: the meters would be missing without a word)
   */
  static FlightMetrics create(String registryName, String address, SharedGauges gauges) {
    MeterRegistry registry = BackendRegistries.getNow(registryName);
    if (registry == null) {
      if (WARNED.add(registryName)) {
        System.getLogger(MicrometerFlightMetrics.class.getName()).log(System.Logger.Level.WARNING,
          "Vert.x metrics are on, but no Micrometer registry is named ''{0}'': the single-flight verticle at ''{1}''"
            + " registers no meter. Set SingleFlightOptions.metricsRegistryName to the registryName of MicrometerMetricsOptions.",
          registryName, address);
      }
      return null;
    }
    return new MicrometerFlightMetrics(registry, address, gauges);
  }

  @Override
  public void leader() {
    leaders.increment();
    inflight.incrementAndGet();
    waiters.incrementAndGet();
  }

  @Override
  public void follower() {
    followers.increment();
    waiters.incrementAndGet();
  }

  @Override
  public void waiterLeft() {
    waiters.decrementAndGet();
  }

  @Override
  public void executionEnded(long startNanos, boolean succeeded, int waiting) {
    (succeeded ? successes : failures).record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    flightDropped(waiting);
  }

  @Override
  public void batchEnded(String name, long startNanos, boolean succeeded, int keys) {
    // Registered on first use, one per name; the registry returns the existing meter afterwards.
    Timer.builder("singleflight.batches").description("Loader calls of batches and their durations")
      .tag("address", address).tag("name", name).tag("outcome", succeeded ? "success" : "failure").register(registry)
      .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    DistributionSummary.builder("singleflight.batch.size").description("Keys per loader call of a batch")
      .tag("address", address).tag("name", name).register(registry)
      .record(keys);
  }

  @Override
  public void flightDropped(int waiting) {
    inflight.decrementAndGet();
    waiters.addAndGet(-waiting);
  }

  @Override
  public void clusterMove() {
    clusterMoves.increment();
  }

  @Override
  public void hedge(boolean won) {
    (won ? hedgesWon : hedgesLost).increment();
  }

  @Override
  public void forget() {
    forgets.increment();
  }

  @Override
  public void close() {
    if (gauges.holders.decrementAndGet() > 0) {
      return;
    }
    for (String gauge : List.of("singleflight.inflight", "singleflight.waiters")) {
      registry.find(gauge).tag("address", address).meters().forEach(registry::remove);
    }
  }
}
