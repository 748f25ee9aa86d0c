package dev.singleflight;

import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.singleflight.FlightTestBase.await;
import static dev.singleflight.FlightTestBase.awaitLatch;
import static dev.singleflight.FlightTestBase.failureOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** A deployment with several instances still runs each key once. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InstancesTest {

  static final int INSTANCES = 4;
  static final String ADDRESS = SingleFlightOptions.DEFAULT_ADDRESS;

  Vertx vertx;
  String deploymentId;
  SingleFlight flights;

  @BeforeEach
  void deploy() throws Exception {
    vertx = Vertx.vertx();
    deploymentId = await(vertx.deployVerticle(SingleFlightVerticle.class, new DeploymentOptions().setInstances(INSTANCES)));
    flights = SingleFlight.createProxy(vertx);
  }

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  /**
   * Returns once every call this thread sent before has reached the flight map of its key's owner:
   * JSON forgets of many keys pass every instance (the event bus spreads them), twice (once past the
   * instance that received a JSON request, once past the owner it handed the request to). Proxy calls
   * go straight to their owner's event loop, in the order sent.
   */
  void barrier() throws Exception {
    for (int round = 0; round < 2; round++) {
      List<Future<Message<Object>>> forgets = new ArrayList<>();
      for (int k = 0; k < 64; k++) {
        forgets.add(vertx.eventBus().request(ADDRESS, new JsonObject().put("key", "barrier-" + k),
          new DeliveryOptions().addHeader("action", "forget")));
      }
      for (Future<Message<Object>> forget : forgets) {
        await(forget);
      }
    }
  }

  @Test
  void everyKeyRunsOnceWhicheverInstanceItsCallersReach() throws Exception {
    int keys = 40;
    int callersPerKey = 25;
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<String>> calls = new CopyOnWriteArrayList<>();
    try {
      List<java.util.concurrent.Future<?>> senders = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        senders.add(pool.submit(() -> {
          for (int c = 0; c < callersPerKey; c++) {
            for (int k = 0; k < keys; k++) {
              String key = "key-" + k;
              boolean async = c % 2 == 0;
              calls.add(async
                ? flights.flightAsync(key, () -> {
                  runs.computeIfAbsent(key, x -> new AtomicInteger()).incrementAndGet();
                  return vertx.executeBlocking(() -> {
                    awaitLatch(release);
                    return key;
                  }, false);
                })
                : flights.flight(key, () -> {
                  runs.computeIfAbsent(key, x -> new AtomicInteger()).incrementAndGet();
                  awaitLatch(release);
                  return key;
                }));
            }
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> sender : senders) {
        sender.get(FlightTestBase.WAIT_SECONDS, TimeUnit.SECONDS);
      }
      barrier();
      release.countDown();
      for (Future<String> call : calls) {
        await(call);
      }
      assertEquals(keys * callersPerKey * 4, calls.size());
      assertEquals(keys, runs.size());
      runs.forEach((key, count) -> assertEquals(1, count.get(), key + " ran " + count + " times"));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void keysAreSpreadOverTheInstances() throws Exception {
    Map<Context, AtomicInteger> owned = new ConcurrentHashMap<>();
    List<Future<String>> calls = new ArrayList<>();
    for (int k = 0; k < 1_000; k++) {
      // An async function runs on the event loop of the instance that owns its key.
      calls.add(flights.flightAsync("user:" + k, () -> {
        owned.computeIfAbsent(Vertx.currentContext(), c -> new AtomicInteger()).incrementAndGet();
        return Future.succeededFuture("ok");
      }));
    }
    for (Future<String> call : calls) {
      await(call);
    }
    assertEquals(INSTANCES, owned.size());
    for (AtomicInteger count : owned.values()) {
      assertEquals(250, count.get(), 100);
    }
  }

  @Test
  void fiftyJsonRequestsThroughSeveralInstancesMakeOneDownstreamRequest() throws Exception {
    List<Message<Object>> received = new CopyOnWriteArrayList<>();
    await(vertx.eventBus().consumer("users.service", message -> {
      if (message.headers().contains("probe")) {
        message.reply(null);
      } else {
        received.add(message);
      }
    }).completion());
    List<Future<Message<Object>>> calls = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      calls.add(vertx.eventBus().request(ADDRESS, new JsonObject().put("key", "user:1").put("address", "users.service")));
    }
    barrier();
    // The service runs on its own event loop: the probe reaches it after the requests sent before.
    await(vertx.eventBus().request("users.service", null, new DeliveryOptions().addHeader("probe", "true")));
    assertEquals(1, received.size());
    received.get(0).reply("Ada");
    for (Future<Message<Object>> call : calls) {
      assertEquals("Ada", await(call).body());
    }
  }

  @Test
  void aForgetReachesTheOwnerOfTheKey() throws Exception {
    FlightTestBase.Gate<String> old = new FlightTestBase.Gate<>("old");
    FlightTestBase.Gate<String> fresh = new FlightTestBase.Gate<>("new");
    Future<String> before = flights.flight("k", old);
    barrier();
    await(flights.forget("k"));
    Future<String> after = flights.flight("k", fresh);
    barrier();
    fresh.release.countDown();
    old.release.countDown();
    assertEquals("new", await(after));
    assertEquals("old", await(before));
    assertEquals(1, old.runs.get());
    assertEquals(1, fresh.runs.get());
  }

  @Test
  void undeployFailsTheWaitersOfEveryInstance() throws Exception {
    FlightTestBase.Gate<String> gate = new FlightTestBase.Gate<>("never");
    List<Future<String>> calls = new ArrayList<>();
    for (int k = 0; k < 20; k++) {
      calls.add(flights.flight("key-" + k, gate));
    }
    barrier();
    await(vertx.undeploy(deploymentId));
    for (Future<String> call : calls) {
      assertInstanceOf(IllegalStateException.class, failureOf(call));
    }
    gate.release.countDown();
  }
}
