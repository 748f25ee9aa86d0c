package dev.singleflight.impl;

import dev.singleflight.FlightResult;

/**
 * What one caller of {@code flightResult} gets: made for it by its {@link Flight} when the flight ends.
 */
record FlightResultImpl(Object value, boolean shared, boolean leader) implements FlightResult<Object> {
}
