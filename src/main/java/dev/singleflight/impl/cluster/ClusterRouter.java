package dev.singleflight.impl.cluster;

import dev.singleflight.SingleFlightOptions;
import dev.singleflight.impl.BatchGroup;
import dev.singleflight.impl.Execution;
import dev.singleflight.impl.FlightMap;
import dev.singleflight.impl.json.JsonProtocol;
import dev.singleflight.impl.metrics.FlightMetrics;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.singleflight.impl.cluster.ClusterProtocol.BAD_REQUEST;
import static dev.singleflight.impl.cluster.ClusterProtocol.BYE;
import static dev.singleflight.impl.cluster.ClusterProtocol.FLIGHT;
import static dev.singleflight.impl.cluster.ClusterProtocol.FORGET;
import static dev.singleflight.impl.cluster.ClusterProtocol.FORGET_LOCAL;
import static dev.singleflight.impl.cluster.ClusterProtocol.GIVE_UP;
import static dev.singleflight.impl.cluster.ClusterProtocol.HANDOVER;
import static dev.singleflight.impl.cluster.ClusterProtocol.HELLO;
import static dev.singleflight.impl.cluster.ClusterProtocol.JOIN;
import static dev.singleflight.impl.cluster.ClusterProtocol.JSON;
import static dev.singleflight.impl.cluster.ClusterProtocol.KEY;
import static dev.singleflight.impl.cluster.ClusterProtocol.LEAD;
import static dev.singleflight.impl.cluster.ClusterProtocol.MOVED;
import static dev.singleflight.impl.cluster.ClusterProtocol.NODE;
import static dev.singleflight.impl.cluster.ClusterProtocol.OP;
import static dev.singleflight.impl.cluster.ClusterProtocol.RESULT;
import static dev.singleflight.impl.cluster.ClusterProtocol.TOKEN;

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
 * <p>Every message to the node address is checked before it changes anything: one that does not
 * follow the protocol is answered 400.
 *
 * <p>Only touched on the verticle's event loop.
 */
public final class ClusterRouter {

  /** Vert.x's internal context API: what {@link LeaderOrFollower} needs of the verticle's context. */
  private final ContextInternal context;
  private final String address;
  private final long maxTimeout;
  private final int maxKeyLength;
  private final long requestTimeout;
  private final FlightMap flights;
  private final JsonProtocol jsonProtocol;
  private final FlightMetrics metrics;
  private final OwnerCalls owners;
  private final ClusterOwner owned;
  /** The flights this node leads. */
  private final Set<LeaderOrFollower> leading = new LinkedHashSet<>();

  public ClusterRouter(ContextInternal context, ClusterManager clusterManager, SingleFlightOptions options,
                       FlightMap flights, JsonProtocol jsonProtocol, FlightMetrics metrics) {
    this.context = context;
    this.address = options.getAddress();
    this.maxTimeout = options.getMaxTimeout();
    this.maxKeyLength = options.getMaxKeyLength();
    this.requestTimeout = options.getClusterRequestTimeout();
    this.flights = flights;
    this.jsonProtocol = jsonProtocol;
    this.metrics = metrics;
    this.owners = new OwnerCalls(context.owner(), address, clusterManager, flights, requestTimeout, this::membersChanged);
    this.owned = new ClusterOwner(context.owner(), owners, metrics, requestTimeout);
  }

  /** @return the address of this node's verticle, where other nodes reach it */
  public String nodeAddress() {
    return ClusterProtocol.nodeAddress(address, owners.nodeId());
  }

  /**
   * Joins the cluster's serving members, once the verticle listens at {@link #nodeAddress()}.
   *
   * @return a Future completed when this node knows the other serving members
   */
  public Future<Void> start() {
    return owners.start();
  }

  /** The serving members changed: the owner side lets go of what moved; each led flight registers with its owner. */
  private void membersChanged(Set<String> gone) {
    owned.membersChanged(gone);
    new ArrayList<>(leading).forEach(LeaderOrFollower::renew);
  }

  // At the shared address: calls of this node's proxies, and JSON requests from anywhere.

  /**
   * Serves a proxy call of this node: it joins the node's flight of {@code key}, which joins the
   * flight at the owner before running {@code function}.
   */
  public void join(String key, Promise<Object> caller, boolean timed, long deadline, Execution function) {
    flights.join(key, caller, timed, deadline,
      new LeaderOrFollower(context, owners, key, flights.hedged(function), requestTimeout, leading));
  }

