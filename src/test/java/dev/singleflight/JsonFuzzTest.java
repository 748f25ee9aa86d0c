package dev.singleflight;

import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random JSON-protocol requests: every one is answered, with a value or a 4xx/5xx code. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JsonFuzzTest extends FlightTestBase {

  static final int REQUESTS = 5_000;
  static final String[] ADDRESSES = {"echo.service", "failing.service", "silent.service", "nobody.home", "admin.secret"};
  static final String[] ACTIONS = {null, "flight", "forget", "FLIGHT", "", "delete", "flight "};

  final SplittableRandom random = new SplittableRandom(42);

  Object randomValue(int depth) {
    switch (random.nextInt(depth > 2 ? 6 : 8)) {
      case 0: return null;
      case 1: return random.nextBoolean();
      case 2: return random.nextInt(-10, 100_000);
      case 3: return random.nextDouble() * 1000 - 10;
      case 4: return randomString();
      case 5: return "";
      case 6: {
        JsonArray array = new JsonArray();
        for (int i = random.nextInt(4); i > 0; i--) {
          array.add(randomValue(depth + 1));
        }
        return array;
      }
      default: return randomObject(depth + 1);
    }
  }

  String randomString() {
    StringBuilder text = new StringBuilder();
    for (int i = random.nextInt(1, 12); i > 0; i--) {
      text.append((char) random.nextInt(32, 0x2FFF));
    }
    return text.toString();
  }

  JsonObject randomObject(int depth) {
    JsonObject object = new JsonObject();
    if (random.nextInt(4) > 0) {
      object.put("key", random.nextInt(5) > 0 ? "key-" + random.nextInt(20) : randomValue(depth));
    }
    if (random.nextInt(4) > 0) {
      object.put("address", random.nextInt(5) > 0 ? ADDRESSES[random.nextInt(ADDRESSES.length)] : randomValue(depth));
    }
    if (random.nextInt(3) == 0) {
      object.put("timeout", random.nextInt(3) > 0 ? random.nextInt(-5, 200) : randomValue(depth));
    }
    if (random.nextBoolean()) {
      object.put("body", randomValue(depth));
    }
    if (random.nextInt(5) == 0) {
      object.put(randomString(), randomValue(depth));
    }
    return object;
  }

  @Test
  void everyRandomRequestIsAnsweredAndTheVerticleStillServes() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions()
      .setAllowedAddresses(List.of(".*\\.service", "nobody\\.home"))
      .setMaxKeyLength(64)
      .setMaxFlightTime(2_000))));
    vertx.eventBus().consumer("echo.service", message -> message.reply(message.body()));
    vertx.eventBus().consumer("failing.service", message -> message.fail(409, "conflict"));
    vertx.eventBus().consumer("silent.service", message -> { });

    List<Future<Object>> requests = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      Object body = random.nextInt(10) == 0 ? randomValue(0) : randomObject(0);
      DeliveryOptions options = new DeliveryOptions().setSendTimeout(10_000);
      String action = ACTIONS[random.nextInt(ACTIONS.length)];
      if (action != null) {
        options.addHeader("action", action);
      }
      if (random.nextInt(10) == 0) {
        options.addHeader(randomString(), randomString());
      }
      requests.add(vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, body, options).map(Message::body));
    }
    int answered = 0;
    for (Future<Object> request : requests) {
      try {
        request.toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        ReplyException failure = (ReplyException) e.getCause();
        assertTrue(failure.failureType() == ReplyFailure.RECIPIENT_FAILURE, "not answered: " + failure);
        int code = failure.failureCode();
        assertTrue(code == 409 || (code >= 400 && code < 600), "code " + code + ": " + failure.getMessage());
      }
      answered++;
    }
    assertEquals(REQUESTS, answered);

    JsonObject valid = new JsonObject().put("key", "after").put("address", "echo.service").put("body", "still serving");
    assertEquals("still serving", await(vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, valid)).body());
    assertEquals("value", await(flights.flight("after", () -> "value")));
  }
}
