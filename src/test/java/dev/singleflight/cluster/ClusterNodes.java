package dev.singleflight.cluster;

import com.hazelcast.config.Config;
import dev.singleflight.impl.cluster.RendezvousHash;
import com.hazelcast.config.JoinConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Completable;
import io.opentelemetry.api.OpenTelemetry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.ext.cluster.infinispan.InfinispanClusterManager;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.core.spi.VertxTracerFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.infinispan.configuration.parsing.ConfigurationBuilderHolder;
import org.infinispan.configuration.parsing.ParserRegistry;
import org.infinispan.manager.DefaultCacheManager;
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
 * Real clustered Vert.x instances in this JVM, on loopback, with a random cluster name so that runs
 * never meet. The cluster manager is Hazelcast, or Infinispan with {@code -Dsingleflight.cluster=infinispan}
 * (surefire's {@code infinispan-cluster} execution runs this package so):
 * <ul>
 *   <li>Hazelcast: a TCP-IP join on 127.0.0.1, multicast and auto-detection off. It logs through
 *   java.util.logging, at the levels of src/test/resources/logging.properties.</li>
 *   <li>Infinispan: the caches of vertx-infinispan's default configuration over the JGroups stack of
 *   src/test/resources/infinispan-loopback-jgroups.xml (127.0.0.1, members found in memory).</li>
 * </ul>
 */
public final class ClusterNodes implements AutoCloseable {

  /** The cluster manager of every cluster made here: {@code hazelcast} (the default) or {@code infinispan}. */
  public static final String CLUSTER_MANAGER = System.getProperty("singleflight.cluster", "hazelcast");

  /**
   * The loggers that warn as members join or leave. A member that joins may get its first partitions
   * before its own start has completed, and Hazelcast then retries the migration after warning about
   * it ("Migration operation is received before startup is completed", "Ignoring received partition
   * table", "Migration failed"). A member that leaves gracefully (its Vert.x closed) still makes the
   * others warn, a few hundred milliseconds later: Hazelcast fails to reconnect ("Removing connection
   * to endpoint ... Connection refused", "Member ... is suspected to be dead", "Mastership of ... is
   * accepted" when it was the master), sends operations to it or answers its own ("Not Member!",
   * "Cannot send response"), and the clustered event bus sends to it before its subscriptions are gone
   * ("Connecting to server ... failed"). On Infinispan, JGroups drops the last messages of a member that
   * left ("dropped message ... from non-member"). Members of these clusters join and leave only when a test or
   * its setup says so, so the loggers of Hazelcast's partitions, membership and operations, of its
   * connection errors, of JGroups and of the clustered event bus are lowered to SEVERE from {@link #start} to
   * {@link #close()}, and only then. Held so that the levels stick.
   */
  private static final List<Logger> MEMBERSHIP = List.of(
    Logger.getLogger("com.hazelcast.internal.partition"),
    Logger.getLogger("com.hazelcast.internal.cluster"),
    Logger.getLogger("com.hazelcast.spi.impl.operationservice"),
    Logger.getLogger("com.hazelcast.internal.server.tcp.TcpServerConnectionErrorHandler"),
    Logger.getLogger("org.jgroups"),
    Logger.getLogger("io.vertx.core.eventbus.impl.clustered.ClusteredEventBus"));

  private final String clusterName = "singleflight-test-" + UUID.randomUUID();
  private final List<Vertx> nodes = new ArrayList<>();
  /** Each node's Infinispan cluster manager, by index; empty on Hazelcast. */
  private final List<OwningInfinispanClusterManager> infinispanManagers = new ArrayList<>();
  /** Each node's Micrometer registry, when started with metrics; else empty. */
  private final List<MeterRegistry> registries = new ArrayList<>();
  private final List<String> registryNames = new ArrayList<>();
  private final boolean metrics;
  /** Each node's Vert.x HA group, HA on with a quorum of 1; {@code null}: HA off. */
  private List<String> haGroups;
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

  /** Like {@link #start(int)}, one node per group given, each with Vert.x HA on in that HA group (quorum 1). */
  public static ClusterNodes startHighlyAvailable(String... haGroups) throws Exception {
    return start(haGroups.length, false, null, List.of(haGroups));
  }

  /** Like {@link #start(int)}, each node traced with OpenTelemetry by {@code openTelemetry} (vertx-opentelemetry). */
  public static ClusterNodes startWithTracing(int count, OpenTelemetry openTelemetry) throws Exception {
    return start(count, false, new OpenTelemetryTracingFactory(openTelemetry));
  }

  private static ClusterNodes start(int count, boolean metrics) throws Exception {
    return start(count, metrics, null);
  }

  private static ClusterNodes start(int count, boolean metrics, VertxTracerFactory tracer) throws Exception {
    return start(count, metrics, tracer, null);
  }

  private static ClusterNodes start(int count, boolean metrics, VertxTracerFactory tracer, List<String> haGroups)
    throws Exception {
    ClusterNodes cluster = new ClusterNodes(count, metrics);
    cluster.tracer = tracer;
    cluster.haGroups = haGroups;
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
    VertxOptions options = new VertxOptions()
      .setEventBusOptions(new EventBusOptions().setHost("127.0.0.1").setPort(0));
    if (haGroups != null) {
      options.setHAEnabled(true).setHAGroup(haGroups.get(index)).setQuorumSize(1);
    }
    VertxBuilder builder = Vertx.builder().withClusterManager(clusterManager(index));
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

  private ClusterManager clusterManager(int index) throws IOException {
    return switch (CLUSTER_MANAGER) {
      case "hazelcast" -> hazelcast(index);
      case "infinispan" -> infinispan();
      default -> throw new IllegalArgumentException("-Dsingleflight.cluster is hazelcast or infinispan, not " + CLUSTER_MANAGER);
    };
  }

  /**
   * An Infinispan cluster manager over a cache manager made here: its transport takes this cluster's name
   * (the configuration file cannot vary it). The cache manager joins the cluster as it starts.
   */
  private ClusterManager infinispan() throws IOException {
    ConfigurationBuilderHolder holder = new ParserRegistry().parse(ClusterNodes.class.getResource("/infinispan-loopback.xml"));
    holder.getGlobalConfigurationBuilder().transport().clusterName(clusterName);
    OwningInfinispanClusterManager clusterManager = new OwningInfinispanClusterManager(new DefaultCacheManager(holder, true));
    infinispanManagers.add(clusterManager);
    return clusterManager;
  }

  /**
   * Vert.x's Infinispan cluster manager over a cache manager made here, which must be stopped once the
   * node left the cluster: the cluster manager leaves a cache manager it was given running, and the node
   * would stay a member. {@link #closeNode} stops it once the node's Vert.x has closed (stopping it as the
   * cluster manager leaves races vertx-infinispan's last updates of the event bus's subscriptions, which
   * then fail as "Unhandled exception"s); a leave that is not part of a close (Vert.x HA simulating a
   * kill) stops it at once, and the registrations the node's Vert.x removes afterwards, as it closes, are
   * gone already (removing them from a stopped cache manager would fail the close hook, and the close
   * would wait for ever).
   */
  private static final class OwningInfinispanClusterManager extends InfinispanClusterManager {

    private final DefaultCacheManager cacheManager;
    private Vertx vertx;
    /** Set before the node's Vert.x is closed: the cache manager is stopped afterwards, by {@link #closeNode}. */
    private volatile boolean closing;
    /** Set once the cache manager is stopped by a leave that was not part of a close. */
    private volatile boolean left;

    OwningInfinispanClusterManager(DefaultCacheManager cacheManager) {
      super(cacheManager);
      this.cacheManager = cacheManager;
    }

    @Override
    public void init(Vertx vertx) {
      this.vertx = vertx;
      super.init(vertx);
    }

    @Override
    public void leave(Completable<Void> promise) {
      if (closing) {
        super.leave(promise);
        return;
      }
      super.leave((ignored, failure) -> vertx.<Void>executeBlocking(() -> {
        cacheManager.stop();
        left = true;
        return null;
      }, false).onComplete(stopped -> promise.complete(null, failure != null ? failure : stopped.cause())));
    }

    @Override
    public void removeRegistration(String address, RegistrationInfo registrationInfo, Completable<Void> promise) {
      if (left) {
        promise.succeed();
      } else {
        super.removeRegistration(address, registrationInfo, promise);
      }
    }
  }

  private ClusterManager hazelcast(int index) {
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
    return new HazelcastClusterManager(config);
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

  /** @return the first key {@code <prefix><n>} that node {@code owner} owns among all the nodes */
  public String keyOwnedBy(int owner, String prefix) {
    List<String> members = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      members.add(nodeId(i));
    }
    for (int k = 0; ; k++) {
      if (RendezvousHash.ownerOf(prefix + k, members).equals(nodeId(owner))) {
        return prefix + k;
      }
    }
  }

  /**
   * Waits until every node sees {@code count} members. It polls: the cluster manager's only node
   * listener belongs to Vert.x HA when it is on, so there is no event to wait for.
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

  /** Closes node {@code i} and waits until it is closed (on Infinispan: and has left the cluster). */
  public void closeNode(int i) throws Exception {
    if (infinispanManagers.isEmpty()) {
      await(nodes.get(i).close());
      return;
    }
    OwningInfinispanClusterManager clusterManager = infinispanManagers.get(i);
    clusterManager.closing = true;
    try {
      await(nodes.get(i).close());
    } finally {
      clusterManager.cacheManager.stop();
    }
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
          closeNode(i);
        } catch (Exception ignored) {
          // Already closed by the test.
        }
      }
    } finally {
      MEMBERSHIP.forEach(logger -> logger.setLevel(null));
    }
  }

  /**
   * Waits until {@code node} reaches a consumer of {@code address} that answers a request with a header
   * {@code probe} (a registration reaches the other members a little after its own node on some cluster
   * managers); at most 60 s.
   */
  public static void awaitReachable(Vertx node, String address) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        await(node.eventBus().request(address, null, new DeliveryOptions().addHeader("probe", "true").setSendTimeout(5_000)));
        return;
      } catch (ReplyException unreachable) {
        if (unreachable.failureType() != ReplyFailure.NO_HANDLERS || System.nanoTime() > deadline) {
          throw unreachable;
        }
        Thread.sleep(20);
      }
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
