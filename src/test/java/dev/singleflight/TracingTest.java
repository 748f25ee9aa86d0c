package dev.singleflight;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import dev.singleflight.examples.TracingAndHealth;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The verticle's spans on a Vert.x instance that traces with OpenTelemetry (vertx-opentelemetry), read
 * from the SDK's in-memory exporter.
 */
class TracingTest {

  private static final AttributeKey<String> KEY = AttributeKey.stringKey("singleflight.key");
  private static final AttributeKey<String> KEY_HASH = AttributeKey.stringKey("singleflight.key.hash");
  private static final AttributeKey<String> ADDRESS = AttributeKey.stringKey("singleflight.address");
  private static final AttributeKey<Long> WAITERS = AttributeKey.longKey("singleflight.waiters");
  private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("singleflight.outcome");
  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final OpenTelemetrySdk openTelemetry = OpenTelemetrySdk.builder()
    .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
    .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
    .build();
  private Vertx vertx;
  private SingleFlight flights;

  /** A Vert.x instance traced by {@link #openTelemetry}, with the verticle deployed with {@code options}. */
  private void deploy(SingleFlightOptions options) throws Exception {
    vertx = tracedVertx(openTelemetry);
    FlightTestBase.await(vertx.deployVerticle(new SingleFlightVerticle(options)));
    flights = SingleFlight.createProxy(vertx, options.getAddress());
  }

  /** The README's way to trace a Vert.x instance with an OpenTelemetry SDK of one's own. */
  static Vertx tracedVertx(OpenTelemetry openTelemetry) {
    return TracingAndHealth.tracedVertx(openTelemetry);
  }

  @AfterEach
  void close() throws Exception {
    if (vertx != null) {
      FlightTestBase.await(vertx.close());
    }
    openTelemetry.close();
  }

  @Test
  void aHerdOfThreeCallersFromThreeTracesGivesOneExecutionSpanUnderTheLeaderAndTwoWaitSpansLinkedToIt() throws Exception {
    deploy(new SingleFlightOptions());
    FlightTestBase.Gate<String> gate = new FlightTestBase.Gate<>("value");
    List<Span> callers = new ArrayList<>();
    List<Future<String>> calls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Span caller = openTelemetry.getTracer("test").spanBuilder("caller-" + i).startSpan();
      callers.add(caller);
      calls.add(callInSpan(caller, () -> flights.flight("user:7", gate)));
      // The leader's call reaches the verticle first: calls are served in the order they were handed over.
      barrier();
    }
    gate.release.countDown();
    for (Future<String> call : calls) {
      assertEquals("value", FlightTestBase.await(call));
    }
    callers.forEach(Span::end);

    List<SpanData> spans = awaitSpans(3);
    List<SpanData> executions = named(spans, "singleflight.execute");
    assertEquals(1, executions.size(), () -> "spans: " + spans);
    SpanData execution = executions.get(0);
    SpanContext leader = callers.get(0).getSpanContext();
    assertEquals(leader.getTraceId(), execution.getTraceId());
    assertEquals(leader.getSpanId(), execution.getParentSpanId());
    assertEquals(3L, execution.getAttributes().get(WAITERS));
    assertEquals("success", execution.getAttributes().get(OUTCOME));
    assertEquals(SingleFlightOptions.DEFAULT_ADDRESS, execution.getAttributes().get(ADDRESS));

