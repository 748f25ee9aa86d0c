package dev.singleflight.examples.cluster;

import dev.singleflight.examples.cluster.ClusterStampede.Node;
import dev.singleflight.examples.cluster.ClusterStampede.Phase;
import dev.singleflight.examples.cluster.ClusterStampede.Route;
import dev.singleflight.examples.demo.UserDao;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * ClusterStampedeDemo shows cluster-wide single flight against a cache stampede: it starts a cluster
 * of N JVMs on this machine ({@link ClusterNode}), each with its own database, sends the same stampede
 * of requests, spread over the nodes, to a route collapsed across the cluster, to one collapsed on
 * each node alone, and to one not collapsed, and prints how many queries each node's database ran.
 * Then it stops the nodes and exits. Run it from a clone with {@code mvn -q -Pcluster-demo verify};
 * flags go in {@code -Dcluster-demo.args="..."} (see {@link ClusterDemoOptions}).
 */
@Command(name = "ClusterStampedeDemo",
  description = "Starts a cluster of JVMs on this machine, sends the same stampede of requests to a route collapsed "
    + "across the cluster, to one collapsed on each node, and to one not collapsed, and prints each node's database queries.",
  footer = {"From a clone:", "  mvn -q -Pcluster-demo verify -Dcluster-demo.args=\"--nodes 2 --requests 300\""})
public final class ClusterStampedeDemo implements Callable<Integer> {

  /** Exit code of a run that went well, or of {@code --help}. */
  public static final int OK = ExitCode.OK;
  /** Exit code when the demo could not run, some requests failed, or a stampede did not all arrive. */
  public static final int FAILED = ExitCode.SOFTWARE;
  /** Exit code of a bad command line. */
  public static final int USAGE = ExitCode.USAGE;

  @Mixin
  private ClusterDemoOptions options;
  private final PrintStream out;
  private final PrintStream err;

  private ClusterStampedeDemo(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /**
   * Runs the demo and exits with its {@link #run exit code}, unless that is {@link #OK}: then it just
   * returns, so that {@code mvn -Pcluster-demo verify}, which runs it inside Maven's JVM, goes on.
   *
   * @param args the flags, see {@link ClusterDemoOptions}
   */
  public static void main(String[] args) {
    int code = run(args, System.out, System.err);
    if (code != OK) {
      System.exit(code);
    }
  }

  /**
   * Runs the demo: parses the flags, starts the nodes, runs the load phase, prints the results, and
   * stops the nodes; it returns once every node has exited. {@code --help} prints the usage on
   * {@code out}; a bad command line prints the reason and the usage on {@code err}.
   *
   * @param args the flags
   * @param out where the results go
   * @param err where the usage after a bad command line, errors and the nodes' own stderr go
   * @return {@link #OK}, {@link #FAILED} or {@link #USAGE}
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return new CommandLine(new ClusterStampedeDemo(out, err))
      .setOut(new PrintWriter(out, true))
      .setErr(new PrintWriter(err, true))
      .execute(args);
  }

  /** Runs the demo with the parsed flags; picocli calls it once the command line is good. */
  @Override
  public Integer call() {
    try {
      return run(options, out, err);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("error: interrupted");
      return FAILED;
    } catch (Exception e) {
      err.println("error: " + e);
      return FAILED;
    }
  }

  private static int run(ClusterDemoOptions options, PrintStream out, PrintStream err) throws Exception {
    out.printf("machine: %d cores, Java %s, %s %s%n", Runtime.getRuntime().availableProcessors(),
      System.getProperty("java.version"), System.getProperty("os.name"), System.getProperty("os.arch"));
    long started = System.nanoTime();
    try (ClusterStampede cluster = ClusterStampede.start(options.nodes(), err)) {
      out.printf("cluster: %d node%s, one JVM each, Hazelcast and HTTP on 127.0.0.1; formed in %.1f s%n",
        options.nodes(), options.nodes() == 1 ? "" : "s", (System.nanoTime() - started) / (double) TimeUnit.SECONDS.toNanos(1));
      for (Node node : cluster.nodes()) {
        out.printf("  node %d: pid %d, http://127.0.0.1:%d%n", node.process().index(), node.process().pid(), node.port());
      }
      out.printf("database: H2 in memory on each node, %d users, %d ms per query%n",
        UserDao.USERS, UserDao.QUERY_TIME.toMillis());
      out.printf("load: %d concurrent requests per route, round robin over the nodes, for %d ids; no query starts%n"
        + "  before all of them have reached their nodes (and, on %s, every node has joined the flight of each id)%n",
        options.requests(), options.ids(), Route.CLUSTERED.pattern());
      List<Phase> phases = cluster.load(options.requests(), options.ids(), out, err);
      printTable(phases, options, out);
      int failed = phases.stream().mapToInt(Phase::failed).sum();
      if (failed > 0) {
        err.println("error: " + failed + " requests failed");
        return FAILED;
      }
      if (!phases.stream().allMatch(Phase::gathered)) {
        err.println("error: a stampede did not all arrive before its lookups ran");
        return FAILED;
      }
      return OK;
    }
  }

  /** Prints the queries of each node on each route, their totals, and what they should be. */
  static void printTable(List<Phase> phases, ClusterDemoOptions options, PrintStream out) {
    int nodes = options.nodes();
    String cells = " %18s".repeat(phases.size()) + "%n";
    String format = "%-8s %8s" + cells;
    out.println();
    out.println("database queries by node and route:");
    out.printf(format, row("node", "requests", phases.stream().map(phase -> phase.route().pattern())));
    out.printf("%-17s" + cells, row("single flight:", phases.stream().map(phase -> phase.route().singleFlight())));
    for (int n = 0; n < nodes; n++) {
      int node = n;
      out.printf(format, row(String.valueOf(node), String.valueOf(ClusterStampede.requestsTo(node, options.requests(), nodes)),
        phases.stream().map(phase -> phase.queries()[node])));
    }
    out.printf(format, row("total", String.valueOf(options.requests()), phases.stream().map(Phase::totalQueries)));
    out.printf(format, row("expected", "",
      phases.stream().map(phase -> phase.route().expectedQueries(options.requests(), nodes, options.ids()))));
  }

  private static Object[] row(String first, String second, Stream<?> cells) {
    return Stream.concat(Stream.of(first, second), cells).toArray();
  }

  private static Object[] row(String first, Stream<?> cells) {
    return Stream.concat(Stream.of(first), cells).toArray();
  }
}
