package dev.singleflight;

import dev.singleflight.impl.ClusterRouter;
import dev.singleflight.impl.FlightMap;
import dev.singleflight.impl.FlightMetrics;
import dev.singleflight.impl.FlightRequest;
import dev.singleflight.impl.InstanceGroup;
import dev.singleflight.impl.JsonProtocol;
import dev.singleflight.impl.LocalCodec;
import dev.singleflight.impl.RoutedMessage;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.MessageProducer;
import io.vertx.core.eventbus.impl.MessageConsumerImpl;
import io.vertx.core.impl.VertxImpl;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;

/**
 * SingleFlightVerticle owns the flights of one event-bus address and answers the calls sent there:
 * those of {@link SingleFlight} proxies, and requests of the JSON protocol (see the README).
 *
 * <p>Its map of flights lives on the verticle's own event loop and is touched nowhere else. The first
 * call for a key starts the flight, later calls for the key join it, and when it ends every caller
 * gets its outcome and the key is gone again. Undeploying the verticle fails every waiting caller at
 * once: proxy callers with an {@link IllegalStateException}, JSON requesters with 503.
 *
 * <p>Deploy one deployment per address. It may have several instances
 * ({@code DeploymentOptions.setInstances}, with the {@code Class} or {@code Supplier} overload of
 * {@code deployVerticle}): each key is then owned by one instance, chosen by a hash of the key, and
 * the others forward its calls there, so a key still runs once.
 */
public class SingleFlightVerticle extends VerticleBase {

  private final SingleFlightOptions givenOptions;
  private SingleFlightOptions options;
  private InstanceGroup group;
  private int index;
  private FlightMap flights;
  private JsonProtocol jsonProtocol;
  private WorkerExecutor workers;
  /** Set when the verticle collapses calls across the cluster. */
  private ClusterRouter cluster;
  private final List<MessageConsumer<Object>> consumers = new ArrayList<>();
  /** Senders to the other instances of the group, by index; empty for a single instance. */
  private final List<MessageProducer<Object>> instances = new ArrayList<>();

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
   * @return a Future completed once the verticle takes calls; failed when the config is invalid or
   * the verticle cannot listen, after releasing whatever it had taken (worker pool, gauges, addresses)
   */
  @Override
  public Future<?> start() {
    Future<?> started;
    try {
      started = tryStart();
    } catch (RuntimeException e) {
      started = Future.failedFuture(e);
    }
    return started.recover(failure -> {
      if (group != null) {
        // The other instances of the deployment wait for this one to listen: they fail too.
        group.instanceListening(Future.failedFuture(failure));
      }
      return release().transform(released -> Future.failedFuture(failure));
    });
  }

  private Future<?> tryStart() {
    options = givenOptions != null ? givenOptions : new SingleFlightOptions(config());
    LocalCodec.registerOn(vertx);
    group = InstanceGroup.of(deploymentID(), context.getInstanceCount(), options);
    index = group.join();
    ClusterManager clusterManager = options.isClustered() ? ((VertxInternal) vertx).clusterManager() : null;
    if (clusterManager != null) {
      checkClusterable();
    }
    if (options.getWorkerPoolName() != null) {
      workers = vertx.createSharedWorkerExecutor(options.getWorkerPoolName(), options.getWorkerPoolSize());
    }
    FlightMetrics metrics = FlightMetrics.create(vertx, options.getAddress(), group);
    flights = new FlightMap((ContextInternal) context, options, metrics, workers);
    jsonProtocol = new JsonProtocol(vertx.eventBus(), flights, options);
    if (clusterManager != null) {
      cluster = new ClusterRouter((ContextInternal) context, clusterManager, options, flights, jsonProtocol, metrics);
      return listen(cluster.nodeAddress(), false, cluster::handleNodeMessage, ClusterRouter::retryElsewhere)
        .compose(v -> listen(options.getAddress(), false, this::handle, this::discard));
    }
    if (group.size() == 1) {
      return listen(options.getAddress(), false, this::handle, this::discard);
    }
    DeliveryOptions local = new DeliveryOptions().setLocalOnly(true);
    for (int i = 0; i < group.size(); i++) {
      instances.add(vertx.eventBus().sender(group.instanceAddress(i), local));
    }
    return listen(group.instanceAddress(index), true, this::handle, this::discard)
      .andThen(group::instanceListening)
      .compose(v -> group.allListening())
      .compose(v -> listen(options.getAddress(), false, this::route, this::discard));
  }

