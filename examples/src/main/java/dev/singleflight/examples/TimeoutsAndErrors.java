package dev.singleflight.examples;

import dev.singleflight.SingleFlight;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * TimeoutsAndErrors shows the two ways a caller fails: its own timeout elapses (a
 * {@link TimeoutException}, while the flight goes on for the other callers), or the function throws
 * (every caller of the flight gets that very exception).
 */
public final class TimeoutsAndErrors {

  private TimeoutsAndErrors() {
  }

  /**
   * Reads the report, waiting at most {@code patience}.
   *
   * @param flights the proxy
   * @param store the database
   * @param patience how long this caller waits
   * @return the report; failed with a {@link TimeoutException} when {@code patience} elapses first
   */
  public static Future<String> reportWithin(SingleFlight flights, SlowStore store, Duration patience) {
    // tag::timeout[]
    // Fails with a TimeoutException after `patience`; the read goes on, for the callers still waiting.
    return flights.flight("report:daily", () -> store.read("report:daily"), patience);
    // end::timeout[]
  }

  /**
   * Reads the report, waiting as long as it takes.
   *
   * @param flights the proxy
   * @param store the database
   * @return the report
   */
  public static Future<String> report(SingleFlight flights, SlowStore store) {
    return flights.flight("report:daily", () -> store.read("report:daily"));
  }

  /**
   * Reads a row that is not there.
   *
   * @param flights the proxy
   * @param store the database
   * @return a Future failed with the read's {@link java.util.NoSuchElementException}
   */
  public static Future<String> missingRow(SingleFlight flights, SlowStore store) {
    // tag::errors[]
    // store.read throws NoSuchElementException: every caller of the flight fails with that same instance.
    return flights.flight("row:missing", () -> store.read("missing"));
    // end::errors[]
  }

  /**
   * Runs the example: an impatient and a patient caller of a read of 500 ms, then two callers of a
   * failing read.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx();
    try {
      SingleFlight flights = DeployAndFlight.deploy(vertx).await();
      SlowStore store = new SlowStore(Duration.ofMillis(500)).put("report:daily", "42 orders, 3 returns");
      Future<String> impatient = reportWithin(flights, store, Duration.ofMillis(100));
      Future<String> patient = report(flights, store);
      Future.join(impatient, patient).otherwiseEmpty().await();
      System.out.printf("impatient caller: %s; patient caller: '%s'; reads: %d%n",
        impatient.cause(), patient.result(), store.reads());

      Future<String> first = missingRow(flights, store);
      Future<String> second = missingRow(flights, store);
      Future.join(first, second).otherwiseEmpty().await();
      System.out.printf("both callers failed with the same exception: %b; reads: %d%n",
        first.cause() == second.cause(), store.reads());
    } finally {
      vertx.close().await();
    }
  }
}
