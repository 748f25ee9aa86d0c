package dev.singleflight.impl.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.vertx.core.AsyncResult;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.spi.tracing.SpanKind;
import io.vertx.core.spi.tracing.TagExtractor;
import io.vertx.core.spi.tracing.VertxTracer;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.tracing.opentelemetry.Operation;
import io.vertx.tracing.opentelemetry.VertxContextStorageProvider.VertxContextStorage;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;

/**
 * The verticle's spans through vertx-opentelemetry's tracer. Vert.x keeps the current OpenTelemetry
 * context of a Vert.x context in its local data ({@link VertxContextStorage}); the tracer reads a span's
 * parent there, so each span is started on a context that carries the right one: the caller's, handed
 * over by {@link #carry}.
 *
 * <p>Attributes: {@code singleflight.address}, {@code singleflight.key.hash} and, with
 * {@code traceKeys}, {@code singleflight.key} at start; at the end {@code singleflight.outcome}
 * ({@code success}, {@code failure} or {@code cancelled}), on the execution span
 * {@code singleflight.waiters} (the callers served), and for a failure {@code error.type} (the
 * exception's class), the exception as an event and the status {@code ERROR}. On a node whose clustered
 * flight ran its function on another node, the execution span records {@code singleflight.cluster.role}
 * {@code follower}, and it and its waits are linked to that node's execution span.
 */
final class OpenTelemetryFlightTracing implements FlightTracing {

  static final String EXECUTE = "singleflight.execute";
  static final String WAIT = "singleflight.wait";
  private static final AttributeKey<Long> WAITERS = AttributeKey.longKey("singleflight.waiters");
  private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("singleflight.outcome");
  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  private static final AttributeKey<String> CLUSTER_ROLE = AttributeKey.stringKey("singleflight.cluster.role");
  /** The attributes known at start, as name-value pairs. */
  private static final TagExtractor<String[]> TAGS = new TagExtractor<>() {
    @Override
    public int len(String[] tags) {
      return tags.length / 2;
    }

    @Override
    public String name(String[] tags, int index) {
      return tags[2 * index];
    }

    @Override
    public String value(String[] tags, int index) {
      return tags[2 * index + 1];
    }
  };

  /** vertx-opentelemetry's tracer: its requests and responses are its {@link Operation}s. */
  @SuppressWarnings("rawtypes")
  private final VertxTracer tracer;
  /** The verticle instance's context, where spans start when no context is current (none should be). */
  private final ContextInternal verticle;
  private final String address;
  private final boolean traceKeys;

  OpenTelemetryFlightTracing(VertxTracer<?, ?> tracer, ContextInternal verticle, String address, boolean traceKeys) {
    this.tracer = tracer;
    this.verticle = verticle;
    this.address = address;
    this.traceKeys = traceKeys;
  }

  @Override
  public ContextInternal carry(ContextInternal verticle) {
    Context caller = VertxContextStorage.INSTANCE.current();
    if (caller == null || Span.fromContextOrNull(caller) == null) {
      return verticle;
    }
    ContextInternal carrier = verticle.duplicate();
    VertxContextStorage.INSTANCE.attach(carrier, caller);
    return carrier;
  }

  @Override
  public ExecutionSpan executionStarted(String key) {
    String[] tags = traceKeys
      ? new String[] {"singleflight.address", address, "singleflight.key.hash", hash(key), "singleflight.key", key}
      : new String[] {"singleflight.address", address, "singleflight.key.hash", hash(key)};
    ContextInternal leader = current();
    Span span = start(leader, EXECUTE, tags);
    Context parent = VertxContextStorage.INSTANCE.current();
    return new TracedExecution(span, (parent == null ? Context.root() : parent).with(span), tags, leader);
  }

  /** @return the current context: on the verticle's event loop, the verticle's or a duplicate of it */
  private ContextInternal current() {
    ContextInternal current = ContextInternal.current();
    return current != null ? current : verticle;
  }

  /** Starts a span on {@code context}: a child of its current span, or a root span when it has none. */
  @SuppressWarnings("unchecked")
  private Span start(ContextInternal context, String name, String[] tags) {
    Operation operation = (Operation) tracer.sendRequest(context, SpanKind.RPC, TracingPolicy.ALWAYS, tags, name,
      (header, value) -> { }, TAGS);
    return operation.span();
  }

  /**
   * @return the first 16 hexadecimal digits of the SHA-256 of the key's UTF-8 bytes: the same on every
   * node and in every run
   */
  static String hash(String key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** @return the span context of a W3C {@code traceparent} value, or {@code null} when it is not one */
  static SpanContext parse(String traceParent) {
    String[] parts = traceParent == null ? new String[0] : traceParent.split("-");
    if (parts.length != 4 || !parts[0].equals("00") || parts[3].length() != 2) {
      return null;
    }
    SpanContext context = SpanContext.createFromRemoteParent(parts[1], parts[2], TraceFlags.fromHex(parts[3], 0), TraceState.getDefault());
    return context.isValid() ? context : null;
  }

  private static void end(Span span, AsyncResult<?> outcome) {
    if (outcome.succeeded()) {
      span.setAttribute(OUTCOME, "success");
    } else {
      Throwable failure = outcome.cause();
      span.setAttribute(OUTCOME, "failure");
      span.setAttribute(ERROR_TYPE, failure.getClass().getName());
      span.recordException(failure);
      span.setStatus(StatusCode.ERROR, String.valueOf(failure.getMessage()));
    }
    span.end();
  }

  /** One execution's span; {@link #context} is the OpenTelemetry context in which it is current. */
  private final class TracedExecution implements ExecutionSpan {

    private final Span span;
    private final Context context;
    private final String[] tags;
    /** Where the execution started, for the duplicate that runs it. */
    private final ContextInternal leader;
    /** The wait spans of the callers that joined; only touched on the verticle's event loop. */
    private final List<Span> waits = new ArrayList<>();

    TracedExecution(Span span, Context context, String[] tags, ContextInternal leader) {
      this.span = span;
      this.context = context;
      this.tags = tags;
      this.leader = leader;
    }

    @Override
    public <T> T within(Supplier<T> start) {
      ContextInternal running = leader.duplicate();
      VertxContextStorage.INSTANCE.attach(running, context);
      ContextInternal previous = running.beginDispatch();
      try {
        return start.get();
      } finally {
        running.endDispatch(previous);
      }
    }

    @Override
    public void joined(Promise<?> waiter) {
      Span wait = start(current(), WAIT, tags);
      wait.addLink(span.getSpanContext());
      waits.add(wait);
      waiter.future().onComplete(outcome -> end(wait, outcome));
    }

    @Override
    public void ended(AsyncResult<?> outcome, int waiters) {
      span.setAttribute(WAITERS, (long) waiters);
      end(span, outcome);
    }

    @Override
    public void cancelled() {
      span.setAttribute(WAITERS, 0L);
      span.setAttribute(OUTCOME, "cancelled");
      span.end();
    }

    @Override
    public String traceParent() {
      SpanContext context = span.getSpanContext();
      return "00-" + context.getTraceId() + "-" + context.getSpanId() + "-" + context.getTraceFlags().asHex();
    }

    @Override
    public void ranOnAnotherNode(String traceParent) {
      SpanContext remote = parse(traceParent);
      span.setAttribute(CLUSTER_ROLE, "follower");
      if (remote == null) {
        return;
      }
      span.addLink(remote);
      for (Span wait : waits) {
        if (wait.isRecording()) {
          wait.addLink(remote);
        }
      }
    }
  }
}
