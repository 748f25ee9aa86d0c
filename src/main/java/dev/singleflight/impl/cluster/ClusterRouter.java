package dev.singleflight.impl.cluster;

import dev.singleflight.SingleFlightOptions;
import dev.singleflight.impl.BatchGroup;
import dev.singleflight.impl.Execution;
import dev.singleflight.impl.FlightMap;
import dev.singleflight.impl.json.JsonProtocol;
import dev.singleflight.impl.metrics.FlightMetrics;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.singleflight.impl.cluster.ClusterProtocol.FORGET;
import static dev.singleflight.impl.cluster.ClusterProtocol.FORGET_LOCAL;
import static dev.singleflight.impl.cluster.ClusterProtocol.JOIN;
import static dev.singleflight.impl.cluster.ClusterProtocol.JSON;
import static dev.singleflight.impl.cluster.ClusterProtocol.KEY;
import static dev.singleflight.impl.cluster.ClusterProtocol.OP;
import static dev.singleflight.impl.cluster.ClusterProtocol.RESULT;

/**
 * Where a clustered verticle's calls enter the cluster (see the protocol in this package's
 * {@code package-info}): this node's proxy calls and forgets, JSON requests from anywhere, and the
 * messages other nodes send to this node's address.
 *
 * <ul>
 *   <li>JSON-protocol requests are forwarded to the key's owner, which makes the one downstream request.</li>
 *   <li>Proxy calls are first collapsed by the node's own {@link FlightMap}; its flight then joins the
 *   flight at the owner ({@link LeaderOrFollower}, {@link ClusterOwner}).</li>
 *   <li>Forgets go to the owner, which has every node forget the key locally.</li>
 * </ul>
 *
 * <p>Only touched on the verticle's event loop.
 */
public final class ClusterRouter {

  /** Vert.x's internal context API: what {@link LeaderOrFollower} needs of the verticle's context. */
  private final ContextInternal context;
  private final String address;
  private final long maxTimeout;
  private final FlightMap flights;
  private final JsonProtocol jsonProtocol;
  private final ClusterOwner owned;
  private final OwnerCalls owners;

  public ClusterRouter(ContextInternal context, ClusterManager clusterManager, SingleFlightOptions options,
                       FlightMap flights, JsonProtocol jsonProtocol, FlightMetrics metrics) {
    this.context = context;
    this.address = options.getAddress();
    this.maxTimeout = options.getMaxTimeout();
    this.flights = flights;
    this.jsonProtocol = jsonProtocol;
    this.owned = new ClusterOwner(metrics);
    this.owners = new OwnerCalls(context.owner(), address, clusterManager, flights, metrics, owned::nodesLeft);
  }

  /** @return the address of this node's verticle, where other nodes reach it */
  public String nodeAddress() {
    return ClusterProtocol.nodeAddress(address, owners.nodeId());
  }

  // At the shared address: calls of this node's proxies, and JSON requests from anywhere.

  /**
   * Serves a proxy call of this node: it joins the node's flight of {@code key}, which joins the
   * flight at the owner before running {@code function}.
   */
  public void join(String key, Promise<Object> caller, boolean timed, long deadline, Execution function) {
    flights.join(key, caller, timed, deadline, new LeaderOrFollower(context, owners, address, key, flights.hedged(function)));
  }

  /** Serves a proxy forget of this node: the owner has every node forget the key. */
  public void forget(String key, Promise<Object> caller) {
    if (flights.isClosed()) {
      caller.tryFail(flights.stopped());
      return;
    }
    flights.forget(key);
    // The owner has every node forget, each within the event bus's default timeout: wait for that, twice.
    owners.call(key, FORGET, null, null, 2 * DeliveryOptions.DEFAULT_TIMEOUT).reply.future().onComplete(ar -> {
      if (ar.succeeded()) {
        caller.tryComplete();
      } else {
        caller.tryFail(ar.cause());
      }
    });
  }

  /** Serves a JSON request: forwarded to the owner of its key; malformed ones fail here. */
  public void handle(Message<Object> message) {
    String key = message.body() instanceof JsonObject json && json.getValue("key") instanceof String k && !k.isEmpty() ? k : null;
    // A batch's keys go to their owners once it is checked (joinAtOwners).
    if (key == null || flights.isClosed() || JsonProtocol.BATCH.equals(message.headers().get(JsonProtocol.ACTION_HEADER))) {
      jsonProtocol.handle(message);
      return;
    }
    boolean forget = JsonProtocol.FORGET.equals(message.headers().get(JsonProtocol.ACTION_HEADER));
    if (forget) {
      flights.forget(key);
    }
    owners.call(key, forget ? FORGET : JSON, message.body(), message.headers(), forwardTimeout(message)).reply.future()
      .onComplete(ar -> relay(message, ar));
  }

