package dev.singleflight.impl;

/**
 * The failure of a call whose {@code SingleFlightVerticle} was undeployed while it waited, or
 * before it arrived; 503 in the JSON protocol.
 */
public final class VerticleStoppedException extends IllegalStateException {

  VerticleStoppedException(String message) {
    super(message);
  }
}
