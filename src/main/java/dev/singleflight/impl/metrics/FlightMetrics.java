package dev.singleflight.impl.metrics;

import io.vertx.core.Vertx;

/**
 * The meters of one verticle, fed on its event loop. A {@link FlightMap} without metrics holds
 * {@code null} instead and pays one null check per event.
 *
 * <p>This is an interface so that the verticle loads no Micrometer class unless metrics are on:
 * vertx-micrometer-metrics is an optional dependency.
 */
public interface FlightMetrics {

  /**
   * @param registryName the name of the Micrometer registry of {@code vertx}'s metrics
   * @param gauges the gauges' values, shared by the instances of the verticle's deployment
   * @return the metrics of a verticle at {@code address}, or {@code null} when {@code vertx} does not
   * run Micrometer metrics, or no registry has that name (a warning says so)
   */
  static FlightMetrics create(Vertx vertx, String address, String registryName, SharedGauges gauges) {
    if (!vertx.isMetricsEnabled() || !MicrometerPresence.PRESENT) {
      return null;
    }
    return MicrometerFlightMetrics.create(registryName, address, gauges);
  }

  /** A call started an execution. */
  void leader();

  /** A call joined a running execution. */
  void follower();

  /** A waiting caller left before the end of its flight (its timeout elapsed). */
  void waiterLeft();

  /**
   * An execution ended.
   *
   * @param startNanos its {@link System#nanoTime()} at start
   * @param succeeded whether it succeeded
   * @param waiting the callers it served
   */
  void executionEnded(long startNanos, boolean succeeded, int waiting);

  /**
   * A batch's loader call ended.
   *
   * @param name the batch name (a JSON-protocol batch's downstream address)
   * @param startNanos its {@link System#nanoTime()} at start
   * @param succeeded whether it gave a map
   * @param keys the keys it was asked for
   */
  void batchEnded(String name, long startNanos, boolean succeeded, int keys);

  /** A flight was abandoned without ending: the verticle stopped. */
  void flightDropped(int waiting);

  /**
   * A clustered flight runs its key once more: the owner granted its lead again (its leader left,
   * went silent or gave up), or a JSON flight sent again after its owner left starts at the new owner.
   */
  void clusterMove();

  /**
   * A hedge of a flight ({@code hedgeAfter}) is decided.
   *
   * @param won whether its success was the flight's outcome
   */
  void hedge(boolean won);

  /** A forget request was served. */
  void forget();

  /** Removes the verticle's gauges: the verticle is gone. */
  void close();

  /** Whether vertx-micrometer-metrics is on the class path. */
  final class MicrometerPresence {
    static final boolean PRESENT = isPresent();

    private MicrometerPresence() {
    }

    private static boolean isPresent() {
      try {
        Class.forName("io.vertx.micrometer.backends.BackendRegistries", false, FlightMetrics.class.getClassLoader());
        return true;
      } catch (ClassNotFoundException e) {
        return false;
      }
    }
  }
}
