package dev.singleflight.impl.cluster;

import dev.singleflight.impl.FlightMap;
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
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import static dev.singleflight.impl.cluster.ClusterProtocol.BYE;
import static dev.singleflight.impl.cluster.ClusterProtocol.HELLO;
import static dev.singleflight.impl.cluster.ClusterProtocol.KEY;
import static dev.singleflight.impl.cluster.ClusterProtocol.MOVED;
import static dev.singleflight.impl.cluster.ClusterProtocol.NODE;
import static dev.singleflight.impl.cluster.ClusterProtocol.OP;
import static dev.singleflight.impl.cluster.ClusterProtocol.RETRY;
import static dev.singleflight.impl.cluster.ClusterProtocol.ROLE;

/**
 * This node's view of the serving members, and its calls to the owners of keys.
 *
 * <p>The serving members are the nodes whose verticle at this address said {@code hello} (at its
 * start, to every node; this node says it to the nodes it has not heard from, every
 * {@value #ANNOUNCE_PERIOD} ms) and not {@code bye} (at its stop), among the members the cluster
 * manager lists, read every {@value #MEMBERSHIP_POLL} ms: a node that dies leaves the view when the
 * cluster manager drops it, a node whose verticle is undeployed when it says so, and a member without
 * the verticle never owns a key. Nothing takes the cluster manager's node listener, which Vert.x HA needs.
 *
 * <p>A call waiting on an owner that left is sent again to the key's new owner, and a call to a node
 * whose verticle is starting or stopping, or that does not own the key in its own view, is asked
 * again, so that no call waits for a dead node. Every call is bounded by {@code clusterRequestTimeout}.
 *
 * <p>Only touched on the verticle's event loop.
 */
final class OwnerCalls {

  /** A node whose verticle is not listening yet (starting) is asked again, this often, this many times. */
  private static final long RETRY_DELAY = 100;
  private static final int RETRIES = 50;
  /** How often the members are read, in ms: a change is seen this long after the cluster manager saw it, at most. */
  private static final long MEMBERSHIP_POLL = 100;
  /** How often this node says hello to the members it has not heard from, in ms. */
  private static final long ANNOUNCE_PERIOD = 1_000;

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
    /** Set by {@link #cancel()}: the call is not sent again. */
    boolean cancelled;

    Call(String key, Object body, MultiMap headers, long timeout) {
      this.key = key;
      this.body = body;
      this.headers = headers;
      this.timeout = timeout;
    }

