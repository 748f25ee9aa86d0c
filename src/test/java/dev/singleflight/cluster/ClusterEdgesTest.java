package dev.singleflight.cluster;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.TimeUnit;

import static dev.singleflight.cluster.ClusterNodes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A clustered verticle at the edges: a deployment that fails, timeouts at the edge of long (issue #12). */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterEdgesTest {

  static MeterRegistry registry;
  static ClusterNodes cluster;
  static Vertx vertx;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ClusterNodes.startWithMetrics(1);
    vertx = cluster.node(0);
    registry = cluster.registry(0);
    await(vertx.eventBus().consumer("echo.service", message -> message.reply(message.body())).completion());
  }

  @AfterAll
  static void stopCluster() throws Exception {
    cluster.close();
  }

  static Gauge inflight(String address) {
    return registry.find("singleflight.inflight").tag("address", address).gauge();
  }

  @Test
  void aDeploymentThatFailsReleasesItsGaugesSoTheNextOneAtTheAddressCountsItsOwnFlights() throws Exception {
    String address = "failing.flight";
    SingleFlightOptions options = new SingleFlightOptions().setAddress(address).setClustered(true).setWorkerPoolName("failing-pool")
      .setMetricsRegistryName(cluster.registryName(0));
    // Two instances of a clustered verticle on one node: refused, after the options were read.
    assertThrows(IllegalArgumentException.class,
      () -> await(vertx.deployVerticle(() -> new SingleFlightVerticle(options), new DeploymentOptions().setInstances(2))));
    assertNull(inflight(address), "the failed deployment left its gauge");
    String deployment = await(vertx.deployVerticle(new SingleFlightVerticle(options)));
    Promise<String> work = Promise.promise();
    Future<String> caller = SingleFlight.createProxy(vertx, address).flightAsync("k", work::future);
    awaitGauge(address, 1);
    vertx.runOnContext(v -> work.complete("done"));
    assertEquals("done", await(caller));
    awaitGauge(address, 0);
    await(vertx.undeploy(deployment));
    assertNull(inflight(address));
  }

  /** Polls: the gauge is read on this thread while the verticle's event loop moves it. */
  static void awaitGauge(String address, double value) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (inflight(address) == null || inflight(address).value() != value) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("singleflight.inflight at " + address + " never read " + value + ", was "
          + (inflight(address) == null ? "absent" : inflight(address).value()));
      }
      TimeUnit.MILLISECONDS.sleep(10);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"9223372036854775807", "1e19", "9.2e18", "2147483648"})
  void aJsonTimeoutAtTheEdgeOfLongIsAnsweredWhenForwardedToTheOwner(String timeout) throws Exception {
    String address = "edge.flight";
    String deployment = await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setAddress(address).setClustered(true)
      .setMetricsRegistryName(cluster.registryName(0)))));
    try {
      JsonObject request = new JsonObject("{\"key\":\"k\",\"address\":\"echo.service\",\"body\":\"value\",\"timeout\":" + timeout + "}");
      assertEquals("value", await(vertx.eventBus().request(address, request).map(Message::body)));
    } finally {
      await(vertx.undeploy(deployment));
    }
  }
}
