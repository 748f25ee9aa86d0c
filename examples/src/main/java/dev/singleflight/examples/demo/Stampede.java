package dev.singleflight.examples.demo;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.tracing.opentelemetry.OpenTelemetryOptions;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Stampede is the running demo: a Vert.x instance whose Micrometer metrics go to a Prometheus
 * registry, the users in H2, a {@link SingleFlightVerticle}, the {@link UserServer}, and the load
 * phase that sends a stampede of requests to each route.
 *
 * <p>Its methods block: call them from a plain thread such as {@code main}, never from an event loop.
 */
public final class Stampede {

  /** How long one request of a load phase may take before it counts as failed. */
  private static final long REQUEST_TIMEOUT_MILLIS = 60_000;
  /** Precision of the latency histograms: 3 digits, e.g. 261.3 ms. */
  private static final int SIGNIFICANT_DIGITS = 3;
  /** The address of the second single-flight verticle, the one that hedges slow flights. */
  public static final String HEDGED_ADDRESS = "singleflight.hedged";

  /**
   * What one load phase measured.
   *
   * @param route the route, e.g. {@code /users/:id}
   * @param singleFlight whether the route collapses its lookups (one flight per id, or batches)
   * @param requests the requests sent
   * @param failed the requests not answered 200 with a user
   * @param queries the database queries the phase ran
   * @param p50Millis the median latency, in milliseconds
   * @param p99Millis the 99th percentile latency, in milliseconds
   */
  public record Phase(String route, boolean singleFlight, int requests, int failed, int queries,
                      long p50Millis, long p99Millis) {
  }

  /**
   * What one tail phase measured: waves of concurrent requests for one id each, while a share of the
   * database lookups is slow.
   *
   * @param route the route, e.g. {@code /hedged/users/:id}
   * @param hedgeAfter the route's {@code hedgeAfter} in ms, 0 when it does not hedge
   * @param requests the requests sent
   * @param failed the requests not answered 200 with a user
   * @param flights the flights: one per wave
   * @param queries the database queries the phase ran: one per flight, and one per hedge
   * @param p50Millis the median latency, in milliseconds
   * @param p99Millis the 99th percentile latency, in milliseconds
   */
  public record TailPhase(String route, long hedgeAfter, int requests, int failed, int flights, int queries,
                          long p50Millis, long p99Millis) {

    /** @return the queries beyond one per flight: what hedging cost */
    public int extraQueries() {
      return queries - flights;
    }
  }

  /**
   * What the single-flight verticle's meters counted so far ({@code singleflight.calls} by role).
   *
   * @param leaders the calls that started an execution
   * @param followers the calls that joined one
   */
  public record Calls(long leaders, long followers) {
  }

  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final UserDao dao;
  private final UserServer server;
  private final long hedgeAfter;
  /** Null without {@code --trace}. */
  private final DemoTracing tracing;

  private Stampede(Vertx vertx, PrometheusMeterRegistry registry, UserDao dao, UserServer server, long hedgeAfter,
                   DemoTracing tracing) {
    this.vertx = vertx;
    this.registry = registry;
    this.dao = dao;
    this.server = server;
    this.hedgeAfter = hedgeAfter;
    this.tracing = tracing;
  }

  /**
   * Starts the demo without tracing, its hedged route with {@link DemoOptions#DEFAULT_HEDGE_AFTER}.
   *
   * @see #start(int, long, DemoTracing)
   */
  public static Stampede start(int port) throws Exception {
    return start(port, DemoOptions.DEFAULT_HEDGE_AFTER, null);
  }