  /**
   * Fails every waiting caller, then unregisters from the address.
   *
   * @return a Future completed once the address is free
   */
  @Override
  public Future<?> stop() {
    return release();
  }

  /**
   * Releases what the verticle took, whatever point its start reached: fails every waiting caller,
   * stops the cluster's part, removes the gauges, unregisters, closes the worker pool.
   */
  private Future<Void> release() {
    if (group != null) {
      group.leave();
    }
    if (cluster != null) {
      cluster.close();
    }
    if (flights != null) {
      flights.close();
    }
    List<Future<Void>> unregistered = new ArrayList<>();
    for (MessageConsumer<Object> consumer : consumers) {
      unregistered.add(consumer.unregister());
    }
    consumers.clear();
    Future<Void> all = Future.join(unregistered).mapEmpty();
    return workers == null ? all : all.eventually(workers::close);
  }

  /**
   * Listens at {@code address}. Calls queued for the verticle when it unregisters would be dropped
   * silently: {@code discard} fails them.
   */
  private Future<Void> listen(String address, boolean local, Handler<Message<Object>> handler, Handler<Message<Object>> discard) {
    MessageConsumer<Object> consumer = local
      ? vertx.eventBus().localConsumer(address, handler)
      : vertx.eventBus().consumer(address, handler);
    if (consumer instanceof MessageConsumerImpl<Object> impl) {
      impl.discardHandler(discard);
    }
    consumers.add(consumer);
    return consumer.completion();
  }

  /** Serves a call at the shared address of several instances: here if this instance owns its key. */
  private void route(Message<Object> message) {
    Object body = message.body();
    String key = InstanceGroup.keyOf(body);
    int owner = key == null ? index : group.ownerOf(key);
    if (owner == index) {
      handle(message);
      return;
    }
    Object forwarded = body instanceof FlightRequest ? body : new RoutedMessage(message);
    instances.get(owner).write(forwarded).onFailure(e -> discard(message));
  }

  /** A clustered verticle takes one instance per node, and the cluster manager's node listener. */
  private void checkClusterable() {
    if (group.size() > 1) {
      throw new IllegalArgumentException("a clustered SingleFlightVerticle runs one instance per node, not " + group.size());
    }
    if (vertx instanceof VertxImpl impl && impl.haManager() != null) {
      throw new IllegalStateException("a clustered SingleFlightVerticle needs Vert.x HA off: both use the cluster manager's node listener");
    }
  }

  private void handle(Message<Object> message) {
    Object body = message.body();
    if (cluster != null) {
      if (body instanceof FlightRequest request) {
        cluster.handle(request);
      } else {
        cluster.handle(message);
      }
    } else if (body instanceof FlightRequest request) {
      flights.handle(request);
    } else if (body instanceof RoutedMessage routed) {
      jsonProtocol.handle(routed.message());
    } else {
      jsonProtocol.handle(message);
    }
  }

  /**
   * Fails a call that this verticle will not serve: it is stopping, or (rarely: the queue drains on
   * each delivery) its consumer's buffer is full.
   */
  private void discard(Message<Object> message) {
    RuntimeException refusal = flights.isClosed() ? flights.stopped() : new RejectedExecutionException(
      "the SingleFlightVerticle at '" + options.getAddress() + "' has more calls queued than its consumer buffers");
    Object body = message.body();
    if (body instanceof FlightRequest request) {
      request.promise().tryFail(refusal);
    } else {
      Message<Object> requester = body instanceof RoutedMessage routed ? routed.message() : message;
      requester.fail(JsonProtocol.UNAVAILABLE, refusal.getMessage());
    }
  }
}
