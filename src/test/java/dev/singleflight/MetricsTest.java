package dev.singleflight;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.Promise;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import static dev.singleflight.FlightTestBase.await;
import static dev.singleflight.FlightTestBase.failureOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The verticle's meters, in a real Micrometer registry of a Vert.x with Micrometer metrics. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public class MetricsTest {

  static final String ADDRESS = SingleFlightOptions.DEFAULT_ADDRESS;

  MeterRegistry registry;
  Vertx vertx;
  String deploymentId;
  SingleFlight flights;

  /** The name of the registry of {@link #vertxWithMetrics}: not the default, as the verticle must be told. */
  static final String REGISTRY_NAME = "singleflight-test";

  /** @return a Vert.x whose Micrometer metrics go to {@code registry}, named {@link #REGISTRY_NAME} */
  static Vertx vertxWithMetrics(MeterRegistry registry, boolean enabled) {
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
      .setEnabled(enabled)
      .setRegistryName(REGISTRY_NAME);
    return Vertx.builder()
      .with(new VertxOptions().setMetricsOptions(metrics))
      .withMetrics(new MicrometerMetricsFactory(registry))
      .build();
  }

  @BeforeEach
  void deploy() throws Exception {
    registry = new SimpleMeterRegistry();
    vertx = vertxWithMetrics(registry, true);
    deploymentId = await(vertx.deployVerticle(new SingleFlightVerticle(measured())));
    flights = SingleFlight.createProxy(vertx);
  }

  /** @return options whose meters go to the registry of {@link #vertxWithMetrics} */
  static SingleFlightOptions measured() {
    return new SingleFlightOptions().setMetricsRegistryName(REGISTRY_NAME);
  }

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  Search meter(String name, String... tags) {
    return registry.find(name).tag("address", ADDRESS).tags(tags);
  }

  double calls(String role) {
    return meter("singleflight.calls", "role", role).counter().count();
  }

  long executions(String outcome) {
    return meter("singleflight.executions", "outcome", outcome).timer().count();
  }

  double gauge(String name) {
    return meter(name).gauge().value();
  }

  void barrier() throws Exception {
    await(flights.forget("barrier:" + System.nanoTime()));
  }

  @Test
  void fiftyCallersOfOneKeyCountOneLeaderFortyNineFollowersAndOneExecution() throws Exception {
    FlightTestBase.Gate<String> gate = new FlightTestBase.Gate<>("value");
    List<Future<String>> calls = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      calls.add(flights.flight("user:1", gate));
    }
    barrier();
    assertEquals(50.0, gauge("singleflight.waiters"));
    assertEquals(1.0, gauge("singleflight.inflight"));
    gate.release.countDown();
    for (Future<String> call : calls) {
      await(call);
    }
    barrier();
    assertEquals(1.0, calls("leader"));
    assertEquals(49.0, calls("follower"));
    assertEquals(1, executions("success"));
    assertEquals(0, executions("failure"));
    assertTrue(meter("singleflight.executions", "outcome", "success").timer().totalTime(TimeUnit.NANOSECONDS) > 0);
    assertEquals(0.0, gauge("singleflight.waiters"));
    assertEquals(0.0, gauge("singleflight.inflight"));
  }

  @Test
  void aBatchCountsEachKeysCallAsLeaderOrFollowerAndEachLoaderCallInTheBatchMeters() throws Exception {
    Batch<String> users = flights.batchAsync("users", keys -> Future.succeededFuture(Map.of()), new BatchOptions().setMaxBatchSize(3).setMaxDelay(60_000));
    List<Future<String>> calls = new ArrayList<>();
    for (String key : List.of("1", "2", "1", "3")) {
      calls.add(users.get(key));
    }
    for (Future<String> call : calls) {
      assertNull(await(call));
    }
    Batch<String> failing = flights.batchAsync("failing", keys -> Future.failedFuture(new IllegalStateException("down")),
      new BatchOptions().setMaxBatchSize(1));
    failureOf(failing.get("4"));
    barrier();
    assertEquals(4.0, calls("leader"));
    assertEquals(1.0, calls("follower"));
    assertEquals(1, meter("singleflight.batches", "name", "users", "outcome", "success").timer().count());
    assertEquals(1, meter("singleflight.batches", "name", "failing", "outcome", "failure").timer().count());
    assertEquals(3.0, meter("singleflight.batch.size", "name", "users").summary().totalAmount());
    assertEquals(1.0, meter("singleflight.batch.size", "name", "failing").summary().totalAmount());
    assertEquals(0.0, gauge("singleflight.inflight"));
    assertEquals(0.0, gauge("singleflight.waiters"));
  }

  @Test
  void aForgottenFlightStillRunningCountsAsInflightUntilItEnds() throws Exception {
    FlightTestBase.Gate<String> forgotten = new FlightTestBase.Gate<>("old");
    Future<String> oldCall = flights.flight("k", forgotten);
    await(flights.forget("k"));
    assertEquals(1.0, gauge("singleflight.inflight"));
    FlightTestBase.Gate<String> current = new FlightTestBase.Gate<>("new");
    Future<String> newCall = flights.flight("k", current);
    barrier();
    assertEquals(2.0, gauge("singleflight.inflight"));
    forgotten.release.countDown();
    assertEquals("old", await(oldCall));
    assertEquals(1.0, gauge("singleflight.inflight"));
    current.release.countDown();
    assertEquals("new", await(newCall));
    assertEquals(0.0, gauge("singleflight.inflight"));
  }

  @Test
  void failedExecutionsAreCountedUnderOutcomeFailure() throws Exception {
    failureOf(flights.flight("k", () -> {
      throw new IOException("down");
    }));
    barrier();
    assertEquals(1, executions("failure"));
    assertEquals(0, executions("success"));
  }

  @Test
  void forgetsFromTheProxyAndTheJsonProtocolAreCounted() throws Exception {
    await(flights.forget("a"));
    await(vertx.eventBus().request(ADDRESS, new JsonObject().put("key", "b"), new DeliveryOptions().addHeader("action", "forget")));
    assertEquals(2.0, meter("singleflight.forgets").counter().count());
  }

  @Test
  void jsonProtocolCallsAreCounted() throws Exception {
    vertx.eventBus().consumer("service", message -> message.reply("value"));
    await(vertx.eventBus().request(ADDRESS, new JsonObject().put("key", "k").put("address", "service")));
    assertEquals(1.0, calls("leader"));
    assertEquals(1, executions("success"));
  }

  @Test
  void aCallerWhoseTimeoutElapsedNoLongerCountsAsWaiting() throws Exception {
    FlightTestBase.Gate<String> gate = new FlightTestBase.Gate<>("value");
    Future<String> patient = flights.flight("k", gate);
    failureOf(flights.flight("k", gate, Duration.ofMillis(20)));
    barrier();
    assertEquals(1.0, gauge("singleflight.waiters"));
    gate.release.countDown();
    await(patient);
    barrier();
    assertEquals(0.0, gauge("singleflight.waiters"));
  }

  @Test
  void verticlesAtDifferentAddressesHaveSeparateSeries() throws Exception {
    await(vertx.deployVerticle(new SingleFlightVerticle(measured().setAddress("other"))));
    await(SingleFlight.createProxy(vertx, "other").flight("k", () -> "value"));
    assertEquals(1.0, registry.find("singleflight.calls").tag("address", "other").tag("role", "leader").counter().count());
    assertEquals(0.0, calls("leader"));
  }

  @Test
  void undeployRemovesTheVerticlesGauges() throws Exception {
    await(flights.flight("k", () -> "value"));
    await(vertx.undeploy(deploymentId));
    assertNull(meter("singleflight.inflight").gauge());
    assertNull(meter("singleflight.waiters").gauge());
  }

  /** A step that may throw. */
  public interface Step {
    void run() throws Exception;
  }

  /** @return what the logger {@code name} logged, at any level, while {@code step} ran; nothing of it is printed */
  public static List<LogRecord> recordsOf(String name, Step step) throws Exception {
    Logger logger = Logger.getLogger(name);
    List<LogRecord> records = new CopyOnWriteArrayList<>();
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord record) {
        records.add(record);
      }

      @Override
      public void flush() {
      }

      @Override
      public void close() {
      }
    };
    Level level = logger.getLevel();
    logger.setLevel(Level.ALL);
    handler.setLevel(Level.ALL);
    logger.addHandler(handler);
    logger.setUseParentHandlers(false);
    try {
      step.run();
    } finally {
      logger.setUseParentHandlers(true);
      logger.removeHandler(handler);
      logger.setLevel(level);
    }
    return records;
  }

  @Test
  void severalInstancesRegisterTheGaugesOnceAndTheyCountTheFlightsOfEveryInstance() throws Exception {
    // Micrometer reports a gauge registered twice: at WARNING the first time in the JVM, at FINE after.
    String[] deployment = new String[1];
    List<LogRecord> reports = recordsOf("io.micrometer.core.instrument.MeterRegistry", () -> deployment[0] = await(vertx.deployVerticle(
      () -> new SingleFlightVerticle(measured().setAddress("several")), new DeploymentOptions().setInstances(4))));
    assertTrue(reports.stream().noneMatch(record -> String.valueOf(record.getMessage()).contains("singleflight")), reports::toString);
    SingleFlight several = SingleFlight.createProxy(vertx, "several");
    Promise<String> release = Promise.promise();
    List<Future<String>> calls = new ArrayList<>();
    for (int k = 0; k < 40; k++) {
      calls.add(several.flightAsync("key-" + k, release::future));
    }
    Gauge inflight = registry.find("singleflight.inflight").tag("address", "several").gauge();
    assertEquals(1, registry.find("singleflight.inflight").tag("address", "several").gauges().size());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    // Polled: the instances count on their own event loops while the gauge is read here.
    while (inflight.value() != 40.0 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(5);
    }
    assertEquals(40.0, inflight.value());
    vertx.runOnContext(v -> release.complete("done"));
    for (Future<String> call : calls) {
      assertEquals("done", await(call));
    }
    await(vertx.undeploy(deployment[0]));
    assertNull(registry.find("singleflight.inflight").tag("address", "several").gauge());
  }

  @Test
  void aVerticleToldAnotherRegistryNameRegistersNoMeterWarnsAndStillServes() throws Exception {
    // The warning is what this test expects: it is taken here instead of printed.
    List<LogRecord> warnings = recordsOf("dev.singleflight.impl.metrics.MicrometerFlightMetrics", () -> await(vertx.deployVerticle(
      new SingleFlightVerticle(new SingleFlightOptions().setAddress("unmeasured").setMetricsRegistryName("no-such-registry")))));
    assertEquals("value", await(SingleFlight.createProxy(vertx, "unmeasured").flight("k", () -> "value")));
    assertTrue(registry.find("singleflight.calls").tag("address", "unmeasured").meters().isEmpty());
    assertEquals(1, warnings.size(), warnings::toString);
    assertEquals(Level.WARNING, warnings.get(0).getLevel());
    String warning = new SimpleFormatter().formatMessage(warnings.get(0));
    assertTrue(warning.contains("'no-such-registry'") && warning.contains("'unmeasured'"), warning);
  }

  @Test
  void withMetricsDisabledNothingIsRegistered() throws Exception {
    Vertx plain = Vertx.vertx(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(false)));
    try {
      await(plain.deployVerticle(new SingleFlightVerticle()));
      assertEquals("value", await(SingleFlight.createProxy(plain).flight("k", () -> "value")));
      assertFalse(plain.isMetricsEnabled());
      assertTrue(Metrics.globalRegistry.find("singleflight.calls").meters().isEmpty());
      assertEquals(0.0, calls("leader"), "the other Vert.x instance's registry was touched");
    } finally {
      await(plain.close());
    }
  }

  double hedges(String outcome) {
    return meter("singleflight.hedges", "outcome", outcome).counter().count();
  }

  @Test
  void aHedgeIsCountedWonWhenItsSuccessIsTheOutcomeAndLostOtherwise() throws Exception {
    await(vertx.undeploy(deploymentId));
    deploymentId = await(vertx.deployVerticle(new SingleFlightVerticle(measured().setHedgeAfter(20))));
    HedgingTest.Runs won = new HedgingTest.Runs();
    Future<String> wonCall = flights.flightAsync("won", won);
    Promise<String> slow = won.next();
    won.next().complete("hedge");
    assertEquals("hedge", await(wonCall));
    assertEquals(1.0, hedges("won"));
    assertEquals(0.0, hedges("lost"));
    slow.complete("late");

    HedgingTest.Runs lost = new HedgingTest.Runs();
    Future<String> lostCall = flights.flightAsync("lost", lost);
    Promise<String> first = lost.next();
    Promise<String> hedge = lost.next();
    first.complete("first");
    assertEquals("first", await(lostCall));
    hedge.fail(new IllegalStateException("late"));

    HedgingTest.Runs failed = new HedgingTest.Runs();
    Future<String> failedCall = flights.flightAsync("failed", failed);
    Promise<String> failedFirst = failed.next();
    failed.next().fail(new IllegalStateException("hedge failed"));
    failedFirst.fail(new IllegalStateException("first failed"));
    failureOf(failedCall);
    barrier();
    assertEquals(1.0, hedges("won"));
    assertEquals(2.0, hedges("lost"));
    assertEquals(1, executions("failure"), "a hedged flight is one execution in singleflight.executions");
  }
}
