package dev.singleflight.impl.local;

import dev.singleflight.SingleFlightOptions;
import dev.singleflight.impl.BatchGroup;
import dev.singleflight.impl.FlightMap;
import dev.singleflight.impl.cluster.ClusterRouter;
import dev.singleflight.impl.json.JsonProtocol;
import dev.singleflight.impl.metrics.FlightMetrics;
import dev.singleflight.impl.tracing.FlightTracing;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One running instance of a {@code SingleFlightVerticle}: its flight map and what feeds it. Proxy
 * calls arrive as tasks on its event loop ({@link #submit}); JSON requests arrive at the verticle's
 * address on the event bus; clustered, the {@link ClusterRouter} also serves the node's own address.
 *
 * <p>Everything but {@link #submit} runs on the instance's event loop.
 */
public final class FlightServer {

  private final Vertx vertx;
  /** Vert.x's internal context API: for the flight map's promises and event-loop checks, which the public Context lacks. */
  private final ContextInternal context;
  private final String deploymentId;
  private final SingleFlightOptions options;
  private InstanceGroup group;
  private WorkerExecutor workers;
  private FlightMap flights;
  private BatchGroup batches;
  /** The flight map's spans, or {@code null} when it is not traced. */
  private FlightTracing tracing;
  private JsonProtocol jsonProtocol;
  /** Set when the verticle collapses calls across the cluster. */
  private ClusterRouter cluster;
  private final List<MessageConsumer<Object>> consumers = new ArrayList<>();
  /** Most proxy calls one task serves before the event loop's other tasks get their turn. */
  static final int CALLS_PER_TASK = 1024;
  /** Proxy calls on their way to this instance, from any thread, when it is not traced: see {@link #submit}. */
  private final ConcurrentLinkedQueue<ProxyCall> calls = new ConcurrentLinkedQueue<>();
  /** Set while a task that serves {@link #calls} is queued or running. */
  private final AtomicBoolean serving = new AtomicBoolean();

  /**
   * @param context the verticle's context; its instance count is the deployment's
   * @param deploymentId the verticle's deployment, or {@code null} outside one
   */
  public FlightServer(Vertx vertx, Context context, String deploymentId, SingleFlightOptions options) {
    this.vertx = vertx;
    this.context = (ContextInternal) context;
    this.deploymentId = deploymentId;
    this.options = options;
  }

  /**
   * Starts serving: proxies find the instance once every instance of the deployment has started,
   * and JSON requests once it listens at the address.
   *
   * @return a Future failed when the verticle cannot serve, after releasing whatever it had taken
   * (worker pool, gauges, addresses)
   */
  public Future<Void> start() {
    Future<Void> started;
    try {
      started = tryStart();
    } catch (RuntimeException e) {
      started = Future.failedFuture(e);
    }
    return started.recover(failure -> {
      if (group != null) {
        group.failed(failure);
      }
      return stop().transform(stopped -> Future.failedFuture(failure));
    });
  }

  private Future<Void> tryStart() {
    group = InstanceGroup.of(deploymentId, context.getInstanceCount(), options.getAddress());
    int index = group.takeIndex();
    // Vert.x's internal API for integrations: the cluster manager has no public accessor.
    ClusterManager clusterManager = options.isClustered() ? ((VertxInternal) vertx).clusterManager() : null;
    if (clusterManager != null && group.size() > 1) {
      throw new IllegalArgumentException("a clustered SingleFlightVerticle runs one instance per node, not " + group.size());
    }
    if (options.getWorkerPoolName() != null) {
      workers = vertx.createSharedWorkerExecutor(options.getWorkerPoolName(), options.getWorkerPoolSize());
    }
    FlightMetrics metrics = FlightMetrics.create(vertx, options.getAddress(), options.getMetricsRegistryName(), group.gauges());
    flights = new FlightMap(context, options, metrics, workers);
    batches = new BatchGroup(context, flights, metrics, options.isCancelAbandoned());
    tracing = flights.tracing();
    jsonProtocol = new JsonProtocol(vertx.eventBus(), flights, batches, options, this::joinAtOwners);
    Future<Void> nodeListening = Future.succeededFuture();
    if (clusterManager != null) {
      cluster = new ClusterRouter(context, clusterManager, options, flights, jsonProtocol, metrics);
      ClusterRouter router = cluster;
      nodeListening = listen(cluster.nodeAddress(), cluster::handleNodeMessage).compose(v -> router.start());
    }
    group.register(index, this);
    // The group is published on the thread of the instance that registered last: come back to this
    // instance's event loop before listening, so that its consumer is bound to its own context.
    Promise<Void> published = context.promise();
    nodeListening.compose(v -> group.publish(vertx)).onComplete(published);
    return published.future().compose(v -> listen(options.getAddress(), group.size() == 1 ? this::handleJson : this::route));
  }

  /**
   * Releases what the instance took, whatever point its start reached: unpublishes the group, fails
   * every waiting caller, stops the cluster's part, removes the gauges, unregisters, closes the
   * worker pool.
   *
   * @return a Future completed once the addresses are free
   */
  public Future<Void> stop() {
    if (group != null) {
      group.close(vertx);
    }
    if (cluster != null) {
      cluster.close();
    }
    if (flights != null) {
      flights.close();
    }
    // Unregisters in a task of its own: requests the event bus already queued for this instance are
    // handled first, and fail with 503 now that the flight map is closed, instead of being discarded
    // by the consumer (Vert.x answers those with a TIMEOUT "Discarded the request").
    Promise<Void> unregistered = context.promise();
    context.runOnContext(v -> {
      List<Future<Void>> each = new ArrayList<>();
      for (MessageConsumer<Object> consumer : consumers) {
        each.add(consumer.unregister());
      }
      consumers.clear();
      Future.join(each).<Void>mapEmpty().onComplete(unregistered);
    });
    return workers == null ? unregistered.future() : unregistered.future().eventually(workers::close);
  }

  /**
   * Hands a proxy call to this instance's event loop; thread-safe. Calls wait in one queue, in the
   * order they came, and a task serves up to {@link #CALLS_PER_TASK} of them: a call costs no task of
   * its own (a batch gathers many keys, each a call), calls from one thread keep their order, and
   * callers faster than the event loop cannot keep it from its other work. Traced, each call is a task
   * of its own, which carries its caller's trace. A call that arrives after the instance stopped fails
   * like a waiting caller would; so does one that finds Vert.x closed.
   */
  void submit(ProxyCall call) {
    if (tracing != null) {
      try {
        tracing.carry(context).runOnContext(v -> serve(call));
      } catch (RuntimeException closed) {
        call.promise().tryFail(flights.stopped());
      }
      return;
    }
    calls.add(call);
    if (serving.compareAndSet(false, true)) {
      schedule();
    }
  }

  private void schedule() {
    try {
      context.runOnContext(v -> serveQueued());
    } catch (RuntimeException closed) {
      ProxyCall queued;
      while ((queued = calls.poll()) != null) {
        queued.promise().tryFail(flights.stopped());
      }
      serving.set(false);
    }
  }

  /**
   * Serves up to {@link #CALLS_PER_TASK} queued calls, then leaves the event loop to its other tasks
   * and queues itself again if calls remain. A call whose serving throws fails alone.
   */
  private void serveQueued() {
    ProxyCall call;
    for (int budget = CALLS_PER_TASK; budget > 0 && (call = calls.poll()) != null; budget--) {
      try {
        serve(call);
      } catch (RuntimeException e) {
        call.promise().tryFail(e);
      }
    }
    serving.set(false);
    // A call queued after the last poll found the flag still set: this task queues the next one for it.
    if (!calls.isEmpty() && serving.compareAndSet(false, true)) {
      schedule();
    }
  }

  /**
   * Reads the keys in flight on this instance's event loop; thread-safe.
   *
   * @return a Future of the keys, failed when the instance stopped
   */
  Future<Set<String>> inFlight() {
    Promise<Set<String>> keys = Promise.promise();
    try {
      context.runOnContext(v -> {
        if (flights.isClosed()) {
          keys.fail(flights.stopped());
        } else {
          keys.complete(flights.inFlight());
        }
      });
    } catch (RuntimeException closed) {
      keys.fail(flights.stopped());
    }
    return keys.future();
  }

  private void serve(ProxyCall call) {
    if (cluster == null) {
      call.serve(flights, batches);
    } else if (call.kind() == ProxyCall.Kind.FORGET) {
      cluster.forget(call.key(), call.promise());
    } else {
      // A key of a batch joins this node's batch only when this node leads its flight.
      cluster.join(call.key(), call.promise(), call.timed(), call.deadline(), call.execution(batches));
    }
  }

  /**
   * Asks each instance of the verticle deployed at {@code address} in {@code vertx} for its running
   * flights, on its event loop; thread-safe. An instance whose event loop is blocked answers late.
   *
   * @return the flights running in all the instances, and the start of the oldest; failed with an
   * {@link IllegalStateException} when no verticle is deployed at {@code address}, or it is stopping
   */
  public static Future<FlightMap.Running> running(Vertx vertx, String address) {
    InstanceGroup group = InstanceGroup.published(vertx, address);
    if (group == null || !group.isOpen()) {
      return Future.failedFuture(new IllegalStateException("no SingleFlightVerticle is deployed at '" + address + "'"));
    }
    List<Future<FlightMap.Running>> each = new ArrayList<>();
    for (FlightServer instance : group.instances()) {
      Promise<FlightMap.Running> running = Promise.promise();
      try {
        instance.context.runOnContext(v -> {
          if (instance.flights.isClosed()) {
            running.fail(new IllegalStateException("the SingleFlightVerticle at '" + address + "' is stopping"));
          } else {
            running.complete(instance.flights.running());
          }
        });
      } catch (RuntimeException closed) {
        running.fail(closed);
      }
      each.add(running.future());
    }
    return Future.all(each).map(all -> {
      int count = 0;
      long oldest = 0;
      for (int i = 0; i < all.size(); i++) {
        FlightMap.Running instance = all.resultAt(i);
        if (instance.count() > 0 && (count == 0 || instance.oldestStartNanos() - oldest < 0)) {
          oldest = instance.oldestStartNanos();
        }
        count += instance.count();
      }
      return new FlightMap.Running(count, oldest);
    });
  }

  private Future<Void> listen(String address, Handler<Message<Object>> handler) {
    MessageConsumer<Object> consumer = vertx.eventBus().consumer(address, handler);
    consumers.add(consumer);
    return consumer.completion();
  }

  private void handleJson(Message<Object> message) {
    if (JsonProtocol.isInFlight(message)) {
      answerInFlight(message);
    } else if (cluster != null) {
      cluster.handle(message);
    } else {
      jsonProtocol.handle(message);
    }
  }

  /**
   * Joins the keys of a JSON batch request where they are owned: clustered, at their owner nodes;
   * else each in the flight map and batches of the instance that owns it, on its event loop, one task
   * per instance.
   */
  private void joinAtOwners(Message<Object> message, Map<String, Promise<Object>> waiters, BatchGroup.Definition definition) {
    if (cluster != null) {
      cluster.joinAtOwners(message, waiters, definition);
      return;
    }
    if (group.size() == 1) {
      jsonProtocol.joinHere(waiters, definition);
      return;
    }
    Map<FlightServer, Map<String, Promise<Object>>> byOwner = new HashMap<>();
    waiters.forEach((key, waiter) -> byOwner.computeIfAbsent(group.ownerOf(key), owner -> new LinkedHashMap<>()).put(key, waiter));
    byOwner.forEach((owner, owned) -> {
      if (owner == this) {
        jsonProtocol.joinHere(owned, definition);
      } else {
        owner.context.runOnContext(v -> owner.jsonProtocol.joinHere(owned, definition));
      }
    });
  }

  /** Answers a JSON {@code inflight} request with the keys in flight on every instance of the deployment. */
  private void answerInFlight(Message<Object> message) {
    if (flights.isClosed()) {
      jsonProtocol.handle(message);
      return;
    }
    group.inFlight().onComplete(keys -> {
      if (keys.succeeded()) {
        message.reply(JsonProtocol.inFlightReply(keys.result()));
      } else {
        message.fail(JsonProtocol.codeOf(keys.cause()), keys.cause().getMessage());
      }
    });
  }

  /** Serves a JSON request given to one of several instances: here if this instance owns its key. */
  private void route(Message<Object> message) {
    String key = InstanceGroup.keyOf(message.body());
    FlightServer owner = key == null ? this : group.ownerOf(key);
    if (JsonProtocol.isInFlight(message)) {
      answerInFlight(message);
    } else if (owner == this) {
      handleJson(message);
    } else {
      (tracing == null ? owner.context : tracing.carry(owner.context)).runOnContext(v -> owner.handleJson(message));
    }
  }
}
