package dev.singleflight;

import dev.singleflight.impl.local.FlightServer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

import java.util.Objects;

/**
 * SingleFlightVerticle owns the flights of one event-bus address and answers the calls sent there:
 * those of {@link SingleFlight} proxies, and requests of the JSON protocol (see the README).
 *
 * <p>Its map of flights lives on the verticle's own event loop and is touched nowhere else. The first
 * call for a key starts the flight, later calls for the key join it, and when it ends every caller
 * gets its outcome and the key is gone again. Undeploying the verticle fails every waiting caller at
 * once: proxy callers with a {@link VerticleStoppedException}, JSON requesters with 503.
 *
 * <p>Deploy one deployment per address: a second one at the same address fails. It may have several
 * instances ({@code DeploymentOptions.setInstances}, with the {@code Class} or {@code Supplier}
 * overload of {@code deployVerticle}): each key is then owned by one instance, chosen by a hash of the
 * key; proxies hand a call straight to its owner, and an instance given a JSON request of a key it
 * does not own hands it there, so a key still runs once.
 */
public class SingleFlightVerticle extends VerticleBase {

  private final SingleFlightOptions givenOptions;
  private FlightServer server;

  /** A verticle whose options are read from the deployment's {@code config()}, else the defaults. */
  public SingleFlightVerticle() {
    this.givenOptions = null;
  }

  /**
   * A verticle with the given options; the deployment's {@code config()} is ignored.
   *
   * @param options the options, copied
   * @throws NullPointerException when {@code options} is {@code null}
   */
  public SingleFlightVerticle(SingleFlightOptions options) {
    this.givenOptions = new SingleFlightOptions(Objects.requireNonNull(options, "options"));
  }

  /**
   * Starts serving at the verticle's address.
   *
   * @return a Future completed once the verticle takes calls; failed with an
   * {@link IllegalArgumentException} when the config is invalid, with an {@link IllegalStateException}
   * when another deployment serves the address, after releasing whatever the verticle had taken
   */
  @Override
  public Future<?> start() {
    SingleFlightOptions options;
    try {
      options = givenOptions != null ? givenOptions : new SingleFlightOptions(config());
    } catch (IllegalArgumentException invalid) {
      return Future.failedFuture(invalid);
    }
    server = new FlightServer(vertx, context, deploymentID(), options);
    return server.start();
  }

  /**
   * Fails every waiting caller, then stops serving.
   *
   * @return a Future completed once the address is free
   */
  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.stop();
  }
}
