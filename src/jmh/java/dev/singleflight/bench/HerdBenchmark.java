package dev.singleflight.bench;

import io.vertx.core.Context;
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

import java.util.concurrent.TimeUnit;

/**
 * Scenario 1, herd fan-out: {@link #CALLERS} callers wait on one key; the score is the time from the
 * flight's function completing until the last caller has the value (one shot per iteration; the
 * callers are parked before the iteration starts).
 *
 * <p>{@code callers=thread}: every call is made on the benchmark's own thread, which is no Vert.x
 * thread. {@code callers=context}: every call is made on one Vert.x event-loop context, and each
 * caller's value must arrive there.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HerdBenchmark {

  static final int CALLERS = 10_000;

  @Param({Herd.SINGLE_FLIGHT, Herd.HAND_ROLLED, Herd.CAFFEINE})
  public String contender;

  @Param({"thread", "context"})
  public String callers;

  private Vertx vertx;
  private Context callerContext;
  private Herd herd;
  private Countdown served;
  private int round;

  @Setup(Level.Trial)
  public void start() {
    vertx = Vertx.vertx();
    if (contender.equals(Herd.SINGLE_FLIGHT)) {
      Bench.deploySingleFlight(vertx, 1);
    }
    callerContext = callers.equals("context") ? Bench.callerContexts(vertx, 1).get(0) : null;
    herd = Herd.create(contender, vertx, null);
  }

  @Setup(Level.Iteration)
  public void park() {
    herd.reset("herd-" + round++);
    served = new Countdown(CALLERS);
    herd.park(callerContext, CALLERS, served);
  }

  @Benchmark
  public void fanOut() {
    herd.release();
    served.await();
  }

  @TearDown(Level.Trial)
  public void stop() {
    Bench.await(vertx.close());
  }
}
