package dev.singleflight.impl.cluster;

import dev.singleflight.RemoteFlightException;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.impl.Execution;
import dev.singleflight.impl.Flight;
import dev.singleflight.impl.FlightMap;
import dev.singleflight.impl.json.JsonProtocol;
import dev.singleflight.impl.metrics.FlightMetrics;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Cluster-wide single flight over Vert.x's clustered event bus. Each key has one owner node, chosen
 * by a rendezvous hash of the key over the current members; each node's verticle also listens at its
 * own node address, {@code <address>.node.<node id>}.
 *
 * <ul>
 *   <li>JSON-protocol requests are forwarded to the owner, which makes the one downstream request.</li>
 *   <li>Proxy calls are first collapsed by the node's own {@link FlightMap}; its flight then asks the
 *   owner to join ({@link ClusterOwner}): the first node leads and runs its function, reports the
 *   outcome to the owner, and the owner answers the other nodes.</li>
 *   <li>Forgets go to the owner, which has every node taking part forget locally.</li>
 *   <li>When a node leaves, calls waiting on it as owner are sent again to the new owner, and the
 *   owner hands a flight whose leader left to a follower: nobody waits for a dead node.</li>
 * </ul>
 *
 * <p>Only touched on the verticle's event loop; membership changes hop there.
 */
public final class ClusterRouter {

  static final String OP = "singleflight-op";
  static final String KEY = "singleflight-key";
  static final String NODE = "singleflight-node";
  static final String TOKEN = "singleflight-token";
  static final String ROLE = "singleflight-role";
  static final String OUTCOME = "singleflight-outcome";
  static final String FAILURE_CLASS = "singleflight-failure-class";
  static final String FAILURE_MESSAGE = "singleflight-failure-message";
  static final String LEADER = "leader";
  static final String FOLLOWER = "follower";
  /** The answer of a stopping owner: ask again, the new owner once this node has left. */
  static final String RETRY = "retry";

  private static final String JOIN = "join";
  private static final String RESULT = "result";
  private static final String FORGET = "forget";
  private static final String FORGET_LOCAL = "forget-local";
  private static final String JSON = "json";
  /** How long a node waits for an owner's answer to a join: as long as a flight may run (24 days). */
  private static final long JOIN_TIMEOUT = Integer.MAX_VALUE;
  /** A node whose verticle is not listening yet (starting) is asked again, this often, this many times. */
  private static final long RETRY_DELAY = 100;
  private static final int RETRIES = 50;
  /** How often the members are read, in ms: a change is seen this long after the cluster manager saw it, at most. */
  private static final long MEMBERSHIP_POLL = 100;

  /** A call to an owner: sent again to the new owner when the old one leaves. */
  private final class RemoteCall {
    final String key;
    final Object body;
    final MultiMap headers;
    final long timeout;
    final Promise<Message<Object>> reply = Promise.promise();
    String owner;
    int attempt;

    RemoteCall(String key, Object body, MultiMap headers, long timeout) {
      this.key = key;
      this.body = body;
      this.headers = headers;
      this.timeout = timeout;
    }
  }

  /** Vert.x's internal context API: {@code inThread()}, to tell whether an outcome came on the event loop. */
  private final ContextInternal context;
  private final EventBus eventBus;
  private final String address;
  private final long maxTimeout;
  private final String nodeId;
  private final ClusterManager clusterManager;
  private final FlightMap flights;
  private final JsonProtocol jsonProtocol;
  private final FlightMetrics metrics;
  private final ClusterOwner owned;
  private final Set<RemoteCall> pending = new LinkedHashSet<>();
  private final long membershipTimer;
  private List<String> members;

