package dev.singleflight.impl;

import io.vertx.core.Future;

/**
 * How a flight's one execution starts: a proxy caller's function, a JSON flight's downstream request,
 * or a clustered flight's exchange with the key's owner. Started once, by the call that finds its key
 * free, and once more by each hedge of a {@link HedgedExecution}.
 */
public interface Execution {

  /**
   * Starts the execution. Called on the verticle's event loop; must not block. May throw: the flight
   * then fails with what it threw, and its key is free.
   *
   * @param flights where blocking functions run ({@link FlightMap#executeBlocking})
   * @param flight the flight the execution is for
   * @return the outcome; completed on any thread
   */
  Future<Object> start(FlightMap flights, Flight flight);
}
