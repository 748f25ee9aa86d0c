package dev.singleflight.bench;

import dev.singleflight.Batch;
import dev.singleflight.BatchLoader;
import dev.singleflight.BatchOptions;
import dev.singleflight.SingleFlight;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Scenario 8, batch flights (issue #14): distinct keys per second, each key asked once, with a loader
 * that completes at once, {@link AsyncThroughputBenchmark#OUTSTANDING} outstanding from
 * {@link AsyncThroughputBenchmark#CALLER_CONTEXTS} caller contexts, as scenario 3. Contenders:
 * {@code singleFlight}, {@code Batch.get} of a batch with {@code maxBatchSize} 100 and
 * {@code maxDelay} 0; {@code flightAsync}, the same keys one flight each, the function completing at
 * once (scenario 3's figure); {@code dataLoader}, a hand-written DataLoader-style batcher over a
 * {@code ConcurrentHashMap} ({@link HandRolledBatcher}) with the same loader and batch size.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(AsyncThroughputBenchmark.CALLS)
public class BatchThroughputBenchmark {

  static final int MAX_BATCH_SIZE = 100;
  private static final Supplier<Future<String>> FN = () -> Future.succeededFuture(Bench.VALUE);
  /** The loader of the batches: every key's value at once. */
  static final BatchLoader<String> LOADER = keys -> {
    Map<String, String> values = new HashMap<>(keys.size() * 4 / 3 + 1);
    for (String key : keys) {
      values.put(key, Bench.VALUE);
    }
    return Future.succeededFuture(values);
  };

  @Param({"singleFlight", "flightAsync", "dataLoader"})
  public String contender;

  private Vertx vertx;
  private Window window;

  @Setup(Level.Trial)
  public void start() {
    vertx = Vertx.vertx();
    var contexts = Bench.callerContexts(vertx, AsyncThroughputBenchmark.CALLER_CONTEXTS);
    switch (contender) {
      case "singleFlight" -> {
        Bench.deploySingleFlight(vertx, 1);
        Batch<String> batch = SingleFlight.createProxy(vertx)
          .batchAsync("bench", LOADER, new BatchOptions().setMaxBatchSize(MAX_BATCH_SIZE));
        window = new Window(contexts, AsyncThroughputBenchmark.OUTSTANDING, batch::get);
      }
      case "flightAsync" -> {
        Bench.deploySingleFlight(vertx, 1);
        SingleFlight proxy = SingleFlight.createProxy(vertx);
        window = new Window(contexts, AsyncThroughputBenchmark.OUTSTANDING, key -> proxy.flightAsync(key, FN));
      }
      default -> {
        // The batcher's event loop: a context of its own, as the verticle has.
        HandRolledBatcher<String> batcher = new HandRolledBatcher<>(Bench.callerContexts(vertx, 1).get(0), LOADER::load, MAX_BATCH_SIZE);
        window = new Window(contexts, AsyncThroughputBenchmark.OUTSTANDING, batcher::get);
      }
    }
  }

  @Benchmark
  public void calls(CpuCounters cpu) {
    long start = cpu.start();
    window.run(AsyncThroughputBenchmark.CALLS);
    cpu.add(start, AsyncThroughputBenchmark.CALLS);
  }

  @TearDown(Level.Trial)
  public void stop() {
    Bench.await(vertx.close());
  }
}