  public ClusterRouter(ContextInternal context, ClusterManager clusterManager, SingleFlightOptions options,
                       FlightMap flights, JsonProtocol jsonProtocol, FlightMetrics metrics) {
    this.context = context;
    this.eventBus = context.owner().eventBus();
    this.address = options.getAddress();
    this.maxTimeout = options.getMaxTimeout();
    this.clusterManager = clusterManager;
    this.nodeId = clusterManager.getNodeId();
    this.flights = flights;
    this.jsonProtocol = jsonProtocol;
    this.metrics = metrics;
    this.owned = new ClusterOwner(metrics);
    this.members = List.copyOf(clusterManager.getNodes());
    // Polled rather than heard: a cluster manager holds a single node listener, which Vert.x HA needs.
    this.membershipTimer = context.owner().setPeriodic(MEMBERSHIP_POLL, id -> membersChanged());
  }

  /** @return the address of this node's verticle */
  public String nodeAddress() {
    return nodeAddress(nodeId);
  }

  private String nodeAddress(String node) {
    return address + ".node." + node;
  }

  private String ownerOf(String key) {
    return members.isEmpty() ? nodeId : ownerOf(key, members);
  }

  /**
   * @param members the node ids of the cluster, not empty
   * @return the node that owns {@code key}: the member with the highest rendezvous score, so that a
   * member leaving moves only its own keys
   */
  public static String ownerOf(String key, List<String> members) {
    String best = null;
    long bestScore = Long.MIN_VALUE;
    for (String node : members) {
      long score = mix(((long) key.hashCode() << 32) ^ (node.hashCode() & 0xFFFFFFFFL));
      if (best == null || score > bestScore || (score == bestScore && node.compareTo(best) < 0)) {
        best = node;
        bestScore = score;
      }
    }
    return best;
  }

  /** SplitMix64's finalizer: spreads the bits of a 64-bit value. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  // At the shared address: calls of this node's proxies, and JSON requests from anywhere.

  /**
   * Serves a proxy call of this node: it joins the node's flight of {@code key}, which asks the owner
   * before running {@code function}.
   */
  public void join(String key, Promise<Object> caller, boolean timed, long deadline, Execution function) {
    flights.join(key, caller, timed, deadline, new LeaderOrFollower(key, function));
  }

