package dev.singleflight.bench;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Scenario 7, a herd against a downstream with rare slow responses, with and without hedging: each
 * operation is one flight of {@link #CALLERS} callers on one event-loop context, for a key of its own;
 * its function is a downstream call that answers after {@link #FAST_MILLIS} ms, or, for
 * {@link #SLOW_PER_MILLE} in 1 000 calls (picked from a fixed seed), after {@link #SLOW_MILLIS} ms. The
 * score is the time until the last caller has the value, sampled (JMH's {@code SampleTime}), so that
 * its percentiles show the tail: the p99 of the flights. {@code hedgeAfter=0} is the verticle without
 * hedging; otherwise a flight still running after {@code hedgeAfter} ms calls the downstream once
 * more ({@code maxHedges} 1). At the end of each fork the downstream calls per flight are printed: the
 * extra executions that hedging cost.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HedgedHerdBenchmark {

  static final int CALLERS = 100;
  static final long FAST_MILLIS = 2;
  static final long SLOW_MILLIS = 100;
  static final int SLOW_PER_MILLE = 20;

  /** The verticle's hedgeAfter, in ms; 0: no hedging. */
  @Param({"0", "10"})
  public long hedgeAfter;

  private Vertx vertx;
  private Context callerContext;
  private SingleFlight flights;
  /** Touched on the verticle's event loop only, where async functions run. */
  private final SplittableRandom slowCalls = new SplittableRandom(7);
  /** Written on the verticle's event loop, read at the end of the trial. */
  private volatile long downstreamCalls;
  private long flightCount;
  private Supplier<Future<String>> downstream;

  @Setup(Level.Trial)
  public void start() {
    vertx = Vertx.vertx();
    Bench.await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setHedgeAfter(hedgeAfter))));
    flights = SingleFlight.createProxy(vertx);
    callerContext = Bench.callerContexts(vertx, 1).get(0);
    downstream = () -> {
      downstreamCalls++;
      Promise<String> answer = Promise.promise();
      vertx.setTimer(slowCalls.nextInt(1000) < SLOW_PER_MILLE ? SLOW_MILLIS : FAST_MILLIS, id -> answer.complete(Bench.VALUE));
      return answer.future();
    };
  }

  @Benchmark
  public void flight() {
    String key = "flight-" + flightCount++;
    Countdown served = new Countdown(CALLERS);
    callerContext.runOnContext(v -> {
      for (int i = 0; i < CALLERS; i++) {
        flights.flightAsync(key, downstream).onComplete(served);
      }
    });
    served.await();
  }

  @TearDown(Level.Trial)
  public void stop() {
    Bench.await(vertx.close());
    System.out.printf("%nhedgeAfter=%d: %d flights, %d downstream calls, %.2f%% extra executions%n",
      hedgeAfter, flightCount, downstreamCalls, 100.0 * (downstreamCalls - flightCount) / flightCount);
  }
}
