package dev.singleflight.impl;

import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;

/** What a flight executes: started once, by the call that finds its key free. */
interface Work {

  /**
   * Starts the work. Called on the verticle's event loop; must not block.
   *
   * @param context the verticle's context
   * @return the outcome; completed on any thread
   */
  Future<Object> start(ContextInternal context);
}
