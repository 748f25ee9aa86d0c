package dev.singleflight.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.core.spi.VertxTracerFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.tracing.opentelemetry.OpenTelemetryOptions;
import io.vertx.tracing.opentelemetry.OpenTelemetryTracingFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Real clustered Vert.x instances in this JVM, on loopback: Hazelcast with a TCP-IP join on
 * 127.0.0.1, multicast and auto-detection off, and a random cluster name so that runs never meet.
 * Hazelcast logs through java.util.logging, at the levels of src/test/resources/logging.properties.
 */
public final class ClusterNodes implements AutoCloseable {

  /**
   * The loggers that warn as members join or leave. A member that joins may get its first partitions
   * before its own start has completed, and Hazelcast then retries the migration after warning about
   * it ("Migration operation is received before startup is completed", "Ignoring received partition
   * table", "Migration failed"). A member that leaves gracefully (its Vert.x closed) still makes the
   * others warn, a few hundred milliseconds later: Hazelcast fails to reconnect ("Removing connection
   * to endpoint ... Connection refused", "Member ... is suspected to be dead", "Mastership of ... is
   * accepted" when it was the master), sends operations to it or answers its own ("Not Member!",
   * "Cannot send response"), and the clustered event bus sends to it before its subscriptions are gone
   * ("Connecting to server ... failed"). Members of these clusters join and leave only when a test or
   * its setup says so, so the loggers of Hazelcast's partitions, membership and operations, of its
   * connection errors and of the clustered event bus are lowered to SEVERE from {@link #start} to
   * {@link #close()}, and only then. Held so that the levels stick.
   */
  private static final List<Logger> MEMBERSHIP = List.of(
    Logger.getLogger("com.hazelcast.internal.partition"),
    Logger.getLogger("com.hazelcast.internal.cluster"),
    Logger.getLogger("com.hazelcast.spi.impl.operationservice"),
    Logger.getLogger("com.hazelcast.internal.server.tcp.TcpServerConnectionErrorHandler"),
    Logger.getLogger("io.vertx.core.eventbus.impl.clustered.ClusteredEventBus"));

  private final String clusterName = "singleflight-test-" + UUID.randomUUID();
  private final List<Vertx> nodes = new ArrayList<>();
  /** Each node's Micrometer registry, when started with metrics; else empty. */
  private final List<MeterRegistry> registries = new ArrayList<>();
  private final List<String> registryNames = new ArrayList<>();
  private final boolean metrics;
  /** The tracer factory of every node, when started with tracing; else {@code null}. */
  private VertxTracerFactory tracer;

  /** Free loopback ports, one per node: each node listens on its own and lists all as members. */
  private final List<Integer> ports = new ArrayList<>();

  private ClusterNodes(int count, boolean metrics) throws IOException {
    this.metrics = metrics;
    for (int i = 0; i < count; i++) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        ports.add(socket.getLocalPort());
      }
    }
  }

  /** Starts {@code count} nodes, one after the other, and waits until each sees them all. */
  public static ClusterNodes start(int count) throws Exception {
    return start(count, false);
  }

  /** Like {@link #start(int)}, each node with Micrometer metrics in a registry of its own: {@link #registry(int)}. */
  public static ClusterNodes startWithMetrics(int count) throws Exception {
    return start(count, true);
  }

  /** Like {@link #start(int)}, each node traced with OpenTelemetry by {@code openTelemetry} (vertx-opentelemetry). */
  public static ClusterNodes startWithTracing(int count, OpenTelemetry openTelemetry) throws Exception {
    return start(count, false, new OpenTelemetryTracingFactory(openTelemetry));
  }

  private static ClusterNodes start(int count, boolean metrics) throws Exception {
    return start(count, metrics, null);
  }

  private static ClusterNodes start(int count, boolean metrics, VertxTracerFactory tracer) throws Exception {
    ClusterNodes cluster = new ClusterNodes(count, metrics);
    cluster.tracer = tracer;
    MEMBERSHIP.forEach(logger -> logger.setLevel(Level.SEVERE));
    try {
      for (int i = 0; i < count; i++) {
        cluster.add(i);
      }
      cluster.awaitMembers(count);
      return cluster;
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
  }

  private Vertx add(int index) throws Exception {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(clusterName);
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.logging.type", "jdk");
    // Hazelcast calls its vendor's server from each new member by default: these tests stay on loopback.
    config.setProperty("hazelcast.phone.home.enabled", "false");
    // Hazelcast's own metrics (for its Management Center and JMX) go unread here, and their collection
    // races a member's shutdown ("Collecting metrics from source ...MapService failed ... sleep interrupted").
    config.getMetricsConfig().setEnabled(false);
    config.getNetworkConfig().setPort(ports.get(index)).setPortAutoIncrement(false)
      .getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    for (int port : ports) {
      join.getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + port);
    }
    VertxOptions options = new VertxOptions()
      .setEventBusOptions(new EventBusOptions().setHost("127.0.0.1").setPort(0));
    VertxBuilder builder = Vertx.builder().withClusterManager(new HazelcastClusterManager(config));
    if (metrics) {
      MeterRegistry registry = new SimpleMeterRegistry();
      // vertx-micrometer-metrics keeps one registry per name in the JVM: each node takes a name of its own.
      String registryName = "cluster-node-" + UUID.randomUUID();
      options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setRegistryName(registryName));
      registryNames.add(registryName);
      builder.withMetrics(new MicrometerMetricsFactory(registry));
      registries.add(registry);
    }
    if (tracer != null) {
      options.setTracingOptions(new OpenTelemetryOptions());
      builder.withTracer(tracer);
    }
    Vertx vertx = await(builder.with(options).buildClustered());
    nodes.add(vertx);
    return vertx;
  }

  /** @return the name of the Micrometer registry of node {@code i}, started with metrics */
  public String registryName(int i) {
    return registryNames.get(i);
  }

  /** @return the Micrometer registry of node {@code i}, started with metrics */
  public MeterRegistry registry(int i) {
    return registries.get(i);
  }

  /** @return node {@code i}, in start order */
  public Vertx node(int i) {
    return nodes.get(i);
  }

  public List<Vertx> nodes() {
    return nodes;
  }

  /** @return the cluster-manager id of node {@code i} */
  public String nodeId(int i) {
    return ((VertxInternal) nodes.get(i)).clusterManager().getNodeId();
  }

  /**
   * Waits until every node sees {@code count} members. It polls: the cluster manager's only node
   * listener belongs to the clustered verticles under test, so there is no event to wait for.
   */
  public void awaitMembers(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (Vertx node : nodes) {
      while (((VertxInternal) node).clusterManager().getNodes().size() != count) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the cluster did not form: " + ((VertxInternal) node).clusterManager().getNodes());
        }
        TimeUnit.MILLISECONDS.sleep(20);
      }
    }
  }

  /** Closes node {@code i} and waits until it is closed. */
  public void closeNode(int i) throws Exception {
    await(nodes.get(i).close());
  }

  /**
   * Closes the nodes still open, the last started first, so that the master leaves last and no other
   * member has to take over; then gives {@link #MEMBERSHIP} their level back.
   */
  @Override
  public void close() throws Exception {
    try {
      for (int i = nodes.size() - 1; i >= 0; i--) {
        try {
          await(nodes.get(i).close());
        } catch (Exception ignored) {
          // Already closed by the test.
        }
      }
    } finally {
      MEMBERSHIP.forEach(logger -> logger.setLevel(null));
    }
  }

  public static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }
}
