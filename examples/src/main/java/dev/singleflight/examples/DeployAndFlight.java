package dev.singleflight.examples;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.List;

/**
 * DeployAndFlight deploys the {@link SingleFlightVerticle}, then has three callers ask at once for a
 * report whose blocking query runs once for them all.
 */
public final class DeployAndFlight {

  private DeployAndFlight() {
  }

  /**
   * Deploys a {@link SingleFlightVerticle} at the default address and makes a proxy for it.
   *
   * @param vertx the Vert.x instance
   * @return the proxy, once the verticle takes calls
   */
  public static Future<SingleFlight> deploy(Vertx vertx) {
    // tag::deploy[]
    return vertx.deployVerticle(new SingleFlightVerticle())
      .map(deploymentId -> SingleFlight.createProxy(vertx));
    // end::deploy[]
  }

  /**
   * Reads the daily report; calls made while a read runs share it.
   *
   * @param flights the proxy
   * @param store the database
   * @return the report
   */
  public static Future<String> dailyReport(SingleFlight flights, SlowStore store) {
    // tag::flight[]
    // The function blocks: it runs on a worker thread, once for all the callers of "report:daily".
    return flights.flight("report:daily", () -> store.read("report:daily"));
    // end::flight[]
  }

  /**
   * Runs the example: three concurrent callers, a read of 300 ms, one read in all.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx();
    try {
      SingleFlight flights = deploy(vertx).await();
      SlowStore store = new SlowStore(Duration.ofMillis(300)).put("report:daily", "42 orders, 3 returns");
      List<Future<String>> callers = List.of(
        dailyReport(flights, store), dailyReport(flights, store), dailyReport(flights, store));
      Future.all(callers).await();
      System.out.printf("%d callers got '%s'; the store was read %d time(s)%n",
        callers.size(), callers.get(0).result(), store.reads());
    } finally {
      vertx.close().await();
    }
  }
}