  /** Serves a proxy forget of this node: the owner has every node forget the key. */
  public void forget(String key, Promise<Object> caller) {
    if (flights.isClosed()) {
      caller.tryFail(flights.stopped());
      return;
    }
    flights.forget(key);
    // The owner has every node forget, each within clusterRequestTimeout: wait for that, twice.
    owners.call(key, FORGET, null, null, 2 * requestTimeout).reply.future().onComplete(ar -> {
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

  /**
   * Serves a message sent to this node's address. A message that does not follow the protocol (an
   * unknown operation; a missing sender, key, flight id or lead token; a malformed token or outcome)
   * is answered 400 and changes nothing.
   */
  public void handleNodeMessage(Message<Object> message) {
    MultiMap headers = message.headers();
    String op = headers.get(OP);
    String node = headers.get(NODE);
    if (op == null || node == null || node.isEmpty()) {
      message.fail(BAD_REQUEST, "a single-flight cluster message needs the headers " + OP + " and " + NODE);
      return;
    }
    if (flights.isClosed()) {
      if (HELLO.equals(op)) {
        message.fail(JsonProtocol.UNAVAILABLE, "the SingleFlightVerticle at '" + address + "' is stopping");
      } else {
        ClusterProtocol.retryElsewhere(message);
      }
      return;
    }
    if (HELLO.equals(op) || BYE.equals(op)) {
      owners.heard(op, node);
      message.reply(null);
      return;
    }
    String key = headers.get(KEY);
    if (key == null || key.length() > maxKeyLength) {
      message.fail(BAD_REQUEST, "a single-flight cluster message needs the header " + KEY + ", at most "
        + maxKeyLength + " chars");
      return;
    }
    String id = headers.get(FLIGHT);
    String token = headers.get(TOKEN);
    switch (op) {
      case JOIN -> {
        if (id != null && !ClusterProtocol.isToken(id)) {
          message.fail(BAD_REQUEST, "malformed " + FLIGHT);
        } else {
          owned.join(message, key, node, id);
        }
      }
      case LEAD, RESULT, GIVE_UP -> {
        String malformed = !ClusterProtocol.isToken(id) || !ClusterProtocol.isToken(token)
          ? "'" + op + "' needs a well-formed " + FLIGHT + " and " + TOKEN
          : RESULT.equals(op) ? ClusterProtocol.malformedOutcome(headers) : null;
        if (malformed != null) {
          message.fail(BAD_REQUEST, malformed);
        } else if (LEAD.equals(op)) {
          owned.lead(message, key, node, id, token);
        } else if (RESULT.equals(op)) {
          owned.result(message, key, node, id, token);
        } else {
          owned.giveUp(message, key, node, id, token);
        }
      }
      case HANDOVER -> owned.handover(message, key);
      case FORGET -> {
        owned.forget(key);
        forgetEverywhere(key).onComplete(ar -> message.reply(null));
      }
      case FORGET_LOCAL -> {
        flights.forget(key);
        message.reply(null);
      }
      case JSON -> {
        if (!(message.body() instanceof JsonObject)) {
          message.fail(BAD_REQUEST, "'" + JSON + "' needs a JSON request");
          return;
        }
        if (headers.contains(MOVED)) {
          headers.remove(MOVED);
          if (!flights.isRunning(key) && metrics != null) {
            // Sent again after its owner left: the first of them starts the flight a second time.
            metrics.clusterMove();
          }
        }
        jsonProtocol.handleHere(message);
      }
      default -> message.fail(BAD_REQUEST, "unknown single-flight cluster operation '" + op + "'");
    }
  }

  /** Has every member forget the key locally, so that no node's later caller joins the old flight. */
  private Future<?> forgetEverywhere(String key) {
    flights.forget(key);
    List<Future<?>> forgotten = new ArrayList<>();
    for (String node : owners.members()) {
      if (!node.equals(owners.nodeId())) {
        // A member that stopped meanwhile has nothing to forget: its failure is ignored.
        forgotten.add(owners.tell(node, key, FORGET_LOCAL, MultiMap.caseInsensitiveMultiMap())
          .recover(e -> Future.succeededFuture()));
      }
    }
    return Future.join(forgotten);
  }

  /** Stops: says bye to the other members; nodes waiting on this owner ask the next one; this node's own waiters are failed by the flight map. */
  public void close() {
    owners.close();
    owned.close();
  }
}