    /** Sends the call no more (not to a next owner, not after a {@code retry}); an answer already on its way still comes. */
    void cancel() {
      cancelled = true;
    }
  }

  private final Vertx vertx;
  private final String address;
  private final String nodeId;
  private final ClusterManager clusterManager;
  private final FlightMap flights;
  private final long requestTimeout;
  private final Consumer<Set<String>> membersChanged;
  private final Set<Call> pending = new LinkedHashSet<>();
  /** The nodes whose verticle said hello and not bye; this node included. */
  private final Set<String> announced = new LinkedHashSet<>();
  private long membershipTimer = -1;
  private long announceTimer = -1;
  private List<String> members;
  /** The members before the last change, and when it was seen ({@link System#nanoTime()}). */
  private List<String> previousMembers;
  private long changedAt;

  /**
   * @param requestTimeout clusterRequestTimeout, in ms
   * @param membersChanged told, on the event loop, which nodes left the view when it changed, before
   *                       the calls waiting on them move
   */
  OwnerCalls(Vertx vertx, String address, ClusterManager clusterManager, FlightMap flights, long requestTimeout,
             Consumer<Set<String>> membersChanged) {
    this.vertx = vertx;
    this.address = address;
    this.clusterManager = clusterManager;
    this.nodeId = clusterManager.getNodeId();
    this.flights = flights;
    this.requestTimeout = requestTimeout;
    this.membersChanged = membersChanged;
    announced.add(nodeId);
    this.members = List.of(nodeId);
    this.previousMembers = members;
    this.changedAt = System.nanoTime() - requestTimeout * 1_000_000;
  }

  /**
   * Says hello to every member, once this node's verticle listens at its node address; those whose
   * verticle answers are the serving members. Then reads the members every {@value #MEMBERSHIP_POLL} ms.
   *
   * @return a Future completed when every member answered or failed to
   */
  Future<Void> start() {
    List<Future<?>> hellos = new ArrayList<>();
    List<String> listed = listedNodes();
    for (String node : listed == null ? List.<String>of() : listed) {
      if (!node.equals(nodeId)) {
        hellos.add(hello(node));
      }
    }
    return Future.join(hellos).transform(ar -> {
      readMembers();
      // Before this node joined, the others owned every key: a key this node now owns may be in flight there.
      List<String> others = new ArrayList<>(members);
      others.remove(nodeId);
      previousMembers = List.copyOf(others);
      membershipTimer = vertx.setPeriodic(MEMBERSHIP_POLL, id -> readMembers());
      announceTimer = vertx.setPeriodic(ANNOUNCE_PERIOD, id -> helloToTheSilent());
      return Future.<Void>succeededFuture();
    });
  }

  private Future<?> hello(String node) {
    return vertx.eventBus().request(ClusterProtocol.nodeAddress(address, node), null,
        new DeliveryOptions().addHeader(OP, HELLO).addHeader(NODE, nodeId).setSendTimeout(requestTimeout))
      .onSuccess(reply -> announced.add(node));
  }

  private void helloToTheSilent() {
    List<String> listed = listedNodes();
    if (flights.isClosed() || listed == null) {
      return;
    }
    for (String node : listed) {
      if (!announced.contains(node)) {
        hello(node);
      }
    }
  }

  /**
   * A node's verticle said hello (it serves) or bye (it stops). A node this one did not know hears
   * hello back, so that a node that started after it learns of it too.
   */
  void heard(String op, String node) {
    if (HELLO.equals(op)) {
      if (announced.add(node)) {
        readMembers();
      }
    } else if (BYE.equals(op) && !node.equals(nodeId) && announced.remove(node)) {
      readMembers();
    }
  }

  /** @return this node's id */
  String nodeId() {
    return nodeId;
  }

  /** @return the serving members, as last read */
  List<String> members() {
    return members;
  }

  /** @return whether {@code node} is a serving member, as last read */
  boolean isMember(String node) {
    return members.contains(node);
  }

  /** @return the node that owns {@code key} among the serving members */
  String ownerOf(String key) {
    return RendezvousHash.ownerOf(key, members);
  }

  /**
   * @return the node that owned {@code key} before the last change of the members, if that change
   * is less than clusterRequestTimeout old and it is not this node (it may have left); else {@code null}
   */
  String recentPreviousOwnerOf(String key) {
    if (System.nanoTime() - changedAt > requestTimeout * 1_000_000 || previousMembers.isEmpty()) {
      return null;
    }
    String previous = RendezvousHash.ownerOf(key, previousMembers);
    return previous.equals(nodeId) ? null : previous;
  }

  /**
   * Sends operation {@code op} of {@code key} to the key's owner, waiting at most clusterRequestTimeout.
   *
   * @param headers more headers, or {@code null}
   * @return the call: its {@code reply} completes with the owner's answer; it fails when the body
   * cannot be sent, when no owner answered, or with a {@link TimeoutException} when the owner did not
   * answer in time
   */
  Call call(String key, String op, Object body, MultiMap headers) {
    return call(key, op, body, headers, requestTimeout);
  }

  /** Like {@link #call(String, String, Object, MultiMap)}, waiting at most {@code timeout} ms. */
  Call call(String key, String op, Object body, MultiMap headers, long timeout) {
    MultiMap all = MultiMap.caseInsensitiveMultiMap();
    if (headers != null) {
      all.addAll(headers);
    }
    // A JSON request's own headers come from its requester: only this node marks a call as moved.
    all.remove(MOVED);
    all.set(OP, op).set(KEY, key).set(NODE, nodeId);
    Call call = new Call(key, body, all, timeout);
    send(call, RETRIES);
    return call;
  }

  /** Sends {@code op} of {@code key} to {@code node}, waiting at most clusterRequestTimeout, not followed further. */
  Future<Message<Object>> tell(String node, String key, String op, MultiMap headers) {
    DeliveryOptions options = new DeliveryOptions().setHeaders(MultiMap.caseInsensitiveMultiMap().addAll(headers)
      .set(OP, op).set(KEY, key).set(NODE, nodeId)).setSendTimeout(requestTimeout);
    return vertx.eventBus().request(ClusterProtocol.nodeAddress(address, node), null, options);
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
      boolean retry = ar.succeeded() && RETRY.equals(ar.result().headers().get(ROLE));
      if ((notListening || retry) && retries > 0 && !flights.isClosed()) {
        // The owner's verticle starts or stops, or the views of the members differ for a moment: ask again soon.
        vertx.setTimer(RETRY_DELAY, id -> {
          if (attempt == call.attempt && !call.cancelled) {
            send(call, retries - 1);
          }
        });
        return;
      }
      pending.remove(call);
      if (retry) {
        call.reply.tryFail(new IllegalStateException("the owner of key '" + call.key + "', node " + call.owner
          + ", kept asking to ask again (stopping, or the members' views differ); no other owner took over"));
      } else if (notListening) {
        call.reply.tryFail(new IllegalStateException("no SingleFlightVerticle listens at '" + address + "' on node "
          + call.owner + ", the owner of key '" + call.key + "'", ar.cause()));
      } else if (ar.failed() && ar.cause() instanceof ReplyException failure && failure.failureType() == ReplyFailure.TIMEOUT) {
        call.reply.tryFail(new TimeoutException("the owner of key '" + call.key + "', node " + call.owner
          + ", did not answer within " + call.timeout + " ms (clusterRequestTimeout)"));
      } else if (ar.succeeded()) {
        call.reply.tryComplete(ar.result());
      } else {
        call.reply.tryFail(ar.cause());
      }
    });
  }

  /** Reads the members; when they changed, tells {@link #membersChanged} and moves the calls that waited on nodes gone. */
  private void readMembers() {
    List<String> listed = listedNodes();
    if (flights.isClosed() || listed == null) {
      return;
    }
    List<String> now = new ArrayList<>();
    for (String node : announced) {
      if (node.equals(nodeId) || listed.contains(node)) {
        now.add(node);
      }
    }
    announced.retainAll(now);
    if (now.equals(members)) {
      return;
    }
    Set<String> gone = new HashSet<>(members);
    gone.removeAll(now);
    previousMembers = members;
    members = List.copyOf(now);
    changedAt = System.nanoTime();
    membersChanged.accept(gone);
    for (Call call : new ArrayList<>(pending)) {
      if (gone.contains(call.owner) && !call.cancelled) {
        call.headers.set(MOVED, "true");
        send(call, RETRIES);
      }
    }
  }

  /**
   * @return the members the cluster manager lists, or {@code null} when it has left the cluster
   * (this node was cut off, or is being killed): the view then stays as it was
   */
  private List<String> listedNodes() {
    if (!clusterManager.isActive()) {
      return null;
    }
    try {
      return clusterManager.getNodes();
    } catch (RuntimeException leaving) {
      return null;
    }
  }

  /** Stops reading the members, says bye to them, and drops the calls: their flights are failed by the flight map. */
  void close() {
    vertx.cancelTimer(membershipTimer);
    vertx.cancelTimer(announceTimer);
    pending.clear();
    for (String node : members) {
      if (!node.equals(nodeId)) {
        try {
          vertx.eventBus().request(ClusterProtocol.nodeAddress(address, node), null,
            new DeliveryOptions().addHeader(OP, BYE).addHeader(NODE, nodeId).setSendTimeout(requestTimeout));
        } catch (RuntimeException left) {
          // This node's cluster manager left already (Vert.x HA simulating a kill does that while the
          // verticle runs): sends throw at once. The others see this node leave the cluster instead, and
          // the stop goes on, to fail this node's waiters.
          return;
        }
      }
    }
  }
}
