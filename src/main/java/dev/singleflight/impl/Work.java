package dev.singleflight.impl;

import io.vertx.core.Future;

/** What a flight executes: started once, by the call that finds its key free. */
interface Work {

  /**
   * Starts the work. Called on the verticle's event loop; must not block.
   *
   * @param flights where blocking functions run
   * @param flight the flight the work is for
   * @return the outcome; completed on any thread
   */
  Future<Object> start(FlightMap flights, Flight flight);
}
