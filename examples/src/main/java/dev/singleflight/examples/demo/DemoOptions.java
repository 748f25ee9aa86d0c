package dev.singleflight.examples.demo;

import dev.singleflight.examples.Flags;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * DemoOptions are the flags of {@link StampedeDemo}, a picocli mixin: each value follows its flag as
 * the next argument or after {@code =} ({@code --requests 500}, {@code --requests=500}), and is
 * checked against its bounds.
 */
public final class DemoOptions {

  /** Default of {@code --requests}. */
  public static final int DEFAULT_REQUESTS = 1000;
  /** Largest {@code --requests}: each request holds its own connection, two file descriptors. */
  public static final int MAX_REQUESTS = 5000;
  /** Default of {@code --ids}. */
  public static final int DEFAULT_IDS = 5;
  /** Default of {@code --cold-ids}. */
  public static final int DEFAULT_COLD_IDS = 1000;
  /** Default of {@code --port} with {@code --serve}; without it the demo takes any free port. */
  public static final int DEFAULT_SERVE_PORT = 8080;
  /** Default of {@code --slow-percent}: no slow lookups, no tail phases. */
  public static final int DEFAULT_SLOW_PERCENT = 0;
  /** Default of {@code --slow-ms}. */
  public static final int DEFAULT_SLOW_MILLIS = 1000;
  /** Default of {@code --hedge-after}, the hedged route's {@code hedgeAfter}. */
  public static final int DEFAULT_HEDGE_AFTER = 100;
  /** Default of {@code --waves}. */
  public static final int DEFAULT_WAVES = 300;
  /** Largest {@code --waves}. */
  public static final int MAX_WAVES = 100_000;
  /** The concurrent requests of one wave of the tail phases. */
  public static final int WAVE_REQUESTS = 10;

  @Spec
  private CommandSpec spec;
  private int requests;
  private int ids;
  private int coldIds;
  @Option(names = "--serve", description = "keep serving after the load phase, until Ctrl-C")
  private boolean serve;
  /** Null unless {@code --port} was given. */
  private Integer port;
  @Option(names = "--trace", description = "after the load phase, trace 3 concurrent requests for one user with OpenTelemetry"
    + " and print their spans")
  private boolean trace;
  @Option(names = "--help", usageHelp = true, description = "print this message and exit")
  private boolean help;
  private int slowPercent;
  private int slowMillis;
  private int hedgeAfter;
  private int waves;

  @Option(names = "--requests", paramLabel = "N", defaultValue = "" + DEFAULT_REQUESTS,
    description = "concurrent requests sent to each route (1.." + MAX_REQUESTS + ", default ${DEFAULT-VALUE})")
  private void setRequests(int requests) {
    this.requests = Flags.inRange(spec, "--requests", requests, 1, MAX_REQUESTS);
  }

  @Option(names = "--ids", paramLabel = "K", defaultValue = "" + DEFAULT_IDS,
    description = "distinct user ids they ask for (1.." + UserDao.USERS + ", default ${DEFAULT-VALUE})")
  private void setIds(int ids) {
    this.ids = Flags.inRange(spec, "--ids", ids, 1, UserDao.USERS);
  }

  @Option(names = "--cold-ids", paramLabel = "C", defaultValue = "" + DEFAULT_COLD_IDS,
    description = "distinct ids of the cold-start phase, asked twice each at once on each route (0 skips it; 0.."
      + UserDao.USERS + ", default ${DEFAULT-VALUE})")
  private void setColdIds(int coldIds) {
    this.coldIds = Flags.inRange(spec, "--cold-ids", coldIds, 0, UserDao.USERS);
  }

  @Option(names = "--port", paramLabel = "P",
    description = "port on 127.0.0.1 (0..65535; default " + DEFAULT_SERVE_PORT + " with --serve, else any free port)")
  private void setPort(int port) {
    this.port = Flags.inRange(spec, "--port", port, 0, 65535);
  }

  @Option(names = "--slow-percent", paramLabel = "P", defaultValue = "" + DEFAULT_SLOW_PERCENT,
    description = "share of database lookups that are slow, in percent; above 0 the demo also runs the tail phases, "
      + "without and with hedging (0..100, default ${DEFAULT-VALUE})")
  private void setSlowPercent(int slowPercent) {
    this.slowPercent = Flags.inRange(spec, "--slow-percent", slowPercent, 0, 100);
  }

  @Option(names = "--slow-ms", paramLabel = "MS", defaultValue = "" + DEFAULT_SLOW_MILLIS,
    description = "how long a slow lookup takes, in ms (1..60000, default ${DEFAULT-VALUE})")
  private void setSlowMillis(int slowMillis) {
    this.slowMillis = Flags.inRange(spec, "--slow-ms", slowMillis, 1, 60_000);
  }

  @Option(names = "--hedge-after", paramLabel = "MS", defaultValue = "" + DEFAULT_HEDGE_AFTER,
    description = "hedgeAfter of the hedged route, in ms (1..60000, default ${DEFAULT-VALUE})")
  private void setHedgeAfter(int hedgeAfter) {
    this.hedgeAfter = Flags.inRange(spec, "--hedge-after", hedgeAfter, 1, 60_000);
  }

  @Option(names = "--waves", paramLabel = "W", defaultValue = "" + DEFAULT_WAVES,
    description = "waves of " + WAVE_REQUESTS + " concurrent requests for one id each, per route, in the tail phases "
      + "(1.." + MAX_WAVES + ", default ${DEFAULT-VALUE})")
  private void setWaves(int waves) {
    this.waves = Flags.inRange(spec, "--waves", waves, 1, MAX_WAVES);
  }

  /** @return the share of slow lookups in the tail phases, in %; 0: no tail phases */
  public int slowPercent() {
    return slowPercent;
  }

  /** @return how long a slow lookup takes, in ms */
  public int slowMillis() {
    return slowMillis;
  }

  /** @return the hedged route's hedgeAfter, in ms */
  public int hedgeAfter() {
    return hedgeAfter;
  }

  /** @return the waves per route of the tail phases */
  public int waves() {
    return waves;
  }

  /** @return the concurrent requests sent to each route in the load phase */
  public int requests() {
    return requests;
  }

  /** @return the distinct user ids the requests ask for, round robin */
  public int ids() {
    return ids;
  }

  /** @return the distinct ids of the cold-start phase; 0: no cold-start phase */
  public int coldIds() {
    return coldIds;
  }

  /** @return whether to keep serving after the load phase */
  public boolean serve() {
    return serve;
  }

  /** @return whether to trace one collapsed request after the load phase and print its spans */
  public boolean trace() {
    return trace;
  }

  /** @return the port to listen on: the one given, else {@link #DEFAULT_SERVE_PORT} with {@code --serve}, else 0 (any free port) */
  public int port() {
    return port != null ? port : serve ? DEFAULT_SERVE_PORT : 0;
  }
}
