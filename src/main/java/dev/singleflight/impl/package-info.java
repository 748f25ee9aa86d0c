/**
 * The implementation. The path of a call, top to bottom:
 * <ol>
 *   <li>{@link dev.singleflight.impl.local}: a {@code SingleFlightProxy} call becomes a
 *   {@code ProxyCall}, handed straight to the event loop of the verticle instance that owns its key
 *   ({@code InstanceGroup}, {@code FlightServer}). JSON requests reach the same instance over the
 *   event bus ({@link dev.singleflight.impl.json}); clustered, calls first meet at the key's owner node
 *   ({@link dev.singleflight.impl.cluster}).</li>
 *   <li>{@link dev.singleflight.impl.FlightMap}: the instance's map of flights, and its limits. Every
 *   way in ends in {@code FlightMap.join}.</li>
 *   <li>{@link dev.singleflight.impl.Execution}: what a flight runs, started once by the call that found
 *   its key free: the caller's function, a downstream request, a clustered flight's exchange, or the
 *   key's place in an open batch of {@link dev.singleflight.impl.BatchGroup}, which makes one loader
 *   call for many keys' flights.</li>
 *   <li>{@link dev.singleflight.impl.Flight}: the callers waiting for the execution, their timeouts, and
 *   the fan-out of its outcome to each of them.</li>
 * </ol>
 * Meters are in {@link dev.singleflight.impl.metrics}, loaded only when Micrometer metrics are on;
 * spans in {@link dev.singleflight.impl.tracing}, whose OpenTelemetry part loads only when the Vert.x
 * instance traces with vertx-opentelemetry.
 *
 * <p>Words used one way throughout: a <em>caller</em> waits for a <em>flight</em> of a <em>key</em>;
 * a caller <em>joins</em> a flight (a node joins the flight at the key's owner the same way); the call
 * that starts a flight <em>leads</em> it, the others <em>follow</em>; a flight runs one
 * <em>execution</em>; <em>forget</em> frees the key while the flight goes on for its callers.
 *
 * <p>Threading: a flight map and everything it holds is only touched on its verticle instance's
 * event loop; outcomes that complete on other threads are brought back there first.
 */
package dev.singleflight.impl;