  /** Serves a proxy forget of this node: the owner has every node forget the key. */
  public void forget(String key, Promise<Object> caller) {
    if (flights.isClosed()) {
      caller.tryFail(flights.stopped());
      return;
    }
    flights.forget(key);
    call(key, FORGET, null, null).onComplete(ar -> {
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
    if (key == null || flights.isClosed()) {
      jsonProtocol.handle(message);
      return;
    }
    boolean forget = JsonProtocol.FORGET.equals(message.headers().get(JsonProtocol.ACTION_HEADER));
    if (forget) {
      flights.forget(key);
    }
    call(key, forget ? FORGET : JSON, message.body(), message.headers()).onComplete(ar -> relay(message, ar));
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
      retryElsewhere(message);
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
      case JSON -> jsonProtocol.handle(message);
      default -> message.fail(JsonProtocol.BAD_REQUEST, "unknown single-flight cluster operation");
    }
  }

  /** Has every member forget the key locally, so that no node's later caller joins the old flight. */
  private Future<?> forgetEverywhere(String key) {
    flights.forget(key);
    List<Future<?>> forgotten = new ArrayList<>();
    for (String node : members) {
      if (!node.equals(nodeId)) {
        // A member without the verticle has nothing to forget: its failure is ignored.
        forgotten.add(eventBus.request(nodeAddress(node), null,
          new DeliveryOptions().addHeader(OP, FORGET_LOCAL).addHeader(KEY, key)).recover(e -> Future.succeededFuture()));
      }
    }
    return Future.join(forgotten);
  }

  // Calls to owners.

  private Future<Message<Object>> call(String key, String op, Object body, MultiMap headers) {
    MultiMap all = MultiMap.caseInsensitiveMultiMap();
    if (headers != null) {
      all.addAll(headers);
    }
    all.set(OP, op).set(KEY, key).set(NODE, nodeId);
    // A forwarded JSON flight waits as long as its downstream request may take, with a margin; the
    // downstream timeout is capped at maxTimeout (at most Integer.MAX_VALUE), so the sum cannot overflow.
    long downstream = body instanceof JsonObject json ? JsonProtocol.downstreamTimeout(json.getValue("timeout"), maxTimeout) : 0;
    long timeout = Math.max(downstream, DeliveryOptions.DEFAULT_TIMEOUT) + DeliveryOptions.DEFAULT_TIMEOUT;
    RemoteCall call = new RemoteCall(key, body, all, timeout);
    send(call, RETRIES);
    return call.reply.future();
  }

  /** Answers a message to a stopping node: the sender asks again, the new owner once this node left. */
  public static void retryElsewhere(Message<Object> message) {
    message.reply(null, new DeliveryOptions().addHeader(ROLE, RETRY));
  }

  private void send(RemoteCall call, int retries) {
    call.owner = ownerOf(call.key);
    int attempt = ++call.attempt;
    pending.add(call);
    DeliveryOptions options = new DeliveryOptions().setHeaders(call.headers).setSendTimeout(call.timeout);
    Future<Message<Object>> sent;
    try {
      sent = eventBus.request(nodeAddress(call.owner), call.body, options);
    } catch (RuntimeException cannotSend) {
      // A body without a codec: the call fails here, and the flight waiting for it ends.
      pending.remove(call);
      call.reply.tryFail(cannotSend);
      return;
    }
    sent.onComplete(ar -> {
      if (attempt != call.attempt) {
        return;
      }
      boolean notListening = ar.failed() && ar.cause() instanceof ReplyException failure
        && failure.failureType() == ReplyFailure.NO_HANDLERS;
      boolean stopping = ar.succeeded() && RETRY.equals(ar.result().headers().get(ROLE));
      if ((notListening || stopping) && retries > 0 && !flights.isClosed()) {
        // The owner's verticle starts or stops, or its registration is still spreading: ask again soon.
        context.owner().setTimer(RETRY_DELAY, id -> {
          if (attempt == call.attempt) {
            send(call, retries - 1);
          }
        });
        return;
      }
      pending.remove(call);
      if (stopping) {
        call.reply.tryFail(new IllegalStateException("the owner of key '" + call.key + "', node " + call.owner
          + ", kept stopping; no other owner took over"));
      } else if (ar.succeeded()) {
        call.reply.tryComplete(ar.result());
      } else {
        call.reply.tryFail(ar.failed() && ar.cause() instanceof ReplyException failure && failure.failureType() == ReplyFailure.NO_HANDLERS
          ? new IllegalStateException("no SingleFlightVerticle listens at '" + address + "' on node " + call.owner
            + ", the owner of key '" + call.key + "': deploy it on every node", ar.cause())
          : ar.cause());
      }
    });
  }

  /** Reads the members; when they changed, moves what waited on a node that left. */
  private void membersChanged() {
    if (flights.isClosed()) {
      return;
    }
    List<String> now = List.copyOf(clusterManager.getNodes());
    if (now.size() == members.size() && members.containsAll(now)) {
      return;
    }
    Set<String> gone = new HashSet<>(members);
    gone.removeAll(now);
    members = now;
    owned.nodesLeft(gone);
    for (RemoteCall call : new ArrayList<>(pending)) {
      boolean ownerGone = gone.contains(call.owner);
      if ((ownerGone || !ownerOf(call.key).equals(call.owner)) && metrics != null) {
        // A new owner may run the key a second time.
        metrics.clusterMove();
      }
      if (ownerGone) {
        send(call, RETRIES);
      }
    }
  }

  /** Stops: nodes waiting on this owner ask the next one; this node's own waiters are failed by the flight map. */
  public void close() {
    context.owner().cancelTimer(membershipTimer);
    owned.close();
    pending.clear();
  }

  /**
   * The execution of a clustered proxy flight: ask the key's owner to join its flight; lead it (run
   * the function here and report the outcome) or follow the leader node.
   */
  private final class LeaderOrFollower implements Execution {
    private final String key;
    private final Execution function;

    LeaderOrFollower(String key, Execution function) {
      this.key = key;
      this.function = function;
    }

    @Override
    public Future<Object> start(FlightMap flights, Flight flight) {
      Promise<Object> outcome = Promise.promise();
      RemoteCall join = new RemoteCall(key, null,
        MultiMap.caseInsensitiveMultiMap().set(OP, JOIN).set(KEY, key).set(NODE, nodeId), JOIN_TIMEOUT);
      send(join, RETRIES);
      join.reply.future().onComplete(ar -> {
        if (ar.failed()) {
          outcome.fail(ar.cause());
        } else if (LEADER.equals(ar.result().headers().get(ROLE))) {
          String owner = join.owner;
          String token = ar.result().headers().get(TOKEN);
          Future<Object> run;
          try {
            run = function.start(flights, flight);
          } catch (Throwable t) {
            run = Future.failedFuture(t);
          }
          run.onComplete(result -> {
            if (context.inThread()) {
              finish(owner, token, result, outcome);
            } else {
              context.runOnContext(v -> finish(owner, token, result, outcome));
            }
          });
        } else {
          outcome.handle(decode(ar.result()));
        }
      });
      return outcome.future();
    }

    /**
     * Ends the led flight on the verticle's event loop, whatever thread completed the function: the
     * outcome goes to the owner first, so that the other nodes' callers are not kept waiting while
     * this node's callers are answered.
     */
    private void finish(String owner, String token, AsyncResult<Object> result, Promise<Object> outcome) {
      try {
        report(owner, token, result);
      } finally {
        outcome.handle(result);
      }
    }

    /**
     * Hands the outcome to the owner. A result that cannot cross nodes (no event-bus codec, or JSON
     * that does not encode) crosses as a failure naming its type; a report that fails on its way,
     * but for the owner being gone or stopping (the followers then ask the next owner), is followed
     * by a failure report, so that the owner's flight never waits for ever.
     */
    private void report(String owner, String token, AsyncResult<Object> result) {
      MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .set(OP, RESULT).set(KEY, key).set(NODE, nodeId).set(TOKEN, token);
      if (result.failed()) {
        sendReport(owner, null, failure(headers, result.cause()), true);
        return;
      }
      Object value = result.result();
      try {
        if (value instanceof JsonObject json) {
          json.toBuffer();
        } else if (value instanceof JsonArray json) {
          json.toBuffer();
        }
      } catch (RuntimeException notJson) {
        sendReport(owner, null, failure(headers, cannotCross(value, notJson)), true);
        return;
      }
      sendReport(owner, value, headers.set(OUTCOME, "success"), false);
    }

    private void sendReport(String owner, Object body, MultiMap headers, boolean isFailure) {
      Future<Message<Object>> sent;
      try {
        sent = eventBus.request(nodeAddress(owner), body, new DeliveryOptions().setHeaders(headers));
      } catch (RuntimeException noCodec) {
        if (!isFailure) {
          sendReport(owner, null, failure(headers, cannotCross(body, noCodec)), true);
        }
        return;
      }
      sent.onFailure(lost -> {
        boolean ownerGone = lost instanceof ReplyException reply && reply.failureType() == ReplyFailure.NO_HANDLERS;
        if (!isFailure && !ownerGone) {
          sendReport(owner, null, failure(headers, new IllegalStateException(
            "the result of key '" + key + "' could not be sent to its owner: " + lost.getMessage())), true);
        }
      });
    }

    private IllegalArgumentException cannotCross(Object value, RuntimeException cause) {
      return new IllegalArgumentException("the result of key '" + key + "', a " + value.getClass().getName()
        + ", cannot cross nodes: " + cause.getMessage());
    }
  }

  private static MultiMap failure(MultiMap headers, Throwable cause) {
    headers.set(OUTCOME, "failure").set(FAILURE_CLASS, cause.getClass().getName()).remove(FAILURE_MESSAGE);
    if (cause.getMessage() != null) {
      headers.set(FAILURE_MESSAGE, cause.getMessage());
    }
    return headers;
  }

  private static AsyncResult<Object> decode(Message<Object> reply) {
    if ("failure".equals(reply.headers().get(OUTCOME))) {
      return Future.failedFuture(new RemoteFlightException(reply.headers().get(FAILURE_CLASS), reply.headers().get(FAILURE_MESSAGE)));
    }
    return Future.succeededFuture(reply.body());
  }
}
