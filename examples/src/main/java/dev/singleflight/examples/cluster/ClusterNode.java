package dev.singleflight.examples.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import dev.singleflight.examples.demo.UserDao;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * ClusterNode is one node of the cluster demo, a JVM of its own started by {@link ClusterStampedeDemo}:
 * a clustered Vert.x (Hazelcast on 127.0.0.1 only, joining node 0 by TCP-IP; multicast,
 * auto-detection and phone-home off), its own H2 database of users, a clustered
 * {@link SingleFlightVerticle} at the default address, a node-local one at {@link #LOCAL_ADDRESS},
 * and a {@link NodeServer}.
 *
 * <p>It talks to the launcher through its standard streams: on stdout {@code ready <http port>} once
 * every node is a member and it serves; it exits as soon as its stdin closes, so it never outlives
 * the launcher, however that ends. Errors go to stderr; a failed start exits 1, bad arguments exit 2.
 */
public final class ClusterNode {

  /** Address of the node-local verticle: it collapses calls of this node only. */
  static final String LOCAL_ADDRESS = "singleflight.local";
  /** Longest wait for the cluster to start and form, in seconds. */
  static final long START_SECONDS = 60;

  /**
   * Hazelcast's INFO lines and its warnings (about Java modules, the CP subsystem, members that left
   * as the demo stops) would drown the demo's output; keep its errors. Held so the level sticks.
   */
  private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");

  /**
   * What a node is told by the launcher.
   *
   * @param index this node's index, from 0
   * @param clusterName the cluster's name, shared by the nodes of one run only
   * @param memberPorts the Hazelcast port of every node on 127.0.0.1, by index
   */
  record Settings(int index, String clusterName, List<Integer> memberPorts) {

    /** @return the arguments that {@link #parse(String[])} reads back */
    List<String> toArgs() {
      List<String> ports = memberPorts.stream().map(String::valueOf).toList();
      return List.of(String.valueOf(index), clusterName, String.join(",", ports));
    }

    /** Reads {@code <index> <cluster name> <port>,<port>,...}; null when malformed. */
    static Settings parse(String[] args) {
      if (args.length != 3) {
        return null;
      }
      try {
        List<Integer> ports = new ArrayList<>();
        for (String port : args[2].split(",")) {
          ports.add(Integer.parseInt(port));
        }
        int index = Integer.parseInt(args[0]);
        return index >= 0 && index < ports.size() && !args[1].isBlank() ? new Settings(index, args[1], ports) : null;
      } catch (NumberFormatException e) {
        return null;
      }
    }
  }

  private ClusterNode() {
  }

  /**
   * Runs a node until its stdin closes.
   *
   * @param args {@code <index> <cluster name> <hazelcast port>,<hazelcast port>,...}
   */
  public static void main(String[] args) {
    Settings settings = Settings.parse(args);
    if (settings == null) {
      System.err.println("usage: ClusterNode <index> <cluster name> <hazelcast port>,<hazelcast port>,...");
      System.err.println("ClusterStampedeDemo starts the nodes; run that instead.");
      System.exit(2);
    }
    exitWhenClosed(System.in);
    HAZELCAST_LOG.setLevel(Level.SEVERE);
    try {
      start(settings);
    } catch (Exception e) {
      System.err.println("error: node " + settings.index() + " failed to start: " + e);
      System.exit(1);
    }
  }

  /** Starts the node, and says so on stdout; Vert.x's threads keep the JVM alive afterwards. */
  private static void start(Settings settings) throws Exception {
    // Seeding the database takes a while: it goes on while Hazelcast starts.
    FutureTask<UserDao> database = new FutureTask<>(UserDao::open);
    new Thread(database, "open-database").start();
    HazelcastClusterManager clusterManager = new HazelcastClusterManager(hazelcastConfig(settings));
    VertxOptions options = new VertxOptions().setEventBusOptions(new EventBusOptions().setHost("127.0.0.1").setPort(0));
    Vertx vertx = Vertx.builder().with(options).withClusterManager(clusterManager).buildClustered()
      .await(START_SECONDS, TimeUnit.SECONDS);
    // The clustered verticle reads the members when it starts: deploy it once all are there, so that
    // every node agrees on the owner of each key from the first request on.
    awaitMembers(vertx, clusterManager, settings.memberPorts().size()).await(START_SECONDS, TimeUnit.SECONDS);
    UserDao dao = database.get(START_SECONDS, TimeUnit.SECONDS);
    SingleFlightOptions clustered = new SingleFlightOptions().setClustered(true);
    vertx.deployVerticle(new SingleFlightVerticle(clustered)).await();
    vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setAddress(LOCAL_ADDRESS))).await();
    JsonObject identity = new JsonObject()
      .put("node", settings.index())
      .put("nodeId", clusterManager.getNodeId())
      .put("pid", ProcessHandle.current().pid());
    // A clustered verticle also listens at <address>.node.<node id> (see the README).
    String nodeAddress = clustered.getAddress() + ".node." + clusterManager.getNodeId();
    NodeServer server = NodeServer.start(vertx, dao, SingleFlight.createProxy(vertx),
      SingleFlight.createProxy(vertx, LOCAL_ADDRESS), nodeAddress, identity).await();
    System.out.println("ready " + server.port());
    System.out.flush();
  }

  /**
   * The demo's Hazelcast: a cluster of its own name, on 127.0.0.1 at this node's port, joining node 0
   * by TCP-IP; no multicast, no auto-detection, and no phone-home (Hazelcast's default would call
   * its vendor's server at start).
   */
  static Config hazelcastConfig(Settings settings) {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(settings.clusterName());
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.logging.type", "jdk");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.getNetworkConfig().setPort(settings.memberPorts().get(settings.index())).setPortAutoIncrement(false)
      .getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    // All nodes start at once. Node 0 lists only itself, so it is the first member at once, instead of
    // knocking for seconds at ports where nobody listens yet; the others wait for node 0 and join it
    // (never starting a cluster of their own), and learn the rest of the members from it.
    String first = "127.0.0.1:" + settings.memberPorts().get(0);
    join.getTcpIpConfig().setEnabled(true).addMember(first);
    if (settings.index() > 0) {
      join.getTcpIpConfig().setRequiredMember(first);
    }
    return config;
  }

  /**
   * Completes once the cluster has {@code count} members. It polls: the cluster manager has a single
   * node listener, and the clustered verticle needs it.
   */
  private static Future<Void> awaitMembers(Vertx vertx, HazelcastClusterManager clusterManager, int count) {
    Promise<Void> formed = Promise.promise();
    checkMembers(vertx, clusterManager, count, formed);
    return formed.future();
  }

  private static void checkMembers(Vertx vertx, HazelcastClusterManager clusterManager, int count, Promise<Void> formed) {
    if (clusterManager.getNodes().size() >= count) {
      formed.complete();
    } else {
      vertx.setTimer(20, timer -> checkMembers(vertx, clusterManager, count, formed));
    }
  }

  /** Exits the JVM once {@code in} ends: the launcher closed it, or is gone. */
  private static void exitWhenClosed(InputStream in) {
    Thread watcher = new Thread(() -> {
      try {
        // Nothing is sent on stdin: only its end matters.
        in.transferTo(OutputStream.nullOutputStream());
      } catch (IOException e) {
        // A broken pipe ends it all the same.
      }
      System.exit(0);
    }, "exit-when-stdin-closes");
    watcher.setDaemon(true);
    watcher.start();
  }
}
