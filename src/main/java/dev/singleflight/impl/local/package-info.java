/**
 * The local call path: the proxy ({@code SingleFlightProxy}), one call ({@code ProxyCall}), the
 * instances of a deployment and the key each owns ({@code InstanceGroup}), and one running instance
 * of the verticle ({@code FlightServer}), which wires the flight map to the JSON protocol, the
 * cluster and the meters.
 */
package dev.singleflight.impl.local;
