package dev.singleflight.faults;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One node of the fault suite, a JVM of its own started by {@link NodeJvm}: a clustered Vert.x on
 * Hazelcast (TCP-IP join, every member listed, on the host it is given: 127.0.0.1, or a network
 * namespace's address), Micrometer metrics in a registry of its own, and one clustered
 * {@link SingleFlightVerticle} at the default address.
 *
 * <p>It is driven through its standard streams, which cross network namespaces: commands on stdin, one
 * per line; what the test reads on stdout, lines starting with {@code @@} (logs go to stderr).
 * <ul>
 *   <li>at start: {@code @@ready <node id>} once the verticle is deployed;</li>
 *   <li>{@code herd <json>}, with {@code keys} (array of strings) and {@code callers} (per key): that many
 *   proxy calls per key, each asking {@code flightAsync(key, f)}; {@code f} prints
 *   {@code @@exec <key> <execution id>} as it starts (flushed, so a node killed later has told it) and
 *   completes, with {@code {"key": key, "exec": id}}, once the node is released;</li>
 *   <li>{@code release}: completes every function waiting and those started afterwards at once;</li>
 *   <li>{@code hold}: functions started afterwards wait for the next {@code release} again;</li>
 *   <li>{@code report <id>}: prints {@code @@report <id> <json>}, see {@link Herd#report};</li>
 *   <li>the end of stdin: the node exits.</li>
 * </ul>
 *
 * <p>Arguments: {@code <index> <cluster name> <host> <host:port of every member, comma-separated>
 * <verticle options as JSON>}. Hazelcast's timing properties come as JVM system properties.
 */
public final class FaultNode {

  /** The Micrometer registry's name: the verticle is given it. */
  static final String REGISTRY = "faults";

  /** Hazelcast warns as members die and as networks split: expected here. Held so the level sticks. */
  private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");

  private FaultNode() {
  }

  public static void main(String[] args) throws Exception {
    HAZELCAST_LOG.setLevel(Level.SEVERE);
    int index = Integer.parseInt(args[0]);
    String host = args[2];
    List<String> members = List.of(args[3].split(","));
    HazelcastClusterManager clusterManager = new HazelcastClusterManager(hazelcastConfig(args[1], host, members.get(index), members));
    MeterRegistry registry = new SimpleMeterRegistry();
    VertxOptions options = new VertxOptions()
      .setEventBusOptions(new EventBusOptions().setHost(host).setPort(0))
      .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setRegistryName(REGISTRY));
    Vertx vertx = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry))
      .withClusterManager(clusterManager).buildClustered().await(120, TimeUnit.SECONDS);
    SingleFlightOptions flightOptions = new SingleFlightOptions(new JsonObject(args[4]))
      .setClustered(true).setMetricsRegistryName(REGISTRY);
    Herd herd = new Herd(index, vertx, SingleFlight.createProxy(vertx), registry, clusterManager);
    vertx.eventBus().addInboundInterceptor(herd::received);
    vertx.deployVerticle(new SingleFlightVerticle(flightOptions)).await(120, TimeUnit.SECONDS);
    say("@@ready " + clusterManager.getNodeId());
    try (BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      for (String line = commands.readLine(); line != null; line = commands.readLine()) {
        herd.command(line);
      }
    }
    System.exit(0);
  }

  /**
   * Hazelcast on {@code host} at the port of {@code self}, joining by TCP-IP any of {@code members};
   * multicast, auto-detection, phone-home and its own metrics off.
   */
  static Config hazelcastConfig(String clusterName, String host, String self, List<String> members) {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(clusterName);
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.logging.type", "jdk");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.getMetricsConfig().setEnabled(false);
    config.getNetworkConfig().setPort(Integer.parseInt(self.substring(self.lastIndexOf(':') + 1))).setPortAutoIncrement(false)
      .getInterfaces().setEnabled(true).addInterface(host);
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(new ArrayList<>(members));
    return config;
  }

  static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  /** The callers of this node and what they got; the functions held until {@code release}. */
  static final class Herd {

    private final int index;
    private final Vertx vertx;
    private final SingleFlight flights;
    private final MeterRegistry registry;
    private final HazelcastClusterManager clusterManager;
    private final AtomicInteger executions = new AtomicInteger();
    /** Functions waiting for {@code release}, with the context to complete them on; null once released. */
    private List<Runnable> held = new ArrayList<>();
    private int callers;
    private int answered;
    private int wrongKey;
    private long lastAnswerAt;
    /** key -> execution id or failure class -> callers that got it. */
    private final Map<String, Map<String, Integer>> outcomes = new TreeMap<>();
    /** key -> the node ids that sent this node a join for it. */
    private final Map<String, TreeSet<String>> joins = new TreeMap<>();

    Herd(int index, Vertx vertx, SingleFlight flights, MeterRegistry registry, HazelcastClusterManager clusterManager) {
      this.index = index;
      this.vertx = vertx;
      this.flights = flights;
      this.registry = registry;
      this.clusterManager = clusterManager;
    }

    void command(String line) {
      String[] parts = line.split(" ", 2);
      switch (parts[0]) {
        case "herd" -> herd(new JsonObject(parts[1]));
        case "release" -> release();
        case "hold" -> hold();
        case "report" -> say("@@report " + parts[1] + " " + report().encode());
        default -> System.err.println("unknown command: " + line);
      }
    }

    private void herd(JsonObject herd) {
      int perKey = herd.getInteger("callers");
      for (Object key : herd.getJsonArray("keys")) {
        for (int i = 0; i < perKey; i++) {
          String k = (String) key;
          synchronized (this) {
            callers++;
          }
          flights.<JsonObject>flightAsync(k, () -> execute(k)).onComplete(ar -> answered(k, ar.succeeded() ? ar.result() : null, ar.cause()));
        }
      }
    }

    /** The function of every flight: it runs on the verticle's event loop and must not block. */
    private Future<JsonObject> execute(String key) {
      String exec = index + "-" + executions.incrementAndGet();
      say("@@exec " + key + " " + exec);
      JsonObject value = new JsonObject().put("key", key).put("exec", exec);
      Context context = vertx.getOrCreateContext();
      Promise<JsonObject> promise = Promise.promise();
      synchronized (this) {
        if (held != null) {
          held.add(() -> context.runOnContext(v -> promise.complete(value)));
          return promise.future();
        }
      }
      return Future.succeededFuture(value);
    }

    private void release() {
      List<Runnable> waiting;
      synchronized (this) {
        waiting = held;
        held = null;
      }
      if (waiting != null) {
        waiting.forEach(Runnable::run);
      }
    }

    private synchronized void hold() {
      if (held == null) {
        held = new ArrayList<>();
      }
    }

    private synchronized void answered(String key, JsonObject value, Throwable failure) {
      answered++;
      lastAnswerAt = System.currentTimeMillis();
      String outcome;
      if (failure != null) {
        outcome = failure.getClass().getName();
      } else if (value == null || !key.equals(value.getString("key"))) {
        wrongKey++;
        outcome = "wrong key: " + value;
      } else {
        outcome = value.getString("exec");
      }
      outcomes.computeIfAbsent(key, k -> new TreeMap<>()).merge(outcome, 1, Integer::sum);
    }

    /** Counts the joins that reach this node's verticle, by key and sending node. */
    void received(DeliveryContext<Object> delivery) {
      String op = delivery.message().headers().get("singleflight-op");
      String key = delivery.message().headers().get("singleflight-key");
      String from = delivery.message().headers().get("singleflight-node");
      if ("join".equals(op) && key != null && from != null) {
        synchronized (this) {
          joins.computeIfAbsent(key, k -> new TreeSet<>()).add(from);
        }
      }
      delivery.next();
    }

    /**
     * @return {@code node}, {@code nodeId} (as the cluster manager says now), {@code members} (node ids this node sees), {@code callers},
     * {@code answered}, {@code wrongKey}, {@code lastAnswerAt} (epoch ms, 0 if none), {@code outcomes}
     * (key -> execution id or failure class -> callers), {@code joins} (key -> sending node ids) and
     * {@code moves} (this node's {@code singleflight.cluster.moves})
     */
    synchronized JsonObject report() {
      Counter moves = registry.find("singleflight.cluster.moves").counter();
      JsonObject byKey = new JsonObject();
      outcomes.forEach((key, counts) -> byKey.put(key, new JsonObject(new TreeMap<String, Object>(counts))));
      JsonObject joined = new JsonObject();
      joins.forEach((key, from) -> joined.put(key, new JsonArray(new ArrayList<>(from))));
      return new JsonObject()
        .put("node", index)
        .put("nodeId", clusterManager.getNodeId())
        .put("members", new JsonArray(clusterManager.getNodes()))
        .put("callers", callers)
        .put("answered", answered)
        .put("wrongKey", wrongKey)
        .put("lastAnswerAt", lastAnswerAt)
        .put("outcomes", byKey)
        .put("joins", joined)
        .put("moves", moves == null ? 0.0 : moves.count());
    }
  }
}
