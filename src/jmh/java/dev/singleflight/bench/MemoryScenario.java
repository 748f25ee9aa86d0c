package dev.singleflight.bench;

import io.vertx.core.Context;
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
        .add(measure(vertx, Herd.CAFFEINE, null, null));
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
