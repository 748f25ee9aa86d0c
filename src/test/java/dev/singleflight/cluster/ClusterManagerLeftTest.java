package dev.singleflight.cluster;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import dev.singleflight.VerticleStoppedException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.impl.VertxImpl;
import io.vertx.core.internal.VertxInternal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.singleflight.cluster.ClusterNodes.await;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * A clustered verticle whose node has already left the cluster (Vert.x HA simulating a kill makes the
 * cluster manager leave while the verticle still runs) still stops cleanly: on Infinispan, whose event bus
 * then throws at once on every send, the verticle's goodbye to the other members threw out of its stop,
 * and the waiting callers were never answered.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterManagerLeftTest {

  ClusterNodes cluster;

  @AfterEach
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aVerticleWhoseNodeLeftTheClusterStopsAndFailsItsWaiters() throws Exception {
    cluster = ClusterNodes.startHighlyAvailable("left", "stays");
    String deployment = null;
    for (int node = 0; node < 2; node++) {
      String id = await(cluster.node(node).deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setClustered(true))));
      deployment = node == 0 ? id : deployment;
    }
    Promise<String> never = Promise.promise();
    Future<String> waiting = SingleFlight.createProxy(cluster.node(0)).flightAsync("k", never::future);
    ((VertxImpl) cluster.node(0)).haManager().simulateKill();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (((VertxInternal) cluster.node(0)).clusterManager().isActive()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("node 0 did not leave the cluster");
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    // The undeploy itself may fail: Vert.x cannot remove the consumers' registrations from a cluster manager
    // that left (Hazelcast says it is not active). The verticle's stop must still reach the flight map.
    await(cluster.node(0).undeploy(deployment).recover(e -> Future.succeededFuture()));
    assertInstanceOf(VerticleStoppedException.class, ClusterTest.failureOf(waiting));
  }
}
