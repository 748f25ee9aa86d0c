package dev.singleflight.examples.cluster;

import dev.singleflight.examples.CommandLine;
import dev.singleflight.examples.CommandLine.Flag;
import dev.singleflight.examples.CommandLine.UsageException;
import dev.singleflight.examples.demo.UserDao;

import java.util.Set;

/**
 * ClusterDemoOptions are the command-line flags of {@link ClusterStampedeDemo}, parsed and checked.
 *
 * @param nodes the cluster nodes to start, each its own JVM
 * @param requests concurrent requests sent to each route in the load phase, spread over the nodes
 * @param ids distinct user ids the requests ask for
 * @param help whether {@code --help} was asked for
 */
public record ClusterDemoOptions(int nodes, int requests, int ids, boolean help) {

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

  /** The usage message, printed by {@code --help} and after a bad flag. */
  public static final String USAGE = String.join(System.lineSeparator(),
    "usage: ClusterStampedeDemo [--nodes N] [--requests R] [--ids K] [--help]",
    "  --nodes N     cluster nodes to start, one JVM each (1.." + MAX_NODES + ", default " + DEFAULT_NODES + ")",
    "  --requests R  concurrent requests sent to each route, round robin over the nodes (1.." + MAX_REQUESTS
      + ", default " + DEFAULT_REQUESTS + ")",
    "  --ids K       distinct user ids they ask for (1.." + UserDao.USERS + ", default " + DEFAULT_IDS + ")",
    "  --help        print this message",
    "From a clone: mvn -q -Pcluster-demo verify -Dcluster-demo.args=\"--nodes 3 --requests 900 --ids 5\"");

  /**
   * Parses the flags; each takes its value as the next argument or after {@code =}.
   *
   * @param args the command-line arguments
   * @return the options; when {@link #help()} is set the others are not checked
   * @throws UsageException on an unknown flag, a missing value, or a value that is not an integer in range
   */
  public static ClusterDemoOptions parse(String[] args) throws UsageException {
    int nodes = DEFAULT_NODES;
    int requests = DEFAULT_REQUESTS;
    int ids = DEFAULT_IDS;
    for (Flag flag : CommandLine.flags(args, Set.of("--nodes", "--requests", "--ids"), Set.of())) {
      switch (flag.name()) {
        case "--help" -> {
          return new ClusterDemoOptions(nodes, requests, ids, true);
        }
        case "--nodes" -> nodes = flag.integer(1, MAX_NODES);
        case "--requests" -> requests = flag.integer(1, MAX_REQUESTS);
        default -> ids = flag.integer(1, UserDao.USERS);
      }
    }
    return new ClusterDemoOptions(nodes, requests, ids, false);
  }
}
