package dev.singleflight.examples.demo;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stampede demo's load phase and routes, metrics included. */
class StampedeTest {

  private static final long WAIT_SECONDS = 20;
  /** The Prometheus label of the single-flight verticle's meters. */
  private static final String ADDRESS_LABEL = "address=\"singleflight.flight\"";

  /** The test's client side; the demo runs its own Vert.x instance. */
  private Vertx vertx;
  /** A field, so that it stays referenced: Vert.x closes a client that is no longer referenced. */
  private WebClient client;
  private Stampede stampede;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    client = WebClient.create(vertx);
    stampede = Stampede.start(0);
  }

  @AfterEach
  void stop() throws Exception {
    try {
      stampede.close();
    } finally {
      vertx.close().await(WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Test
  void singleFlightRunsOneQueryPerIdWhileTheDirectRouteRunsOnePerRequest() throws Exception {
    List<Stampede.Phase> phases = stampede.load(200, 4, new PrintStream(new ByteArrayOutputStream()), false);

    Stampede.Phase collapsed = phases.get(0);
    assertEquals("/users/:id", collapsed.route());
    assertTrue(collapsed.singleFlight());
    assertEquals(200, collapsed.requests());
    assertEquals(0, collapsed.failed());
    assertEquals(4, collapsed.queries());

    Stampede.Phase direct = phases.get(1);
    assertEquals("/direct/users/:id", direct.route());
    assertFalse(direct.singleFlight());
    assertEquals(0, direct.failed());
    assertEquals(200, direct.queries());

    // Every request waited for at least one query, whichever route it took.
    for (Stampede.Phase phase : phases) {
      assertTrue(phase.p50Millis() >= UserDao.QUERY_TIME.toMillis(), phase::toString);
      assertTrue(phase.p99Millis() >= phase.p50Millis(), phase::toString);
    }
  }

  @Test
  void aColdStartRunsOneQueryPerRequestDirectOnePerIdWithSingleFlightAndOnePerBatchBatched() throws Exception {
    List<Stampede.Phase> phases = stampede.coldStart(300, new PrintStream(new ByteArrayOutputStream()), false);
    assertEquals(List.of("/direct/users/:id", "/users/:id", "/batched/users/:id"), phases.stream().map(Stampede.Phase::route).toList());
    phases.forEach(phase -> {
      assertEquals(600, phase.requests(), phase::toString);
      assertEquals(0, phase.failed(), phase::toString);
    });
    assertEquals(600, phases.get(0).queries());
    assertEquals(300, phases.get(1).queries());
    // Batches of at most 100 ids, each id in one batch: at least 3 queries, and far fewer than one per id.
    int batched = phases.get(2).queries();
    assertTrue(batched >= 3 && batched < 300, "batched queries: " + batched);
  }

  @Test
  void everyRouteAnswersTheUserAsJson404ForAnUnknownIdAnd400ForANonNumber() throws Exception {
    for (String route : List.of(UserServer.COLLAPSED, UserServer.DIRECT, UserServer.BATCHED)) {
      HttpResponse<?> found = get(route + "7");
      assertEquals(200, found.statusCode());
      assertEquals(new JsonObject().put("id", 7).put("name", "User 7").put("email", "user7@example.com"),
        found.bodyAsJsonObject());
      assertEquals(404, get(route + (UserDao.USERS + 1)).statusCode());
      HttpResponse<?> notANumber = get(route + "seven");
      assertEquals(400, notANumber.statusCode());
      assertTrue(notANumber.bodyAsJsonObject().containsKey("error"));
    }
  }

  @Test
  void metricsRouteCountsTheCollapsedRoutesLeadersAndFollowersInPrometheusFormat() throws Exception {
    stampede.load(20, 2, new PrintStream(new ByteArrayOutputStream()), false);

    HttpResponse<?> scrape = get(UserServer.METRICS);
    assertEquals(200, scrape.statusCode());
    assertTrue(scrape.getHeader("Content-Type").startsWith("text/plain"), scrape.getHeader("Content-Type"));
    String metrics = scrape.bodyAsString();
    // The stampede gate makes the collapse exact: one leader per id, the other requests follow.
    assertEquals(2.0, sample(metrics, "singleflight_calls_total", ADDRESS_LABEL, "role=\"leader\""), metrics);
    assertEquals(18.0, sample(metrics, "singleflight_calls_total", ADDRESS_LABEL, "role=\"follower\""), metrics);
    assertEquals(new Stampede.Calls(2, 18), stampede.calls());
    // One execution per leader, each a successful lookup; every flight ended before its requests were
    // answered, so nothing runs or waits at the scrape; the demo never forgets.
    assertEquals(2.0, sample(metrics, "singleflight_executions_seconds_count", ADDRESS_LABEL, "outcome=\"success\""), metrics);
    assertEquals(0.0, sample(metrics, "singleflight_executions_seconds_count", ADDRESS_LABEL, "outcome=\"failure\""), metrics);
    assertEquals(0.0, sample(metrics, "singleflight_inflight", ADDRESS_LABEL), metrics);
    assertEquals(0.0, sample(metrics, "singleflight_waiters", ADDRESS_LABEL), metrics);
    assertEquals(0.0, sample(metrics, "singleflight_forgets_total", ADDRESS_LABEL), metrics);
    // Every meter is in the scrape from the verticle's start, even one that never counted.
    assertEquals(0.0, sample(metrics, "singleflight_cluster_moves_total", ADDRESS_LABEL), metrics);
  }

  @Test
  void theTailPhasesRunOneQueryPerFlightWithoutHedgingAndOneMorePerSlowFlightWithIt() throws Exception {
    // Every lookup is slow, so every flight of the hedged route (hedgeAfter 100 ms) starts exactly one hedge.
    List<Stampede.TailPhase> tail = stampede.tail(4, 10, 100, Duration.ofMillis(400), new PrintStream(new ByteArrayOutputStream()), false);

    Stampede.TailPhase plain = tail.get(0);
    assertEquals("/users/:id", plain.route());
    assertEquals(0, plain.hedgeAfter());
    assertEquals(40, plain.requests());
    assertEquals(0, plain.failed());
    assertEquals(4, plain.flights());
    assertEquals(4, plain.queries());
    assertEquals(0, plain.extraQueries());

    Stampede.TailPhase hedged = tail.get(1);
    assertEquals("/hedged/users/:id", hedged.route());
    assertEquals(DemoOptions.DEFAULT_HEDGE_AFTER, hedged.hedgeAfter());
    assertEquals(0, hedged.failed());
    assertEquals(4, hedged.flights());
    assertEquals(4, hedged.extraQueries());
    assertEquals(4, stampede.hedges(true) + stampede.hedges(false));
    for (Stampede.TailPhase phase : tail) {
      assertTrue(phase.p50Millis() >= 400, phase::toString);
    }
  }

  /**
   * @return the value of the first sample of {@code metric} in the Prometheus text {@code metrics}
   * that has all of {@code labels}
   */
  private static double sample(String metrics, String metric, String... labels) {
    return metrics.lines()
      .filter(line -> line.startsWith(metric + "{") && List.of(labels).stream().allMatch(line::contains))
      .map(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
      .findFirst()
      .orElseThrow(() -> new AssertionError("no sample " + metric + List.of(labels) + " in\n" + metrics));
  }

  private HttpResponse<?> get(String path) throws Exception {
    return client.get(stampede.port(), "127.0.0.1", path).send().await(WAIT_SECONDS, TimeUnit.SECONDS);
  }
}
