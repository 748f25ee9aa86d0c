package dev.singleflight;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static dev.singleflight.FlightTestBase.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batches of a deployment with several instances: a batch spans the keys of one instance (each key
 * is owned by one instance), and each key is still loaded once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BatchInstancesTest {

  static final int INSTANCES = 4;

  Vertx vertx;
  SingleFlight flights;

  @BeforeEach
  void deploy() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(INSTANCES));
    await(vertx.deployVerticle(SingleFlightVerticle.class, new DeploymentOptions().setInstances(INSTANCES)));
    flights = SingleFlight.createProxy(vertx);
  }

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  @Test
  void eachBatchHoldsKeysOfOneInstanceAndEachKeyIsLoadedOnce() throws Exception {
    Map<String, AtomicInteger> loads = new ConcurrentHashMap<>();
    List<String> loaderThreads = new CopyOnWriteArrayList<>();
    Map<String, String> threadOfKey = new ConcurrentHashMap<>();
    Batch<String> users = flights.batchAsync("users", keys -> {
      String thread = Thread.currentThread().getName();
      loaderThreads.add(thread);
      keys.forEach(key -> {
        loads.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        threadOfKey.put(key, thread);
      });
      return Future.succeededFuture(keys.stream().collect(Collectors.toMap(key -> key, key -> "v:" + key)));
    }, new BatchOptions().setMaxBatchSize(100).setMaxDelay(500));
    List<String> ids = IntStream.range(0, 1000).mapToObj(String::valueOf).toList();
    List<String> twice = new java.util.ArrayList<>(ids);
    twice.addAll(ids);
    Map<String, String> values = await(users.getAll(twice));
    assertEquals(1000, values.size());
    ids.forEach(id -> assertEquals("v:" + id, values.get(id)));
    loads.forEach((key, count) -> assertEquals(1, count.get(), key + " was loaded " + count + " times"));
    assertEquals(1000, loads.size());
    // One batch per instance at a time, on the instance's event loop: every instance loaded its own keys.
    assertEquals(INSTANCES, new HashSet<>(loaderThreads).size(), loaderThreads.toString());
    // Each instance's keys make ceil(n / 100) batches: between 10 and 13 in all.
    Map<String, Long> keysPerInstance = threadOfKey.values().stream().collect(Collectors.groupingBy(t -> t, Collectors.counting()));
    long expected = keysPerInstance.values().stream().mapToLong(n -> (n + 99) / 100).sum();
    assertEquals(expected, loaderThreads.size(), keysPerInstance.toString());
  }

  @Test
  void aJsonBatchIsSplitByOwnerInstanceAndEachKeyIsRequestedDownstreamOnce() throws Exception {
    Map<String, AtomicInteger> requested = new ConcurrentHashMap<>();
    vertx.eventBus().<JsonObject>consumer("users.service", request -> {
      JsonObject reply = new JsonObject();
      for (Object key : request.body().getJsonArray("keys")) {
        requested.computeIfAbsent((String) key, k -> new AtomicInteger()).incrementAndGet();
        reply.put((String) key, "v:" + key);
      }
      request.reply(reply);
    });
    JsonArray keys = new JsonArray(IntStream.range(0, 200).mapToObj(String::valueOf).collect(Collectors.toList()));
    JsonObject reply = await(vertx.eventBus().<JsonObject>request(SingleFlightOptions.DEFAULT_ADDRESS,
      new JsonObject().put("keys", keys).put("address", "users.service"),
      new DeliveryOptions().addHeader("action", "batch"))).body();
    assertEquals(200, reply.size());
    keys.forEach(key -> assertEquals("v:" + key, reply.getString((String) key)));
    assertEquals(200, requested.size());
    requested.forEach((key, count) -> assertEquals(1, count.get(), key + " was requested " + count + " times"));
    assertTrue(Set.copyOf(reply.fieldNames()).equals(Set.copyOf(keys.getList())));
  }
}
