package dev.singleflight.examples.demo;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * StampedeDemo shows single flight against a cache stampede: many concurrent requests for a few
 * users, each a cache miss that needs a 50 ms query, served once with and once without single
 * flight. It prints how many queries the database ran and the latencies, and what the single-flight
 * verticle's meters counted; then a cold start, many distinct ids at once, against the direct, the
 * single-flight and the batched route, with the same figures; then it exits, or with {@code --serve}
 * keeps serving. With {@code --slow-percent} it also makes that share of the lookups slow and sends
 * waves of requests to the single-flight route without and with hedging ({@code hedgeAfter}), and
 * prints the latencies and the extra queries hedging cost. Run it from a clone
 * with {@code mvn -q -Pdemo verify}; flags go in {@code -Ddemo.args="..."} (see {@link DemoOptions}).
 */
@Command(name = "StampedeDemo",
  description = "Sends a stampede of concurrent requests for a few users to a route with single flight and to one without, "
    + "then a cold start of many distinct users to those and to a batched route, and prints the database queries and latencies of each.",
  footer = "From a clone: mvn -q -Pdemo verify -Ddemo.args=\"--requests 500 --ids 3\"")
public final class StampedeDemo implements Callable<Integer> {

  /** Exit code of a run that went well, or of {@code --help}. */
  public static final int OK = ExitCode.OK;
  /** Exit code when the demo could not run or some requests failed. */
  public static final int FAILED = ExitCode.SOFTWARE;
  /** Exit code of a bad command line. */
  public static final int USAGE = ExitCode.USAGE;

  @Mixin
  private DemoOptions options;
  private final PrintStream out;
  private final PrintStream err;
  private final boolean terminal;

  private StampedeDemo(PrintStream out, PrintStream err, boolean terminal) {
    this.out = out;
    this.err = err;
    this.terminal = terminal;
  }

  /**
   * Runs the demo and exits with its {@link #run exit code}, unless that is {@link #OK}: then it
   * just returns (with {@code --serve}, once Ctrl-C stops the JVM).
   *
   * @param args the flags, see {@link DemoOptions}
   */
  public static void main(String[] args) {
    int code = run(args, System.out, System.err, System.console() != null);
    if (code != OK) {
      System.exit(code);
    }
  }

  /**
   * Runs the demo: parses the flags, starts the server, runs the load phase, prints the results;
   * with {@code --serve} it then serves until the JVM is stopped and never returns. {@code --help}
   * prints the usage on {@code out}; a bad command line prints the reason and the usage on
   * {@code err}.
   *
   * @param args the flags
   * @param out where the results go
   * @param err where the usage after a bad command line, errors and progress bars go
   * @param terminal whether {@code err} is a terminal, to redraw the progress bars in place
   * @return {@link #OK}, {@link #FAILED} or {@link #USAGE}
   */
  public static int run(String[] args, PrintStream out, PrintStream err, boolean terminal) {
    return new CommandLine(new StampedeDemo(out, err, terminal))
      .setOut(new PrintWriter(out, true))
      .setErr(new PrintWriter(err, true))
      .execute(args);
  }

  /** Runs the demo with the parsed flags; picocli calls it once the command line is good. */
  @Override
  public Integer call() {
    try {
      return run(options, out, err, terminal);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("error: interrupted");
      return FAILED;
    } catch (Exception e) {
      err.println("error: " + e);
      return FAILED;
    }
  }

