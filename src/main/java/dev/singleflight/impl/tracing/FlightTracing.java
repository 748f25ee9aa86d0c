package dev.singleflight.impl.tracing;

import io.vertx.core.AsyncResult;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.spi.tracing.VertxTracer;

import java.util.function.Supplier;

/**
 * The spans of one verticle instance. A flight map without a tracer holds {@code null} instead and
 * pays one null check per call and per execution.
 *
 * <p>This is an interface, and its signatures name no OpenTelemetry type, so that the verticle loads no
 * OpenTelemetry class unless its Vert.x instance has vertx-opentelemetry's tracer: vertx-opentelemetry
 * is an optional dependency. The spans are made through that tracer ({@link VertxTracer#sendRequest}),
 * the one way to the {@code OpenTelemetry} instance the Vert.x instance was built with; so they are
 * {@code CLIENT} spans, in the tracer's instrumentation scope {@code io.vertx}.
 */
public interface FlightTracing {

  /** The class of vertx-opentelemetry's tracer, named so that testing for it loads nothing. */
  String OPEN_TELEMETRY_TRACER = "io.vertx.tracing.opentelemetry.OpenTelemetryTracer";

  /**
   * @param context the verticle instance's context
   * @param traceKeys whether spans record keys, not only their hash
   * @return the spans of a verticle at {@code address}, or {@code null} when the Vert.x instance has no
   * tracer, or one that is not vertx-opentelemetry's
   */
  static FlightTracing create(ContextInternal context, String address, boolean traceKeys) {
    VertxTracer<?, ?> tracer = context.tracer();
    if (tracer == null || !tracer.getClass().getName().equals(OPEN_TELEMETRY_TRACER)) {
      return null;
    }
    return new OpenTelemetryFlightTracing(tracer, context, address, traceKeys);
  }

  /**
   * Called on the caller's thread, as its call is handed to the verticle: the caller's current span
   * must be read now, before the caller's code moves on (a {@code try (Scope s = span.makeCurrent())}
   * around the call closes at once).
   *
   * @param verticle the context of the verticle instance that serves the call
   * @return the context to serve the call on: a duplicate of {@code verticle} whose current trace is
   * the caller's, or {@code verticle} itself when the caller has no current span
   */
  ContextInternal carry(ContextInternal verticle);

  /**
   * An execution of {@code key} starts; its leader's trace is the current one, on the verticle's event
   * loop. Starts its {@code singleflight.execute} span, a child of the leader's current span.
   */
  ExecutionSpan executionStarted(String key);

  /** The span of one execution, and the waits of the callers that joined it. */
  interface ExecutionSpan {

    /**
     * Runs {@code start} on a duplicate of the current context whose current span is this one, so that
     * what the execution sends (an event-bus request, a client call) and runs (a blocking function) is
     * traced under it.
     *
     * @return what {@code start} returns; what it throws is thrown on
     */
    <T> T within(Supplier<T> start);

    /**
     * A caller joined the execution; its trace is the current one. Starts its {@code singleflight.wait}
     * span, a child of its current span linked to the execution's span, ended when {@code waiter}
     * completes, whatever completes it.
     */
    void joined(Promise<?> waiter);

    /**
     * The execution ended with {@code outcome}, for {@code waiters} callers still waiting: ends the span.
     */
    void ended(AsyncResult<?> outcome, int waiters);

    /** The execution was cancelled, every caller having left: ends the span. */
    void cancelled();

    /**
     * @return the span's context as a W3C {@code traceparent} value ({@code 00-<trace id>-<span id>-<flags>}),
     * for another node to link to
     */
    String traceParent();

    /**
     * The function of this clustered flight ran on another node, whose execution span is
     * {@code traceParent} (a W3C {@code traceparent} value; ignored when {@code null} or malformed):
     * links this span and the waits still open to it, and records {@code singleflight.cluster.role}
     * {@code follower}.
     */
    void ranOnAnotherNode(String traceParent);
  }
}
