package dev.singleflight.cluster;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import dev.singleflight.impl.cluster.RendezvousHash;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.Context;
import io.vertx.core.eventbus.DeliveryContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.singleflight.cluster.ClusterNodes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A key whose owner changed lately: its new owner holds the first joins while it asks the previous owner
 * for the key's flight (handover). A forget that arrives meanwhile must still leave the next caller a
 * fresh flight. It did not: the handover's answer then started the held join's flight as the key's
 * current one, the forget having missed it, and every later caller waited on it (on Infinispan
 * {@code ClusterTest.aJsonForgetIsRoutedToTheOwner} hung so in about one run of five).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ForgetDuringHandoverTest {

  ClusterNodes cluster;

  @AfterEach
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aForgetWhileTheNewOwnerAsksForTheFlightLeavesTheNextCallerAFreshOne() throws Exception {
    cluster = ClusterNodes.start(3);
    for (int node = 0; node < 2; node++) {
      await(cluster.node(node).deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setClustered(true))));
    }
    String key = null;
    for (int k = 0; key == null; k++) {
      if (RendezvousHash.ownerOf("k" + k, List.of(cluster.nodeId(0), cluster.nodeId(1), cluster.nodeId(2))).equals(cluster.nodeId(2))) {
        key = "k" + k;
      }
    }
    String owned = key;
    int previous = RendezvousHash.ownerOf(key, List.of(cluster.nodeId(0), cluster.nodeId(1))).equals(cluster.nodeId(0)) ? 0 : 1;
    // The previous owner holds the new owner's first handover until the forget is done.
    CompletableFuture<Runnable> handover = new CompletableFuture<>();
    cluster.node(previous).eventBus().addInboundInterceptor((DeliveryContext<Object> delivery) -> {
      if ("handover".equals(delivery.message().headers().get("singleflight-op"))
        && owned.equals(delivery.message().headers().get("singleflight-key")) && !handover.isDone()) {
        // Delivered later on the same event loop, as the interceptor runs now.
        Context context = Vertx.currentContext();
        handover.complete(() -> context.runOnContext(v -> delivery.next()));
      } else {
        delivery.next();
      }
    });
    // Node 2's verticle starts: the key is its own now, and was node `previous`'s a moment ago.
    await(cluster.node(2).deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setClustered(true))));
    Promise<String> never = Promise.promise();
    Future<String> old = SingleFlight.createProxy(cluster.node(0)).flightAsync(key, never::future);
    Runnable deliverHandover = handover.get(60, TimeUnit.SECONDS);
    await(SingleFlight.createProxy(cluster.node(1)).forget(key));
    deliverHandover.run();
    assertEquals("fresh", await(SingleFlight.createProxy(cluster.node(1)).flight(key, () -> "fresh").timeout(20, TimeUnit.SECONDS)));
    never.complete("old");
    assertEquals("old", await(old));
  }
}