  private static int run(DemoOptions options, PrintStream out, PrintStream err, boolean terminal) throws Exception {
    Stampede stampede = Stampede.start(options.port(), options.hedgeAfter(), options.trace() ? new DemoTracing() : null);
    try {
      out.printf("machine: %d cores, Java %s, %s %s%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"), System.getProperty("os.name"), System.getProperty("os.arch"));
      out.printf("database: H2 in memory, %d users, %d ms per query, %d connections%n",
        UserDao.USERS, UserDao.QUERY_TIME.toMillis(), UserDao.CONNECTIONS);
      out.printf("load: %d concurrent requests per route for %d ids; no query starts before all of a "
        + "route's requests have arrived%n", options.requests(), options.ids());
      List<Stampede.Phase> phases = stampede.load(options.requests(), options.ids(), err, terminal);
      printTable(phases, out);
      printCalls(stampede.calls(), out);
      if (options.trace()) {
        out.println();
        out.println("spans of 3 concurrent requests for user 1 (OpenTelemetry's logging exporter):");
        stampede.traceOneCollapsedRequest(3, out);
      }
      int failed = phases.stream().mapToInt(Stampede.Phase::failed).sum();
      if (options.coldIds() > 0) {
        out.println();
        out.printf("cold start: %d distinct ids at once, %d requests each, per route%n",
          options.coldIds(), Stampede.COLD_START_REQUESTS_PER_ID);
        List<Stampede.Phase> cold = stampede.coldStart(options.coldIds(), err, terminal);
        printColdStartTable(cold, out);
        failed += cold.stream().mapToInt(Stampede.Phase::failed).sum();
      }
      if (options.slowPercent() > 0) {
        out.println();
        out.printf("tail: %d%% of lookups take %d ms; %d waves per route of %d concurrent requests for one id each%n",
          options.slowPercent(), options.slowMillis(), options.waves(), DemoOptions.WAVE_REQUESTS);
        List<Stampede.TailPhase> tail = stampede.tail(options.waves(), DemoOptions.WAVE_REQUESTS, options.slowPercent(),
          Duration.ofMillis(options.slowMillis()), err, terminal);
        printTail(tail, out);
        out.printf("hedges of %s: %d won, %d lost (singleflight_hedges_total)%n", UserServer.HEDGED + ":id",
          stampede.hedges(true), stampede.hedges(false));
        failed += tail.stream().mapToInt(Stampede.TailPhase::failed).sum();
      }
      if (failed > 0) {
        err.println("error: " + failed + " requests failed");
        return FAILED;
      }
      if (options.serve()) {
        serve(stampede, out);
      }
      return OK;
    } finally {
      stampede.close();
    }
  }

  /** Prints one row per phase. */
  static void printTable(List<Stampede.Phase> phases, PrintStream out) {
    String format = "%-18s %-13s %8s %10s %7s %7s%n";
    out.println();
    out.printf(format, "route", "single flight", "requests", "db queries", "p50 ms", "p99 ms");
    for (Stampede.Phase phase : phases) {
      out.printf(format, phase.route(), phase.singleFlight() ? "yes" : "no", phase.requests(), phase.queries(),
        phase.p50Millis(), phase.p99Millis());
    }
  }

  /** Prints one row per route of the cold-start phase: how each collapses the lookups of distinct ids. */
  static void printColdStartTable(List<Stampede.Phase> phases, PrintStream out) {
    String format = "%-21s %-13s %8s %10s %7s %7s%n";
    out.println();
    out.printf(format, "route", "collapsing", "requests", "db queries", "p50 ms", "p99 ms");
    for (Stampede.Phase phase : phases) {
      String collapsing = phase.route().startsWith(UserServer.BATCHED) ? "batch" : phase.singleFlight() ? "single flight" : "none";
      out.printf(format, phase.route(), collapsing, phase.requests(), phase.queries(), phase.p50Millis(), phase.p99Millis());
    }
  }

  /** Prints one row per tail phase. */
  static void printTail(List<Stampede.TailPhase> phases, PrintStream out) {
    String format = "%-18s %-12s %8s %8s %10s %13s %7s %7s%n";
    out.println();
    out.printf(format, "route", "hedgeAfter", "requests", "flights", "db queries", "extra queries", "p50 ms", "p99 ms");
    for (Stampede.TailPhase phase : phases) {
      out.printf(format, phase.route(), phase.hedgeAfter() > 0 ? phase.hedgeAfter() + " ms" : "off", phase.requests(),
        phase.flights(), phase.queries(), phase.extraQueries(), phase.p50Millis(), phase.p99Millis());
    }
  }

  /** Prints the single-flight verticle's count of calls, which {@code GET /metrics} also shows. */
  static void printCalls(Stampede.Calls calls, PrintStream out) {
    out.println();
    out.printf("single-flight meters: %d calls led an execution, %d joined one (singleflight_calls_total)%n",
      calls.leaders(), calls.followers());
  }

  /** Prints where to send requests, then blocks for good: Ctrl-C stops the JVM, sockets and all. */
  private static void serve(Stampede stampede, PrintStream out) throws InterruptedException {
    String base = "http://127.0.0.1:" + stampede.port();
    out.println();
    out.println("serving on " + base + " until Ctrl-C; try:");
    out.println("  curl " + base + UserServer.COLLAPSED + "1");
    out.println("  curl " + base + UserServer.DIRECT + "1");
    out.println("  curl " + base + UserServer.BATCHED + "1");
    out.println("  curl -s " + base + UserServer.METRICS + " | grep ^singleflight");
    new CountDownLatch(1).await();
  }
}
