/**
 * The verticle's spans, when its Vert.x instance traces with OpenTelemetry (vertx-opentelemetry, an
 * optional dependency): {@code singleflight.execute} for each execution, {@code singleflight.wait}
 * for each caller that joined one. No class of OpenTelemetry loads through this package unless the
 * Vert.x instance has vertx-opentelemetry's tracer ({@code FlightTracing}).
 */
package dev.singleflight.impl.tracing;
