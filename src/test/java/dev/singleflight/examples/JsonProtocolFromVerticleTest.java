package dev.singleflight.examples;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonProtocolFromVerticleTest {

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  void concurrentRequestsForOneDayMakeOneDownstreamRequestAndShareItsReply() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      List<Message<JsonObject>> held = new CopyOnWriteArrayList<>();
      await(vertx.eventBus().<JsonObject>consumer(JsonProtocolFromVerticle.REPORTS, message -> {
        if (message.headers().contains("probe")) {
          message.reply(null);
        } else {
          held.add(message);
        }
      }).completion());
      await(vertx.deployVerticle(new SingleFlightVerticle()));
      List<Future<JsonObject>> requests = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        requests.add(JsonProtocolFromVerticle.report(vertx, "2026-11-26"));
      }
      // The verticle handles this thread's messages in order: once this forget is answered, all ten joined.
      await(SingleFlight.createProxy(vertx).forget("unrelated"));
      // The service runs on its own event loop: the probe reaches it after the request the verticle sent.
      await(vertx.eventBus().request(JsonProtocolFromVerticle.REPORTS, null, new DeliveryOptions().addHeader("probe", "true")));
      assertEquals(1, held.size());
      assertEquals(new JsonObject().put("day", "2026-11-26"), held.get(0).body());
      held.get(0).reply(new JsonObject().put("orders", 42));
      for (Future<JsonObject> request : requests) {
        assertEquals(new JsonObject().put("orders", 42), await(request));
      }
    } finally {
      await(vertx.close());
    }
  }
}
