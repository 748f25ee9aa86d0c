package dev.singleflight.bench;

import dev.singleflight.Batch;
import dev.singleflight.BatchOptions;
import dev.singleflight.SingleFlight;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Scenario 2, memory per waiting caller: {@link #CALLERS} callers parked on one key; the retained
 * heap after a full GC, with the callers parked less before, divided by the callers. Each caller's
 * only listener is the round's shared {@link Countdown}, so what is counted is what the contender
 * keeps per caller. Every row first parks and serves one full round, so that what grows once (class
 * loading, pools, queues) is not counted.
 *
 * <p>Run by {@link BenchMain} in a JVM of its own, with the serial collector: after
 * {@code System.gc()} its pools report exactly what survived ({@link MemoryPoolMXBean#getCollectionUsage()}),
 * whatever was allocated since. {@code leftAfterServedBytes} checks that nothing stays behind once
 * the callers were served.
 */
public final class MemoryScenario {

  static final int CALLERS = 100_000;
  /** Long enough that no caller times out while it is measured. */
  static final Duration TIMEOUT = Duration.ofMinutes(10);
  /**
   * The JVM options {@link BenchMain} starts this scenario with. {@code MarkSweepDeadRatio=0}: by
   * default the serial collector's full collection may leave up to 5% of the old generation as dead
   * objects in place, counted as used, which once added a whole round's callers to a reading.
   */
  static final String[] JVM_OPTIONS = {"-XX:+UseSerialGC", "-XX:MarkSweepDeadRatio=0", "-Xms2g", "-Xmx2g"};

  /** Scenario 8's contenders: distinct keys parked in flights of their own, or in batches. */
  static final String DISTINCT_FLIGHTS = "flightAsync";
  static final String DISTINCT_BATCH = "batch";

  private MemoryScenario() {
  }

  /** @param args the JSON file to write the rows to */
  public static void main(String[] args) throws IOException {
    Vertx vertx = Vertx.vertx();
    try {
      Bench.deploySingleFlight(vertx, 1);
      Context context = Bench.callerContexts(vertx, 1).get(0);
      JsonArray rows = new JsonArray()
        .add(measure(vertx, Herd.SINGLE_FLIGHT, context, null))
        .add(measure(vertx, Herd.SINGLE_FLIGHT, context, TIMEOUT))
        .add(measure(vertx, Herd.SINGLE_FLIGHT, null, null))
        .add(measure(vertx, Herd.SINGLE_FLIGHT, null, TIMEOUT))
        .add(measure(vertx, Herd.HAND_ROLLED, context, null))
        .add(measure(vertx, Herd.HAND_ROLLED, context, TIMEOUT))
        .add(measure(vertx, Herd.HAND_ROLLED, null, null))
        .add(measure(vertx, Herd.HAND_ROLLED, null, TIMEOUT))
        .add(measure(vertx, Herd.CAFFEINE, null, null))
        .add(measureDistinct(vertx, DISTINCT_FLIGHTS, context))
        .add(measureDistinct(vertx, DISTINCT_BATCH, context));
      Files.writeString(Path.of(args[0]), rows.encodePrettily());
    } finally {
      Bench.await(vertx.close());
    }
  }

  /**
   * @param context where the callers call from, or {@code null} for this (plain) thread
   * @param timeout each caller's timeout, or {@code null}
   */
  private static JsonObject measure(Vertx vertx, String contender, Context context, Duration timeout) {
    Herd herd = Herd.create(contender, vertx, timeout);
    Countdown warmUp = new Countdown(CALLERS);
    herd.reset("warm-up");
    herd.park(context, CALLERS, warmUp);
    herd.release();
    warmUp.await();
    Bench.runOn(context, herd::settled);

    Countdown measured = new Countdown(CALLERS);
    herd.reset("measured");
    long before = heapAfterGc();
    herd.park(context, CALLERS, measured);
    long parked = heapAfterGc();
    herd.release();
    measured.await();
    Bench.runOn(context, herd::settled);
    long after = heapAfterGc();

    JsonObject row = new JsonObject()
      .put("contender", contender)
      .put("callers", context == null ? "thread" : "context")
      .put("timeout", timeout != null)
      .put("bytesPerCaller", (double) (parked - before) / CALLERS)
      .put("leftAfterServedBytes", after - before);
    System.out.println("memory " + row.encode());
    return row;
  }

  /**
   * Scenario 8's memory: {@link #CALLERS} callers on {@code context}, each of a key of its own, parked
   * in flights whose function waits for one promise ({@link #DISTINCT_FLIGHTS}), or in the batches of
   * one Batch of {@link BatchThroughputBenchmark#MAX_BATCH_SIZE} keys whose loader waits for it
   * ({@link #DISTINCT_BATCH}); per caller, as {@link #measure}.
   */
  private static JsonObject measureDistinct(Vertx vertx, String contender, Context context) {
    SingleFlight proxy = SingleFlight.createProxy(vertx);
    AtomicReference<Promise<Void>> release = new AtomicReference<>();
    Batch<String> batch = proxy.batchAsync("memory", keys -> release.get().future().map(v -> Map.<String, String>of()),
      new BatchOptions().setMaxBatchSize(BatchThroughputBenchmark.MAX_BATCH_SIZE));
    Function<String, Future<?>> call = contender.equals(DISTINCT_BATCH) ? batch::get
      : key -> proxy.flightAsync(key, () -> release.get().future());
    // The keys are made before the heap is measured: both contenders keep the same strings.
    List<String> warmUpKeys = keys("warm-up-"), measuredKeys = keys("measured-");
    Countdown warmUp = new Countdown(CALLERS);
    release.set(Promise.promise());
    parkDistinct(context, warmUpKeys, call, warmUp);
    release.get().complete();
    warmUp.await();

    Countdown measured = new Countdown(CALLERS);
    release.set(Promise.promise());
    long before = heapAfterGc();
    parkDistinct(context, measuredKeys, call, measured);
    long parked = heapAfterGc();
    release.get().complete();
    measured.await();
    long after = heapAfterGc();

    JsonObject row = new JsonObject()
      .put("contender", contender)
      .put("callers", "context")
      .put("timeout", false)
      .put("bytesPerCaller", (double) (parked - before) / CALLERS)
      .put("leftAfterServedBytes", after - before);
    System.out.println("memory " + row.encode());
    return row;
  }

  private static List<String> keys(String prefix) {
    List<String> keys = new ArrayList<>(CALLERS);
    for (int i = 0; i < CALLERS; i++) {
      keys.add(prefix + i);
    }
    return keys;
  }

  /** Makes a call for each key on {@code context}, and returns once the verticle holds them all. */
  private static void parkDistinct(Context context, List<String> keys, Function<String, Future<?>> call, Countdown served) {
    Bench.runOn(context, () -> {
      for (String key : keys) {
        call.apply(key).onComplete(served);
      }
      return Future.succeededFuture();
    });
    // A forget is handled after the calls sent before it.
    Bench.runOn(context, () -> SingleFlight.createProxy(context.owner()).forget("parked"));
  }

  /** @return the bytes of heap that survived a full collection (two: objects with cleaners need a second) */
  private static long heapAfterGc() {
    System.gc();
    System.gc();
    long used = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
        used += pool.getCollectionUsage().getUsed();
      }
    }
    return used;
  }
}