    List<SpanData> waits = named(spans, "singleflight.wait");
    assertEquals(2, waits.size(), () -> "spans: " + spans);
    for (int i = 1; i < 3; i++) {
      SpanContext follower = callers.get(i).getSpanContext();
      SpanData wait = waits.stream().filter(w -> w.getTraceId().equals(follower.getTraceId())).findFirst().orElseThrow();
      assertEquals(follower.getSpanId(), wait.getParentSpanId());
      assertEquals(List.of(execution.getSpanContext()), wait.getLinks().stream().map(LinkData::getSpanContext).toList());
      assertEquals("success", wait.getAttributes().get(OUTCOME));
      assertEquals(execution.getAttributes().get(KEY_HASH), wait.getAttributes().get(KEY_HASH));
    }
  }

  @Test
  void eachKeyOfABatchAskedInACallersTraceGetsAnExecutionSpanUnderTheCallersSpan() throws Exception {
    deploy(new SingleFlightOptions());
    Batch<String> users = flights.batchAsync("users",
      keys -> Future.succeededFuture(keys.stream().collect(java.util.stream.Collectors.toMap(key -> key, key -> "v:" + key))),
      new BatchOptions().setMaxBatchSize(2).setMaxDelay(60_000));
    Span caller = openTelemetry.getTracer("test").spanBuilder("caller").startSpan();
    Future<java.util.Map<String, String>> values = callInSpan(caller, () -> users.getAll(List.of("1", "2")));
    assertEquals(java.util.Map.of("1", "v:1", "2", "v:2"), FlightTestBase.await(values));
    caller.end();
    List<SpanData> executions = named(awaitSpans(2), "singleflight.execute");
    assertEquals(2, executions.size(), () -> "spans: " + executions);
    for (SpanData execution : executions) {
      assertEquals(caller.getSpanContext().getTraceId(), execution.getTraceId());
      assertEquals(caller.getSpanContext().getSpanId(), execution.getParentSpanId());
      assertEquals("success", execution.getAttributes().get(OUTCOME));
    }
  }

  @Test
  void aFailureIsRecordedOnTheExecutionSpan() throws Exception {
    deploy(new SingleFlightOptions());
    NoSuchElementException missing = new NoSuchElementException("no row 9");
    Throwable failure = FlightTestBase.failureOf(flights.flight("row:9", () -> {
      throw missing;
    }));
    assertSame(missing, failure);

    SpanData execution = named(awaitSpans(1), "singleflight.execute").get(0);
    assertEquals(StatusCode.ERROR, execution.getStatus().getStatusCode());
    assertEquals("failure", execution.getAttributes().get(OUTCOME));
    assertEquals(NoSuchElementException.class.getName(), execution.getAttributes().get(ERROR_TYPE));
    assertTrue(execution.getEvents().stream().anyMatch(event -> event.getName().equals("exception")), () -> "events: " + execution.getEvents());
    assertEquals(1L, execution.getAttributes().get(WAITERS));
  }

  @Test
  void theKeyIsRecordedOnlyWithTraceKeysAndItsStableHashAlways() throws Exception {
    deploy(new SingleFlightOptions());
    FlightTestBase.await(flights.flight("session:secret", () -> "a"));
    SpanData hashed = named(awaitSpans(1), "singleflight.execute").get(0);
    assertNull(hashed.getAttributes().get(KEY));
    // The first 16 hexadecimal digits of the SHA-256 of "session:secret".
    assertEquals("323ee53f8a5053f2", hashed.getAttributes().get(KEY_HASH));
    FlightTestBase.await(vertx.close());
    exporter.reset();

    deploy(new SingleFlightOptions().setTraceKeys(true));
    FlightTestBase.await(flights.flight("session:secret", () -> "a"));
    SpanData named = named(awaitSpans(1), "singleflight.execute").get(0);
    assertEquals("session:secret", named.getAttributes().get(KEY));
    assertEquals(hashed.getAttributes().get(KEY_HASH), named.getAttributes().get(KEY_HASH));
  }

  @Test
  void theFunctionRunsWithTheExecutionSpanCurrentSoThatWhatItCallsHangsUnderIt() throws Exception {
    deploy(new SingleFlightOptions());
    CompletableFuture<SpanContext> inAsync = new CompletableFuture<>();
    FlightTestBase.await(flights.flightAsync("async", () -> {
      inAsync.complete(Span.current().getSpanContext());
      return Future.succeededFuture("a");
    }));
    CompletableFuture<SpanContext> inBlocking = new CompletableFuture<>();
    FlightTestBase.await(flights.flight("blocking", () -> {
      inBlocking.complete(Span.current().getSpanContext());
      return "b";
    }));
    List<SpanData> executions = named(awaitSpans(2), "singleflight.execute");
    assertEquals(executions.get(0).getSpanContext(), inAsync.get(FlightTestBase.WAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals(executions.get(1).getSpanContext(), inBlocking.get(FlightTestBase.WAIT_SECONDS, TimeUnit.SECONDS));
  }

  @Test
  void aCallerWithoutACurrentSpanStartsATraceOfItsOwn() throws Exception {
    deploy(new SingleFlightOptions());
    FlightTestBase.await(flights.flight("k", () -> "v"));
    SpanData execution = named(awaitSpans(1), "singleflight.execute").get(0);
    assertFalse(execution.getParentSpanContext().isValid());
  }

  @Test
  void theJsonDownstreamRequestCarriesTheExecutionSpanContext() throws Exception {
    deploy(new SingleFlightOptions());
    CompletableFuture<SpanContext> atService = new CompletableFuture<>();
    vertx.eventBus().<JsonObject>consumer("users.service", (Message<JsonObject> message) -> {
      atService.complete(Span.current().getSpanContext());
      message.reply(new JsonObject().put("name", "Ada"));
    });
    Span requester = openTelemetry.getTracer("test").spanBuilder("requester").startSpan();
    JsonObject request = new JsonObject().put("key", "user:1").put("address", "users.service");
    Future<Message<Object>> reply = callInSpan(requester,
      () -> vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, request));
    assertEquals(new JsonObject().put("name", "Ada"), FlightTestBase.await(reply).body());
    requester.end();

    SpanContext service = atService.get(FlightTestBase.WAIT_SECONDS, TimeUnit.SECONDS);
    List<SpanData> spans = awaitSpans(s -> s.stream().anyMatch(span -> span.getSpanContext().equals(service)));
    SpanData execution = named(spans, "singleflight.execute").get(0);
    assertEquals(requester.getSpanContext().getTraceId(), execution.getTraceId());
    // The service's span hangs under the execution span, through the downstream request's own span.
    assertTrue(isUnder(spans, service.getSpanId(), execution.getSpanId()), () -> "spans: " + spans);
  }

  /** Makes {@code call} on a context of its own whose current span is {@code span}. */
  private <T> T callInSpan(Span span, Supplier<T> call) throws Exception {
    ContextInternal context = ((ContextInternal) vertx.getOrCreateContext()).duplicate();
    CompletableFuture<T> made = new CompletableFuture<>();
    context.runOnContext(v -> {
      try (Scope scope = span.makeCurrent()) {
        made.complete(call.get());
      }
    });
    return made.get(FlightTestBase.WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** Returns once the verticle has served every call handed to it before. */
  private void barrier() throws Exception {
    FlightTestBase.await(flights.forget("barrier:" + System.nanoTime()));
  }

  private static boolean isUnder(List<SpanData> spans, String spanId, String ancestorId) {
    String current = spanId;
    while (current != null) {
      if (current.equals(ancestorId)) {
        return true;
      }
      String id = current;
      current = spans.stream().filter(s -> s.getSpanId().equals(id)).findFirst()
        .map(s -> s.getParentSpanContext().isValid() ? s.getParentSpanId() : null).orElse(null);
    }
    return false;
  }

  private static List<SpanData> named(List<SpanData> spans, String name) {
    return spans.stream().filter(s -> s.getName().equals(name)).collect(Collectors.toList());
  }

  /** Waits until the verticle's spans number at least {@code count}: a wait span ends after its caller hears. */
  private List<SpanData> awaitSpans(int count) throws Exception {
    return awaitSpans(spans -> spans.stream().filter(s -> s.getName().startsWith("singleflight.")).count() >= count);
  }

  private List<SpanData> awaitSpans(Predicate<List<SpanData>> done) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FlightTestBase.WAIT_SECONDS);
    while (!done.test(exporter.getFinishedSpanItems())) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("spans not exported in time: " + exporter.getFinishedSpanItems());
      }
      Thread.sleep(10);
    }
    return exporter.getFinishedSpanItems();
  }

  /** The README's SDK (batch export, W3C propagation) on the README's Vert.x: spans reach the exporter. */
  @Test
  void theReadmesSetupExportsTheSpans() throws Exception {
    InMemorySpanExporter readmeExporter = InMemorySpanExporter.create();
    OpenTelemetrySdk readmeSdk = TracingAndHealth.openTelemetry(readmeExporter);
    Vertx traced = TracingAndHealth.tracedVertx(readmeSdk);
    try {
      FlightTestBase.await(traced.deployVerticle(new SingleFlightVerticle()));
      FlightTestBase.await(SingleFlight.createProxy(traced).flight("k", () -> "v"));
      readmeSdk.getSdkTracerProvider().forceFlush().join(FlightTestBase.WAIT_SECONDS, TimeUnit.SECONDS);
      // Read before the SDK closes: closing shuts the in-memory exporter down, which empties it.
      assertEquals(List.of("singleflight.execute"), readmeExporter.getFinishedSpanItems().stream().map(SpanData::getName).toList());
    } finally {
      FlightTestBase.await(traced.close());
      readmeSdk.close();
    }
  }
}
