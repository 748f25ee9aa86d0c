package dev.singleflight.bench;

import dev.singleflight.SingleFlight;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
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

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Scenarios 3 and 5: calls with distinct keys whose asynchronous function completes at once
 * ({@code Future.succeededFuture}), {@link #OUTSTANDING} outstanding from {@link #CALLER_CONTEXTS}
 * caller contexts; the score is calls per second, and {@link CpuCounters} adds the CPU time per
 * call. Baseline (c), {@code eventBus}: a request/reply to a consumer that answers at once.
 * {@code instances} is the deployment's instance count, of the {@code SingleFlightVerticle} or of
 * the consumer's verticle.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(AsyncThroughputBenchmark.CALLS)
public class AsyncThroughputBenchmark {

  static final int CALLS = 20_000;
  static final int OUTSTANDING = 1_000;
  static final int CALLER_CONTEXTS = 2;
  private static final Supplier<Future<String>> FN = () -> Future.succeededFuture(Bench.VALUE);

  @Param({"singleFlight", "eventBus"})
  public String contender;

  @Param({"1", "2"})
  public int instances;

  private Vertx vertx;
  private Window window;

  @Setup(Level.Trial)
  public void start() {
    vertx = Vertx.vertx();
    if (contender.equals("singleFlight")) {
      Bench.deploySingleFlight(vertx, instances);
      SingleFlight proxy = SingleFlight.createProxy(vertx);
      window = new Window(Bench.callerContexts(vertx, CALLER_CONTEXTS), OUTSTANDING, key -> proxy.flightAsync(key, FN));
    } else {
      Bench.deploy(vertx, Bench.Echo::new, instances);
      EventBus eventBus = vertx.eventBus();
      window = new Window(Bench.callerContexts(vertx, CALLER_CONTEXTS), OUTSTANDING, key -> eventBus.request(Bench.ECHO, key));
    }
  }

  @Benchmark
  public void calls(CpuCounters cpu) {
    long start = cpu.start();
    window.run(CALLS);
    cpu.add(start, CALLS);
  }

  @TearDown(Level.Trial)
  public void stop() {
    Bench.await(vertx.close());
  }
}
