package dev.singleflight.bench;

import dev.singleflight.SingleFlight;
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

/**
 * Scenario 4: calls with distinct keys whose function is a trivial blocking {@code Callable}, run on
 * the default worker pool, {@link AsyncThroughputBenchmark#OUTSTANDING} outstanding; the score is
 * calls per second, and {@link CpuCounters} adds the CPU time per call. Baseline (d),
 * {@code executeBlocking}: a request to a consumer that runs the same function with
 * {@code executeBlocking(fn, false)} and replies.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(AsyncThroughputBenchmark.CALLS)
public class BlockingThroughputBenchmark {

  @Param({"singleFlight", "executeBlocking"})
  public String contender;

  private Vertx vertx;
  private Window window;

  @Setup(Level.Trial)
  public void start() {
    vertx = Vertx.vertx();
    if (contender.equals("singleFlight")) {
      Bench.deploySingleFlight(vertx, 1);
      SingleFlight proxy = SingleFlight.createProxy(vertx);
      window = new Window(Bench.callerContexts(vertx, AsyncThroughputBenchmark.CALLER_CONTEXTS),
        AsyncThroughputBenchmark.OUTSTANDING, key -> proxy.flight(key, Bench.BLOCKING_FN));
    } else {
      Bench.deploy(vertx, Bench.BlockingEcho::new, 1);
      EventBus eventBus = vertx.eventBus();
      window = new Window(Bench.callerContexts(vertx, AsyncThroughputBenchmark.CALLER_CONTEXTS),
        AsyncThroughputBenchmark.OUTSTANDING, key -> eventBus.request(Bench.ECHO, key));
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
