package dev.singleflight.impl.cluster;

import dev.singleflight.impl.FlightMap;
import dev.singleflight.impl.metrics.FlightMetrics;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.spi.cluster.ClusterManager;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import static dev.singleflight.impl.cluster.ClusterProtocol.KEY;
import static dev.singleflight.impl.cluster.ClusterProtocol.NODE;
import static dev.singleflight.impl.cluster.ClusterProtocol.OP;
import static dev.singleflight.impl.cluster.ClusterProtocol.RETRY;
import static dev.singleflight.impl.cluster.ClusterProtocol.ROLE;

/**
 * This node's view of the members, and its calls to the owners of keys. The members are read from
 * the cluster manager every {@value #MEMBERSHIP_POLL} ms; a call waiting on an owner that left is sent
 * again to the key's new owner, and a call to a node whose verticle is starting or stopping is asked
 * again, so that no call waits for a dead node.
 *
 * <p>Only touched on the verticle's event loop.
 */
final class OwnerCalls {

  /** A node whose verticle is not listening yet (starting) is asked again, this often, this many times. */
  private static final long RETRY_DELAY = 100;
  private static final int RETRIES = 50;
  /** How often the members are read, in ms: a change is seen this long after the cluster manager saw it, at most. */
  private static final long MEMBERSHIP_POLL = 100;

  /** A call to the owner of {@link #key}: sent again to the new owner when the old one leaves. */
  static final class Call {
    final String key;
    final Object body;
    final MultiMap headers;
    final long timeout;
    final Promise<Message<Object>> reply = Promise.promise();
    /** The node the call was last sent to. */
    String owner;
    /** Counts the sends: an answer to an earlier send is dropped. */
    int attempt;

    Call(String key, Object body, MultiMap headers, long timeout) {
      this.key = key;
      this.body = body;
      this.headers = headers;
      this.timeout = timeout;
    }
  }

  private final Vertx vertx;
  private final String address;
  private final String nodeId;
  private final ClusterManager clusterManager;
  private final FlightMap flights;
  private final FlightMetrics metrics;
  private final Consumer<Set<String>> nodesLeft;
  private final Set<Call> pending = new LinkedHashSet<>();
  private final long membershipTimer;
  private List<String> members;

  /**
   * @param nodesLeft told, on the event loop, which nodes left, before the calls waiting on them move
   */
  OwnerCalls(Vertx vertx, String address, ClusterManager clusterManager, FlightMap flights, FlightMetrics metrics,
             Consumer<Set<String>> nodesLeft) {
    this.vertx = vertx;
    this.address = address;
    this.clusterManager = clusterManager;
    this.nodeId = clusterManager.getNodeId();
    this.flights = flights;
    this.metrics = metrics;
    this.nodesLeft = nodesLeft;
    this.members = List.copyOf(clusterManager.getNodes());
    // Polled rather than heard: a cluster manager holds a single node listener, which Vert.x HA needs.
    this.membershipTimer = vertx.setPeriodic(MEMBERSHIP_POLL, id -> readMembers());
  }

  /** @return this node's id */
  String nodeId() {
    return nodeId;
  }

  /** @return the members of the cluster, as last read */
  List<String> members() {
    return members;
  }

  /** @return the node that owns {@code key} among the members */
  String ownerOf(String key) {
    return members.isEmpty() ? nodeId : RendezvousHash.ownerOf(key, members);
  }

  /**
   * Sends operation {@code op} of {@code key} to the key's owner.
   *
   * @param headers more headers, or {@code null}
   * @param timeout how long the owner may take to answer, in ms
   * @return the call: its {@code reply} completes with the owner's answer; it fails when the body
   * cannot be sent, or when no owner answered
   */
  Call call(String key, String op, Object body, MultiMap headers, long timeout) {
    MultiMap all = MultiMap.caseInsensitiveMultiMap();
    if (headers != null) {
      all.addAll(headers);
    }
    all.set(OP, op).set(KEY, key).set(NODE, nodeId);
    Call call = new Call(key, body, all, timeout);
    send(call, RETRIES);
    return call;
  }

  private void send(Call call, int retries) {
    call.owner = ownerOf(call.key);
    int attempt = ++call.attempt;
    pending.add(call);
    DeliveryOptions options = new DeliveryOptions().setHeaders(call.headers).setSendTimeout(call.timeout);
    Future<Message<Object>> sent;
    try {
      sent = vertx.eventBus().request(ClusterProtocol.nodeAddress(address, call.owner), call.body, options);
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
        vertx.setTimer(RETRY_DELAY, id -> {
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
      } else if (notListening) {
        call.reply.tryFail(new IllegalStateException("no SingleFlightVerticle listens at '" + address + "' on node "
          + call.owner + ", the owner of key '" + call.key + "': deploy it on every node", ar.cause()));
      } else if (ar.succeeded()) {
        call.reply.tryComplete(ar.result());
      } else {
        call.reply.tryFail(ar.cause());
      }
    });
  }

  /** Reads the members; when some left, moves the calls that waited on them. */
  private void readMembers() {
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
    nodesLeft.accept(gone);
    for (Call call : new ArrayList<>(pending)) {
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

  /** Stops reading the members and drops the calls: their flights are failed by the flight map. */
  void close() {
    vertx.cancelTimer(membershipTimer);
    pending.clear();
  }
}
