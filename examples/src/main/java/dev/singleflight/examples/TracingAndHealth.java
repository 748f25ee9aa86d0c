package dev.singleflight.examples;

import dev.singleflight.SingleFlightHealth;
import dev.singleflight.SingleFlightOptions;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.tracing.opentelemetry.OpenTelemetryOptions;
import io.vertx.tracing.opentelemetry.OpenTelemetryTracingFactory;

import java.time.Duration;

/**
 * TracingAndHealth sets up what the README's Tracing and Health check sections describe: a Vert.x
 * instance traced with an OpenTelemetry SDK of one's own, and the verticle's health-check procedure.
 */
public final class TracingAndHealth {

  private TracingAndHealth() {
  }

  /**
   * An OpenTelemetry SDK that exports spans in batches to {@code exporter} and propagates the W3C trace
   * context, so that event-bus requests (a JSON flight's downstream request) carry it.
   *
   * @param exporter where spans go
   * @return the SDK; close it after the Vert.x instance
   */
  public static OpenTelemetrySdk openTelemetry(SpanExporter exporter) {
    // tag::sdk[]
    return OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(BatchSpanProcessor.builder(exporter).build()).build())
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
      .build();
    // end::sdk[]
  }

  /**
   * A Vert.x instance traced by {@code openTelemetry}: every verticle in it, the single-flight verticle
   * included, makes its spans there.
   *
   * @param openTelemetry the OpenTelemetry instance spans go to
   * @return the Vert.x instance
   */
  public static Vertx tracedVertx(OpenTelemetry openTelemetry) {
    // tag::vertx[]
    return Vertx.builder()
      .with(new VertxOptions().setTracingOptions(new OpenTelemetryOptions()))
      .withTracer(new OpenTelemetryTracingFactory(openTelemetry))
      .build();
    // end::vertx[]
  }

  /**
   * Health checks with the procedure of the verticle at the default address: DOWN when the verticle
   * does not answer within 500 ms, or a flight has run longer than 30 s.
   *
   * @param vertx the Vert.x instance the verticle is deployed in
   * @return the health checks, with the procedure {@code singleflight}
   */
  public static HealthChecks healthChecks(Vertx vertx) {
    // tag::health[]
    return HealthChecks.create(vertx)
      .register("singleflight", SingleFlightHealth.procedure(vertx, SingleFlightOptions.DEFAULT_ADDRESS, Duration.ofSeconds(30)));
    // end::health[]
  }
}
