package dev.singleflight;

import dev.singleflight.impl.FlightMap;
import dev.singleflight.impl.FlightMetrics;
import dev.singleflight.impl.FlightRequest;
import dev.singleflight.impl.JsonProtocol;
import dev.singleflight.impl.LocalCodec;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.impl.MessageConsumerImpl;
import io.vertx.core.internal.ContextInternal;

import java.util.Objects;

/**
 * SingleFlightVerticle owns the flights of one event-bus address and answers the calls that
 * {@link SingleFlight} proxies send there.
 *
 * <p>Its map of flights lives on the verticle's own event loop and is touched nowhere else. The first
 * call for a key starts the flight, later calls for the key join it, and when it ends every caller
 * gets its outcome and the key is gone again. Undeploying the verticle fails every waiting caller at
 * once with an {@link IllegalStateException}.
 *
 * <p>Deploy one instance per address.
 */
public class SingleFlightVerticle extends VerticleBase {

  private final SingleFlightOptions givenOptions;
  private SingleFlightOptions options;
  private FlightMap flights;
  private JsonProtocol jsonProtocol;
  private MessageConsumer<Object> consumer;
  private WorkerExecutor workers;

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
   * Registers the verticle at its address.
   *
   * @return a Future completed once the verticle takes calls; failed when the config is invalid
   */
  @Override
  public Future<?> start() {
    options = givenOptions != null ? givenOptions : new SingleFlightOptions(config());
    LocalCodec.registerOn(vertx);
    if (options.getWorkerPoolName() != null) {
      workers = vertx.createSharedWorkerExecutor(options.getWorkerPoolName(), options.getWorkerPoolSize());
    }
    flights = new FlightMap((ContextInternal) context, options, FlightMetrics.create(vertx, options.getAddress()), workers);
    jsonProtocol = new JsonProtocol(vertx.eventBus(), flights, options.getAllowedAddresses());
    consumer = vertx.eventBus().consumer(options.getAddress(), this::handle);
    if (consumer instanceof MessageConsumerImpl<Object> impl) {
      // Calls queued for the verticle when it unregisters would be dropped silently; fail them.
      impl.discardHandler(this::discard);
    }
    return consumer.completion();
  }

  /**
   * Fails every waiting caller, then unregisters from the address.
   *
   * @return a Future completed once the address is free
   */
  @Override
  public Future<?> stop() {
    flights.close();
    Future<Void> unregistered = consumer.unregister();
    return workers == null ? unregistered : unregistered.eventually(workers::close);
  }

  private void handle(Message<Object> message) {
    if (message.body() instanceof FlightRequest request) {
      flights.handle(request);
    } else {
      jsonProtocol.handle(message);
    }
  }

  private void discard(Message<Object> message) {
    if (message.body() instanceof FlightRequest request) {
      request.promise().tryFail(flights.stopped());
    } else {
      message.fail(JsonProtocol.UNAVAILABLE, flights.stopped().getMessage());
    }
  }
}