  /**
   * A forwarded JSON request waits as long as its downstream request may take, with a margin; the
   * downstream timeout is capped at maxTimeout (at most Integer.MAX_VALUE), so the sum cannot overflow.
   */
  private long forwardTimeout(Message<Object> message) {
    long downstream = JsonProtocol.downstreamTimeout(((JsonObject) message.body()).getValue("timeout"), maxTimeout);
    return Math.max(downstream, DeliveryOptions.DEFAULT_TIMEOUT) + DeliveryOptions.DEFAULT_TIMEOUT;
  }

  /**
   * Joins the keys of a JSON batch request (valid) at their owner nodes: this node's own keys join
   * here; the others go, one request per owner holding its keys only, to the owner, which batches
   * them there. Each key's waiter gets its value from that owner's reply, or its failure.
   */
  public void joinAtOwners(Message<Object> message, Map<String, Promise<Object>> waiters, BatchGroup.Definition definition) {
    Map<String, Map<String, Promise<Object>>> byOwner = new HashMap<>();
    waiters.forEach((key, waiter) -> byOwner.computeIfAbsent(owners.ownerOf(key), node -> new LinkedHashMap<>()).put(key, waiter));
    JsonObject request = (JsonObject) message.body();
    long timeout = forwardTimeout(message);
    byOwner.forEach((node, owned) -> {
      if (node.equals(owners.nodeId())) {
        jsonProtocol.joinHere(owned, definition);
        return;
      }
      JsonObject part = request.copy().put("keys", new JsonArray(new ArrayList<>(owned.keySet())));
      owners.call(owned.keySet().iterator().next(), JSON, part, message.headers(), timeout).reply.future().onComplete(ar -> {
        if (ar.failed()) {
          owned.values().forEach(waiter -> waiter.tryFail(ar.cause()));
        } else if (ar.result().body() instanceof JsonObject values) {
          owned.forEach((key, waiter) -> waiter.tryComplete(values.getValue(key)));
        } else {
          IllegalStateException notAnObject = new IllegalStateException("node " + node + " answered a batch with "
            + ar.result().body() + ", not a JSON object");
          owned.values().forEach(waiter -> waiter.tryFail(notAnObject));
        }
      });
    });
  }

  private static void relay(Message<Object> message, AsyncResult<Message<Object>> reply) {
    if (reply.succeeded()) {
      JsonProtocol.reply(message, reply.map(Message::body));
    } else if (reply.cause() instanceof ReplyException failure && failure.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      message.fail(failure.failureCode(), failure.getMessage());
    } else {
      message.fail(JsonProtocol.codeOf(reply.cause()), reply.cause().getMessage());
    }
  }

  // At this node's own address: what other nodes (and this one) ask of an owner or a participant.

  /** Serves a message sent to this node's address. */
  public void handleNodeMessage(Message<Object> message) {
    if (flights.isClosed()) {
      ClusterProtocol.retryElsewhere(message);
      return;
    }
    String key = message.headers().get(KEY);
    switch (String.valueOf(message.headers().get(OP))) {
      case JOIN -> owned.join(message);
      case RESULT -> owned.result(message);
      case FORGET -> {
        owned.forget(key);
        forgetEverywhere(key).onComplete(ar -> message.reply(null));
      }
      case FORGET_LOCAL -> {
        flights.forget(key);
        message.reply(null);
      }
      case JSON -> jsonProtocol.handleHere(message);
      default -> message.fail(JsonProtocol.BAD_REQUEST, "unknown single-flight cluster operation");
    }
  }

  /** Has every member forget the key locally, so that no node's later caller joins the old flight. */
  private Future<?> forgetEverywhere(String key) {
    flights.forget(key);
    List<Future<?>> forgotten = new ArrayList<>();
    for (String node : owners.members()) {
      if (!node.equals(owners.nodeId())) {
        // A member without the verticle has nothing to forget: its failure is ignored.
        forgotten.add(context.owner().eventBus().request(ClusterProtocol.nodeAddress(address, node), null,
          new DeliveryOptions().addHeader(OP, FORGET_LOCAL).addHeader(KEY, key)).recover(e -> Future.succeededFuture()));
      }
    }
    return Future.join(forgotten);
  }

  /** Stops: nodes waiting on this owner ask the next one; this node's own waiters are failed by the flight map. */
  public void close() {
    owners.close();
    owned.close();
  }
}
