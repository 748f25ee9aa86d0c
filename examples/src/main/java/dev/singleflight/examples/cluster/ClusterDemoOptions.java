package dev.singleflight.examples.cluster;

import dev.singleflight.examples.Flags;
import dev.singleflight.examples.demo.UserDao;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * ClusterDemoOptions are the flags of {@link ClusterStampedeDemo}, a picocli mixin: each value
 * follows its flag as the next argument or after {@code =} ({@code --nodes 3}, {@code --nodes=3}),
 * and is checked against its bounds.
 */
public final class ClusterDemoOptions {

  /** Default of {@code --nodes}. */
  public static final int DEFAULT_NODES = 3;
  /** Largest {@code --nodes}: each node is a JVM with its own Hazelcast member. */
  public static final int MAX_NODES = 5;
  /** Default of {@code --requests}. */
  public static final int DEFAULT_REQUESTS = 900;
  /** Largest {@code --requests}: each request holds its own connection, two file descriptors. */
  public static final int MAX_REQUESTS = 3000;
  /** Default of {@code --ids}. */
  public static final int DEFAULT_IDS = 5;

  @Spec
  private CommandSpec spec;
  private int nodes;
  private int requests;
  private int ids;
  @Option(names = "--help", usageHelp = true, description = "print this message and exit")
  private boolean help;

  @Option(names = "--nodes", paramLabel = "N", defaultValue = "" + DEFAULT_NODES,
    description = "cluster nodes to start, one JVM each (1.." + MAX_NODES + ", default ${DEFAULT-VALUE})")
  private void setNodes(int nodes) {
    this.nodes = Flags.inRange(spec, "--nodes", nodes, 1, MAX_NODES);
  }

  @Option(names = "--requests", paramLabel = "R", defaultValue = "" + DEFAULT_REQUESTS,
    description = "concurrent requests sent to each route, round robin over the nodes (1.." + MAX_REQUESTS
      + ", default ${DEFAULT-VALUE})")
  private void setRequests(int requests) {
    this.requests = Flags.inRange(spec, "--requests", requests, 1, MAX_REQUESTS);
  }

  @Option(names = "--ids", paramLabel = "K", defaultValue = "" + DEFAULT_IDS,
    description = "distinct user ids they ask for (1.." + UserDao.USERS + ", default ${DEFAULT-VALUE})")
  private void setIds(int ids) {
    this.ids = Flags.inRange(spec, "--ids", ids, 1, UserDao.USERS);
  }

  /** @return the cluster nodes to start, each its own JVM */
  public int nodes() {
    return nodes;
  }

  /** @return the concurrent requests sent to each route in the load phase, spread over the nodes */
  public int requests() {
    return requests;
  }

  /** @return the distinct user ids the requests ask for */
  public int ids() {
    return ids;
  }
}
