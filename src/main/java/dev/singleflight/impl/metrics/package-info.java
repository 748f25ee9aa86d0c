/**
 * The verticle's meters in the Micrometer registry of vertx-micrometer-metrics, an optional
 * dependency: no class of it loads unless metrics are on ({@code FlightMetrics}).
 */
package dev.singleflight.impl.metrics;