  /**
   * Starts a Vert.x instance with Prometheus metrics, opens the database, deploys the verticle, and
   * starts the server on 127.0.0.1.
   *
   * @param port the port; 0 picks a free one
   * @param hedgeAfter the {@code hedgeAfter} of the verticle behind {@link UserServer#HEDGED}, in ms, positive
   * @param tracing the tracing of {@link #traceOneCollapsedRequest}, or {@code null} for none
   * @return the running demo; {@link #close()} stops it all
   * @throws Exception when the database or the server fails to start, e.g. the port is taken
   */
  public static Stampede start(int port, long hedgeAfter, DemoTracing tracing) throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // vertx-micrometer-metrics keeps one registry per name for the whole JVM and would hand this
    // instance the registry of another one alive under the same name: take a name of our own, and
    // tell the verticle.
    String registryName = "stampede-demo-" + UUID.randomUUID();
    Vertx vertx = vertxWithMetrics(registry, registryName, tracing);
    UserDao dao = null;
    try {
      dao = UserDao.open();
      vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setMetricsRegistryName(registryName))).await();
      vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setMetricsRegistryName(registryName)
        .setAddress(HEDGED_ADDRESS).setHedgeAfter(hedgeAfter))).await();
      SingleFlight flights = SingleFlight.createProxy(vertx);
      SingleFlight hedged = SingleFlight.createProxy(vertx, HEDGED_ADDRESS);
      UserServer server = UserServer.start(vertx, flights, hedged, dao, registry, port, Runtime.getRuntime().availableProcessors()).await();
      return new Stampede(vertx, registry, dao, server, hedgeAfter, tracing);
    } catch (Exception e) {
      if (dao != null) {
        try {
          dao.close();
        } catch (SQLException closing) {
          e.addSuppressed(closing);
        }
      }
      vertx.close().await();
      throw e;
    }
  }

  /**
   * A Vert.x instance whose Micrometer metrics, the single-flight verticle's included, go to
   * {@code registry}; traced with OpenTelemetry when {@code tracing} is not {@code null}.
   */
  private static Vertx vertxWithMetrics(PrometheusMeterRegistry registry, String registryName, DemoTracing tracing) {
    VertxGaugeWarningFilter.install();
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
      .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
      .setRegistryName(registryName)
      .setEnabled(true);
    if (tracing == null) {
      return Vertx.builder()
        .with(new VertxOptions().setMetricsOptions(metrics))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
    }
    return Vertx.builder()
      .with(new VertxOptions().setMetricsOptions(metrics).setTracingOptions(new OpenTelemetryOptions()))
      .withMetrics(new MicrometerMetricsFactory(registry))
      .withTracer(tracing.tracerFactory())
      .build();
  }

  /**
   * Sends {@code callers} concurrent requests for user 1 to the collapsed route, each the root of a
   * trace of its own, and prints their spans on {@code out} through the logging exporter: each
   * request's {@code GET} server span; one {@code singleflight.execute} span, in the trace of the
   * request that led the flight; one {@code singleflight.wait} span in each other request's trace,
   * and its link to the execution span. Needs a demo started with a {@link DemoTracing}.
   *
   * @param callers the requests, at least 2
   * @throws Exception when interrupted or the requests fail
   */
  public void traceOneCollapsedRequest(int callers, PrintStream out) throws Exception {
    WebClient client = WebClient.create(vertx,
      new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port()),
      new PoolOptions().setHttp1MaxSize(callers));
    try {
      // Connections first, so that the traced requests are the only ones.
      send(client, callers, i -> UserServer.HEALTH, new Histogram(SIGNIFICANT_DIGITS), new AtomicInteger()).await();
      // A server span per request, the execution span, a wait span per request that joined.
      tracing.record(() -> {
        server.expectStampede(callers);
        int failed = send(client, callers, i -> UserServer.COLLAPSED + "1", new Histogram(SIGNIFICANT_DIGITS), new AtomicInteger())
          .await();
        if (failed > 0) {
          throw new IllegalStateException(failed + " traced requests failed");
        }
      }, callers + 1 + (callers - 1), out);
    } finally {
      client.close();
    }
  }

  /** @return the port the server listens on */
  public int port() {
    return server.port();
  }

  /**
   * Sends a stampede of {@code requests} concurrent requests to each route in turn, the collapsed
   * one first, asking for ids 1 to {@code ids} round robin.
   *
   * @param requests the requests per route
   * @param ids the distinct ids asked for
   * @param progress where the progress bars go
   * @param terminal whether {@code progress} is a terminal
   * @return the collapsed route's phase, then the direct route's
   * @throws Exception when interrupted or the load itself fails
   */
  public List<Phase> load(int requests, int ids, PrintStream progress, boolean terminal) throws Exception {
    return List.of(
      phase(UserServer.COLLAPSED, true, requests, ids, progress, terminal),
      phase(UserServer.DIRECT, false, requests, ids, progress, terminal));
  }

  /** Requests per id of the cold-start phase. */
  public static final int COLD_START_REQUESTS_PER_ID = 2;

  /**
   * The cold start after a deploy or a flush: {@code ids} distinct ids at once, asked
   * {@value #COLD_START_REQUESTS_PER_ID} times each, sent to each route in turn (direct, single
   * flight, batched), each a stampede held until all its requests have arrived.
   *
   * @param ids the distinct ids, from 1
   * @param progress where the progress bars go
   * @param terminal whether {@code progress} is a terminal
   * @return the direct route's phase, the collapsed route's, then the batched route's
   * @throws Exception when interrupted or the load itself fails
   */
  public List<Phase> coldStart(int ids, PrintStream progress, boolean terminal) throws Exception {
    int requests = ids * COLD_START_REQUESTS_PER_ID;
    return List.of(
      phase(UserServer.DIRECT, false, requests, ids, progress, terminal),
      phase(UserServer.COLLAPSED, true, requests, ids, progress, terminal),
      phase(UserServer.BATCHED, true, requests, ids, progress, terminal));
  }

  /**
   * Sends {@code waves} waves of {@code callers} concurrent requests, each wave for one id of its own,
   * first to the collapsed route, then to the hedged one, while {@code slowPercent} % of the database
   * lookups take {@code slowTime}; then makes the lookups fast again.
   *
   * @param waves the waves per route, one flight each
   * @param callers the concurrent requests of a wave
   * @param slowPercent the share of slow lookups, 1 to 100
   * @param slowTime how long a slow lookup takes
   * @param progress where the progress bars go
   * @param terminal whether {@code progress} is a terminal
   * @return the collapsed route's phase, then the hedged route's
   * @throws Exception when interrupted or the load itself fails
   */
  public List<TailPhase> tail(int waves, int callers, int slowPercent, Duration slowTime, PrintStream progress,
                              boolean terminal) throws Exception {
    dao.slowDown(slowPercent, slowTime);
    try {
      return List.of(
        tailPhase(UserServer.COLLAPSED, 0, waves, callers, progress, terminal),
        tailPhase(UserServer.HEDGED, hedgeAfter, waves, callers, progress, terminal));
    } finally {
      dao.slowDown(0, UserDao.QUERY_TIME);
    }
  }

  /**
   * @param won whether to count the hedges that won or those that lost
   * @return the hedges that the verticle behind {@link UserServer#HEDGED} counted ({@code singleflight.hedges})
   */
  public long hedges(boolean won) {
    return (long) registry.get("singleflight.hedges")
      .tag("address", HEDGED_ADDRESS)
      .tag("outcome", won ? "won" : "lost")
      .counter()
      .count();
  }

  /** @return the calls the single-flight verticle counted so far, as {@code GET /metrics} shows them */
  public Calls calls() {
    return new Calls(calls("leader"), calls("follower"));
  }

  private long calls(String role) {
    return (long) registry.get("singleflight.calls")
      .tag("address", SingleFlightOptions.DEFAULT_ADDRESS)
      .tag("role", role)
      .counter()
      .count();
  }

  /** Closes the server, drops the database, and closes Vert.x (and the tracing, if any). */
  public void close() throws Exception {
    try {
      server.close().await();
    } finally {
      try {
        dao.close();
      } finally {
        vertx.close().await();
        if (tracing != null) {
          tracing.close();
        }
      }
    }
  }

  private Phase phase(String path, boolean singleFlight, int requests, int ids, PrintStream progress,
                      boolean terminal) throws Exception {
    // One connection per request, so that all of them are in flight at once, opened before the
    // stampede by a round of health checks: the latencies are those of the lookups, not of TCP
    // handshakes. A fresh client per phase, so that both phases start alike.
    WebClient client = WebClient.create(vertx,
      new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port()),
      new PoolOptions().setHttp1MaxSize(requests));
    try {
      // A failed health check shows again as a failed request of the stampede.
      send(client, requests, i -> UserServer.HEALTH, new Histogram(SIGNIFICANT_DIGITS), new AtomicInteger()).await();
      int queriesBefore = dao.queries();
      Histogram latencies = new Histogram(SIGNIFICANT_DIGITS);
      AtomicInteger answered = new AtomicInteger();
      server.expectStampede(requests);
      Future<Integer> failed = send(client, requests, i -> path + (1 + i % ids), latencies, answered);
      String route = path + ":id";
      int failures = awaitShowing(failed, new ProgressBar(progress, terminal, route, requests), answered);
      return new Phase(route, singleFlight, requests, failures, dao.queries() - queriesBefore,
        millis(latencies.getValueAtPercentile(50)), millis(latencies.getValueAtPercentile(99)));
    } finally {
      client.close();
    }
  }

  private TailPhase tailPhase(String path, long hedged, int waves, int callers, PrintStream progress,
                              boolean terminal) throws Exception {
    WebClient client = WebClient.create(vertx,
      new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port()),
      new PoolOptions().setHttp1MaxSize(callers));
    try {
      send(client, callers, i -> UserServer.HEALTH, new Histogram(SIGNIFICANT_DIGITS), new AtomicInteger()).await();
      int queriesBefore = dao.queries();
      Histogram latencies = new Histogram(SIGNIFICANT_DIGITS);
      AtomicInteger answered = new AtomicInteger();
      String route = path + ":id";
      ProgressBar bar = new ProgressBar(progress, terminal, route, waves * callers);
      int failures = 0;
      for (int wave = 0; wave < waves; wave++) {
        int id = 1 + wave % UserDao.USERS;
        // Every request of the wave joins its one flight: no lookup starts before all have arrived.
        server.expectStampede(callers);
        bar.show(answered.get());
        failures += send(client, callers, i -> path + id, latencies, answered).await();
      }
      bar.finish();
      return new TailPhase(route, hedged, waves * callers, failures, waves, dao.queries() - queriesBefore,
        millis(latencies.getValueAtPercentile(50)), millis(latencies.getValueAtPercentile(99)));
    } finally {
      client.close();
    }
  }

  /**
   * Sends {@code requests} GET requests at once from one event loop, request {@code i} to
   * {@code paths.apply(i)}, and records the latency of each in {@code latencies} (microseconds), on
   * that event loop.
   *
   * @return a Future of the number of requests not answered 200, completed once all are answered
   */
  private Future<Integer> send(WebClient client, int requests, IntFunction<String> paths, Histogram latencies,
                               AtomicInteger answered) {
    Promise<Integer> failed = Promise.promise();
    vertx.runOnContext(start -> {
      List<Future<Boolean>> answers = new ArrayList<>(requests);
      for (int i = 0; i < requests; i++) {
        long sent = System.nanoTime();
        answers.add(client.get(paths.apply(i))
          .timeout(REQUEST_TIMEOUT_MILLIS)
          .send()
          .map(response -> response.statusCode() == 200)
          .otherwise(false)
          .onComplete(ok -> {
            latencies.recordValue(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - sent));
            answered.incrementAndGet();
          }));
      }
      Future.all(answers).onComplete(all ->
        failed.complete((int) answers.stream().filter(answer -> !answer.result()).count()));
    });
    return failed.future();
  }

  /** Waits for {@code done} on this thread, redrawing the bar ten times a second meanwhile. */
  private static <T> T awaitShowing(Future<T> done, ProgressBar bar, AtomicInteger answered) throws Exception {
    CompletableFuture<T> result = done.toCompletionStage().toCompletableFuture();
    while (true) {
      bar.show(answered.get());
      try {
        T value = result.get(100, TimeUnit.MILLISECONDS);
        bar.finish();
        return value;
      } catch (TimeoutException stillRunning) {
        // not done yet: redraw and wait again
      } catch (ExecutionException e) {
        throw new IllegalStateException("the load phase failed", e.getCause());
      }
    }
  }

  private static long millis(long micros) {
    return TimeUnit.MICROSECONDS.toMillis(micros);
  }
}
