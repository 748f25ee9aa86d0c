package dev.singleflight;

/**
 * VerticleStoppedException is the failure of a call whose {@link SingleFlightVerticle} was undeployed
 * while it waited, or before it arrived; 503 in the JSON protocol. The function's late result, if
 * any, is dropped.
 */
public final class VerticleStoppedException extends IllegalStateException {

  /** @param message names the verticle's address */
  public VerticleStoppedException(String message) {
    super(message);
  }
}
