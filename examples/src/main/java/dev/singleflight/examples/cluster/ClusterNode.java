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
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.Callable;
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
 * the launcher, however that ends. Errors go to stderr; a failed start exits 1, bad arguments exit 2
 * with the reason and the usage.
 */
@Command(name = "ClusterNode", description = "One node of the cluster demo. ClusterStampedeDemo starts the nodes: run that instead.")
public final class ClusterNode implements Callable<Integer> {

  /** Address of the node-local verticle: it collapses calls of this node only. */
  static final String LOCAL_ADDRESS = "singleflight.local";
  /** Longest wait for the cluster to start and form, in seconds. */
  static final long START_SECONDS = 60;

  /**
   * Hazelcast's INFO lines and its warnings (about Java modules, the CP subsystem, members that left
   * as the demo stops) would drown the demo's output; keep its errors. Held so the level sticks.
   */
  private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");

  @Spec
  private CommandSpec spec;
  @Parameters(index = "0", paramLabel = "INDEX", description = "this node's index, from 0")
  private int index;
  @Parameters(index = "1", paramLabel = "CLUSTER", description = "the cluster's name, shared by the nodes of one run only")
  private String clusterName;
  @Parameters(index = "2", paramLabel = "PORTS", arity = "1", split = ",",
    description = "the Hazelcast port of every node on 127.0.0.1, by index, separated by commas")
  private List<Integer> memberPorts;

  /**
   * What a node is told by the launcher, in its arguments.
   *
   * @param index this node's index, from 0
   * @param clusterName the cluster's name, shared by the nodes of one run only
   * @param memberPorts the Hazelcast port of every node on 127.0.0.1, by index
   */
  record Settings(int index, String clusterName, List<Integer> memberPorts) {

    /** @return the arguments of the node's command line: {@code <index> <cluster name> <port>,<port>,...} */
    List<String> toArgs() {
      List<String> ports = memberPorts.stream().map(String::valueOf).toList();
      return List.of(String.valueOf(index), clusterName, String.join(",", ports));
    }
  }

  ClusterNode() {
  }

  /**
   * Runs a node until its stdin closes.
   *
   * @param args {@code <index> <cluster name> <hazelcast port>,<hazelcast port>,...}
   */
  public static void main(String[] args) {
    int code = new CommandLine(new ClusterNode()).execute(args);
    if (code != ExitCode.OK) {
      System.exit(code);
    }
  }

  /**
   * Starts the node; picocli calls it once the arguments are good.
   *
   * @return {@link ExitCode#OK} once the node serves (Vert.x's threads then keep the JVM alive),
   * {@link ExitCode#SOFTWARE} when it failed to start
   */
  @Override
  public Integer call() {
    Settings settings = settings();
    exitWhenClosed(System.in);
    HAZELCAST_LOG.setLevel(Level.SEVERE);
    try {
      start(settings);
      return ExitCode.OK;
    } catch (Exception e) {
      System.err.println("error: node " + index + " failed to start: " + e);
      return ExitCode.SOFTWARE;
    }
  }

  /**
   * @return the settings read from the arguments
   * @throws ParameterException when the index names no port
   */
  Settings settings() {
    if (index < 0 || index >= memberPorts.size()) {
      throw new ParameterException(spec.commandLine(),
        "Invalid value for INDEX: " + index + " is not in 0.." + (memberPorts.size() - 1) + ", one per port in PORTS");
    }
    return new Settings(index, clusterName, memberPorts);
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
    // A clustered verticle also listens at __singleflight.internal.<address>.node.<node id> (see the README).
    String nodeAddress = "__singleflight.internal." + clustered.getAddress() + ".node." + clusterManager.getNodeId();
    NodeServer server = NodeServer.start(vertx, dao, SingleFlight.createProxy(vertx),
      SingleFlight.createProxy(vertx, LOCAL_ADDRESS), nodeAddress, identity).await();
    System.out.println("ready " + server.port());
    System.out.flush();
  }

  /**
   * The demo's Hazelcast: a cluster of its own name, on 127.0.0.1 at this node's port, joining node 0
   * by TCP-IP; no multicast, no auto-detection, no metrics of its own, and no phone-home (Hazelcast's
   * default would call its vendor's server at start).
   */
  static Config hazelcastConfig(Settings settings) {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(settings.clusterName());
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.logging.type", "jdk");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    // Hazelcast's own metrics, for its Management Center and JMX, would go unread.
    config.getMetricsConfig().setEnabled(false);
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
