package dev.singleflight.cluster;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static dev.singleflight.cluster.ClusterNodes.await;
import static dev.singleflight.cluster.ClusterTest.awaitLatch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The spans of clustered flights on three traced nodes. A proxy flight: each node has its own execution
 * span (on the node that ran the function, the real one; on the others, the exchange with the key's
 * owner), and the other nodes' spans are linked to the leader node's execution span. A JSON flight runs
 * on the owner, where every node's request waits in its requester's trace.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterTracingTest {

  private static final AttributeKey<String> CLUSTER_ROLE = AttributeKey.stringKey("singleflight.cluster.role");
  private static final int NODES = 3;

  private static final InMemorySpanExporter EXPORTER = InMemorySpanExporter.create();
  private static final OpenTelemetrySdk OPEN_TELEMETRY = OpenTelemetrySdk.builder()
    .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(EXPORTER)).build())
    .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
    .build();
  private static ClusterNodes cluster;
  private static ClusterMessages messages;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ClusterNodes.startWithTracing(NODES, OPEN_TELEMETRY);
    messages = ClusterMessages.recordOn(cluster);
    for (Vertx node : cluster.nodes()) {
      await(node.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setClustered(true))));
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    try {
      cluster.close();
    } finally {
      OPEN_TELEMETRY.close();
    }
  }

  @Test
  void theOtherNodesSpansAndWaitsAreLinkedToTheExecutionSpanOfTheNodeThatRanTheFunction() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    // callers.get(node): the spans of that node's two callers, each the root of a trace of its own.
    List<List<Span>> callers = new ArrayList<>();
    List<Future<String>> calls = new ArrayList<>();
    for (int node = 0; node < NODES; node++) {
      SingleFlight flights = SingleFlight.createProxy(cluster.node(node));
      List<Span> ofNode = new ArrayList<>();
      for (int caller = 0; caller < 2; caller++) {
        Span span = OPEN_TELEMETRY.getTracer("test").spanBuilder("caller-" + node + "-" + caller).startSpan();
        ofNode.add(span);
        calls.add(callInSpan(cluster.node(node), span, () -> flights.flight("report:7", () -> {
          awaitLatch(release);
          return "report";
        })));
      }
      callers.add(ofNode);
    }
    messages.await("join", "report:7", NODES);
    release.countDown();
    for (Future<String> call : calls) {
      assertEquals("report", await(call));
    }
    callers.forEach(ofNode -> ofNode.forEach(Span::end));

    List<String> traces = callers.stream().flatMap(List::stream).map(span -> span.getSpanContext().getTraceId()).toList();
    List<SpanData> spans = ofTraces(awaitSpans(all -> ofTraces(all, traces).size() >= 2 * NODES), traces);
    List<SpanData> executions = spans.stream().filter(s -> s.getName().equals("singleflight.execute")).toList();
    assertEquals(NODES, executions.size(), () -> "spans: " + spans);
    List<SpanData> ran = executions.stream().filter(s -> s.getAttributes().get(CLUSTER_ROLE) == null).toList();
    assertEquals(1, ran.size(), () -> "executions: " + executions);
    SpanContext leader = ran.get(0).getSpanContext();
    int leaderNode = -1;
    for (int node = 0; node < NODES; node++) {
      if (callers.get(node).get(0).getSpanContext().getTraceId().equals(leader.getTraceId())) {
        leaderNode = node;
      }
    }
    assertTrue(leaderNode >= 0, () -> "the executing span is in no leading caller's trace: " + spans);
    for (SpanData execution : executions) {
      if (execution != ran.get(0)) {
        assertEquals("follower", execution.getAttributes().get(CLUSTER_ROLE));
        assertTrue(linksTo(execution, leader), () -> execution + " is not linked to " + leader);
      }
    }
    for (int node = 0; node < NODES; node++) {
      String trace = callers.get(node).get(1).getSpanContext().getTraceId();
      SpanData wait = spans.stream().filter(s -> s.getName().equals("singleflight.wait") && s.getTraceId().equals(trace))
        .findFirst().orElseThrow(() -> new AssertionError("no wait span in trace " + trace + ": " + spans));
      assertTrue(linksTo(wait, leader), () -> wait + " is not linked to " + leader);
    }
  }

  @Test
  void jsonFlightsFromEveryNodeWaitOnTheOwnerEachInItsRequestersTraceLinkedToTheOneExecution() throws Exception {
    List<Message<Object>> downstream = new CopyOnWriteArrayList<>();
    CountDownLatch reached = new CountDownLatch(1);
    await(cluster.node(0).eventBus().consumer("users.service", message -> {
      downstream.add(message);
      reached.countDown();
    }).completion());
    List<Span> requesters = new ArrayList<>();
    List<Future<Message<Object>>> requests = new ArrayList<>();
    for (int node = 0; node < NODES; node++) {
      Vertx vertx = cluster.node(node);
      Span requester = OPEN_TELEMETRY.getTracer("test").spanBuilder("requester-" + node).startSpan();
      requesters.add(requester);
      requests.add(callInSpan(vertx, requester, () -> vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS,
        new JsonObject().put("key", "user:9").put("address", "users.service"))));
    }
    messages.await("json", "user:9", NODES);
    awaitLatch(reached);
    downstream.get(0).reply(new JsonObject().put("name", "Grace"));
    for (Future<Message<Object>> request : requests) {
      assertEquals(new JsonObject().put("name", "Grace"), await(request).body());
    }
    requesters.forEach(Span::end);

    List<String> traces = requesters.stream().map(span -> span.getSpanContext().getTraceId()).toList();
    List<SpanData> ours = ofTraces(awaitSpans(all -> ofTraces(all, traces).size() >= NODES), traces);
    List<SpanData> executions = ours.stream().filter(s -> s.getName().equals("singleflight.execute")).toList();
    assertEquals(1, executions.size(), () -> "spans: " + ours);
    List<SpanData> waits = ours.stream().filter(s -> s.getName().equals("singleflight.wait")).toList();
    assertEquals(NODES - 1, waits.size(), () -> "spans: " + ours);
    assertEquals(NODES, ours.stream().map(SpanData::getTraceId).distinct().count(), () -> "each in its requester's trace: " + ours);
    for (SpanData wait : waits) {
      assertTrue(linksTo(wait, executions.get(0).getSpanContext()), () -> wait + " is not linked to " + executions.get(0));
    }
  }

  private static boolean linksTo(SpanData span, SpanContext target) {
    return span.getLinks().stream().map(LinkData::getSpanContext)
      .anyMatch(link -> link.getTraceId().equals(target.getTraceId()) && link.getSpanId().equals(target.getSpanId()));
  }

  /** Makes {@code call} on a context of {@code vertx} of its own whose current span is {@code span}. */
  private static <T> T callInSpan(Vertx vertx, Span span, Supplier<T> call) throws Exception {
    ContextInternal context = ((ContextInternal) vertx.getOrCreateContext()).duplicate();
    CompletableFuture<T> made = new CompletableFuture<>();
    context.runOnContext(v -> {
      try (Scope scope = span.makeCurrent()) {
        made.complete(call.get());
      }
    });
    return made.get(60, TimeUnit.SECONDS);
  }

  /** @return the verticles' spans in {@code traces}: the spans of one test */
  private static List<SpanData> ofTraces(List<SpanData> spans, List<String> traces) {
    return spans.stream().filter(s -> s.getName().startsWith("singleflight.") && traces.contains(s.getTraceId())).toList();
  }

  /** Waits until {@code done} holds for the spans exported so far: a wait span ends after its caller hears. */
  private static List<SpanData> awaitSpans(Predicate<List<SpanData>> done) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!done.test(EXPORTER.getFinishedSpanItems())) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("spans not exported in time: " + EXPORTER.getFinishedSpanItems());
      }
      Thread.sleep(10);
    }
    return EXPORTER.getFinishedSpanItems();
  }
}
