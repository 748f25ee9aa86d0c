package dev.singleflight.bench;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import dev.singleflight.cluster.ClusterNodes;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Scenario 6, a herd over a cluster: {@link HerdBenchmark#CALLERS} callers wait on one key of a
 * {@code SingleFlightVerticle} with {@code clustered=true}, spread evenly over the nodes of a real
 * Hazelcast cluster in this JVM on 127.0.0.1 ({@link ClusterNodes}), each node's share on one
 * event-loop context of that node. The score is the time from the flight's function completing
 * until the last caller has the value (one shot per iteration), as in scenario 1: {@code nodes=3}
 * is the cost of a herd spread over 3 nodes (the leader node reports to the key's owner, which
 * answers the other nodes), {@code nodes=1} the same herd on a cluster of one node.
 *
 * <p>Before each shot every caller waits: each node's calls were handled by its verticle (a later
 * call on the same context was answered), the owner of the key holds the join of every other node
 * (the join that names the flight, which the owner answers with the outcome; an inbound interceptor
 * sees them), and the leader's function was called. Each iteration checks that
 * the function ran exactly once in the whole cluster.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ClusterHerdBenchmark {

  /**
   * The headers of a node's join at the key's owner, as {@code dev.singleflight.impl.cluster.ClusterProtocol}
   * sends them: how the benchmark knows that every node waits on the owner. A following node's first
   * join is answered at once with the flight's id; the join that names it is the one the owner holds.
   */
  private static final String OP_HEADER = "singleflight-op";
  private static final String KEY_HEADER = "singleflight-key";
  private static final String FLIGHT_HEADER = "singleflight-flight";
  private static final String JOIN = "join";

  @Param({"1", "3"})
  public int nodes;

  private ClusterNodes cluster;
  private final List<SingleFlight> proxies = new ArrayList<>();
  private final List<Context> callerContexts = new ArrayList<>();
  private final AtomicInteger executions = new AtomicInteger();
  private int round;
  private volatile String key;
  private volatile CountDownLatch joined;
  private CountDownLatch called;
  private Promise<String> gate;
  private Supplier<Future<String>> fn;
  private Countdown served;

  @Setup(Level.Trial)
  public void start() throws Exception {
    cluster = ClusterNodes.start(nodes);
    for (Vertx node : cluster.nodes()) {
      Bench.await(node.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setClustered(true))));
      node.eventBus().addInboundInterceptor(this::countJoin);
      proxies.add(SingleFlight.createProxy(node));
      callerContexts.add(Bench.callerContexts(node, 1).get(0));
    }
  }

  private void countJoin(DeliveryContext<Object> delivery) {
    CountDownLatch roundJoined = joined;
    if (roundJoined != null && JOIN.equals(delivery.message().headers().get(OP_HEADER))
      && key.equals(delivery.message().headers().get(KEY_HEADER)) && delivery.message().headers().contains(FLIGHT_HEADER)) {
      roundJoined.countDown();
    }
    delivery.next();
  }

  @Setup(Level.Iteration)
  public void park() throws InterruptedException {
    String roundKey = "cluster-herd-" + round++;
    Promise<String> roundGate = Promise.promise();
    CountDownLatch roundCalled = new CountDownLatch(1);
    executions.set(0);
    gate = roundGate;
    called = roundCalled;
    fn = () -> {
      executions.incrementAndGet();
      roundCalled.countDown();
      return roundGate.future();
    };
    key = roundKey;
    // Every node but the leader's, whose function being called says it joined.
    joined = new CountDownLatch(nodes - 1);
    served = new Countdown(HerdBenchmark.CALLERS);
    for (int i = 0; i < nodes; i++) {
      int share = HerdBenchmark.CALLERS / nodes + (i < HerdBenchmark.CALLERS % nodes ? 1 : 0);
      SingleFlight proxy = proxies.get(i);
      Bench.runOn(callerContexts.get(i), () -> {
        for (int c = 0; c < share; c++) {
          proxy.flightAsync(roundKey, fn).onComplete(served);
        }
        // Handled after the calls above: once it is answered, the verticle has joined them all.
        return proxy.flightAsync(roundKey + "/probe", () -> Future.succeededFuture(Bench.VALUE));
      });
    }
    if (!joined.await(1, TimeUnit.MINUTES) || !called.await(1, TimeUnit.MINUTES)) {
      throw new IllegalStateException("the nodes did not all join key " + roundKey + " within a minute");
    }
  }

  @Benchmark
  public void fanOut() {
    gate.complete(Bench.VALUE);
    served.await();
  }

  @TearDown(Level.Iteration)
  public void checkOneExecution() {
    if (executions.get() != 1) {
      throw new IllegalStateException("the function of " + key + " ran " + executions.get() + " times in the cluster");
    }
  }

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    cluster.close();
  }
}
