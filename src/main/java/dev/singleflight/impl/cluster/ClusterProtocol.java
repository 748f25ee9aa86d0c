package dev.singleflight.impl.cluster;

import dev.singleflight.RemoteFlightException;
import dev.singleflight.impl.json.JsonProtocol;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

import java.util.UUID;

/**
 * The names of the cluster's wire protocol between the verticles of the nodes: addresses, headers,
 * operations, roles; the flight tokens; and the encoding of an outcome. The table of operations is in
 * this package's {@code package-info}.
 */
final class ClusterProtocol {

  /**
   * The prefix of every internal address: it does not start with the public address, so a bridge rule
   * that lets clients reach the verticle (say {@code singleflight\..*}) cannot match it.
   */
  static final String INTERNAL_PREFIX = JsonProtocol.INTERNAL_PREFIX;

  /** The operation of a message to a node address: one of {@link #JOIN} ... {@link #BYE}. */
  static final String OP = "singleflight-op";
  static final String KEY = "singleflight-key";
  /** The node id of the sender. */
  static final String NODE = "singleflight-node";
  /** The id of one clustered flight, which its followers ask again with: a random UUID. */
  static final String FLIGHT = "singleflight-flight";
  /** The secret of the node granted the lead of a flight, which it reports with: a random UUID only it is told. */
  static final String TOKEN = "singleflight-token";
  /** In a handover answer: the node leading the flight handed over, if any. */
  static final String LEADER_NODE = "singleflight-leader";
  /** In a reply: {@link #LEADER}, {@link #FOLLOWER}, {@link #WAIT}, {@link #LOST}; or {@link #RETRY}. */
  static final String ROLE = "singleflight-role";
  /** Set on a JSON request sent again to a new owner, after its owner left. */
  static final String MOVED = "singleflight-moved";
  /** {@code success} or {@code failure}, in a result and in the owner's answer to followers. */
  static final String OUTCOME = "singleflight-outcome";
  static final String FAILURE_CLASS = "singleflight-failure-class";
  static final String FAILURE_MESSAGE = "singleflight-failure-message";
  /**
   * In a result and in the owner's answer to followers, when the leader node traces: the W3C
   * {@code traceparent} of its execution span, which the followers' spans link to.
   */
  static final String TRACE = "singleflight-trace";

  static final String JOIN = "join";
  static final String LEAD = "lead";
  static final String RESULT = "result";
  static final String GIVE_UP = "give-up";
  static final String HANDOVER = "handover";
  static final String FORGET = "forget";
  static final String FORGET_LOCAL = "forget-local";
  static final String JSON = "json";
  static final String HELLO = "hello";
  static final String BYE = "bye";

  static final String LEADER = "leader";
  static final String FOLLOWER = "follower";
  /** The flight still runs: ask again, with its token. */
  static final String WAIT = "wait";
  /** To a leader: the owner no longer holds its flight (it was handed to another node, or ended). */
  static final String LOST = "lost";
  /** Ask again soon, the owner as you then see it: the node is stopping, or does not own the key. */
  static final String RETRY = "retry";

  static final String SUCCESS = "success";
  static final String FAILURE = "failure";

  /** A message that does not follow this protocol: answered with this code, and nothing changes. */
  static final int BAD_REQUEST = 400;
  /** A message about a flight from a node that does not lead it: answered with this code, and nothing changes. */
  static final int FORBIDDEN = 403;
  /** A message about a flight this owner does not hold (any more): answered with this code. */
  static final int CONFLICT = 409;

  private ClusterProtocol() {
  }

  /** @return the address of the verticle at {@code address} on node {@code node} */
  static String nodeAddress(String address, String node) {
    return INTERNAL_PREFIX + address + ".node." + node;
  }

  /** @return the address every node's verticle at {@code address} listens at, where they announce themselves */
  static String membersAddress(String address) {
    return INTERNAL_PREFIX + address + ".members";
  }

  /** @return a new unguessable flight id or lead token: a random (version 4) UUID, 122 bits from {@link java.security.SecureRandom} */
  static String newToken() {
    return UUID.randomUUID().toString();
  }

  /** @return whether {@code token} is a token as {@link #newToken()} makes them */
  static boolean isToken(String token) {
    if (token == null || token.length() != 36) {
      return false;
    }
    try {
      return UUID.fromString(token).version() == 4;
    } catch (IllegalArgumentException notUuid) {
      return false;
    }
  }

  /** Answers a message to a stopping node, or to one that does not own the key: the sender asks again. */
  static void retryElsewhere(Message<Object> message) {
    message.reply(null, new DeliveryOptions().addHeader(ROLE, RETRY));
  }

  /** Sets {@code headers} to carry {@code cause} as a failure: its class name and message. */
  static MultiMap failure(MultiMap headers, Throwable cause) {
    headers.set(OUTCOME, FAILURE).set(FAILURE_CLASS, cause.getClass().getName()).remove(FAILURE_MESSAGE);
    if (cause.getMessage() != null) {
      headers.set(FAILURE_MESSAGE, cause.getMessage());
    }
    return headers;
  }

  /** @return why the outcome headers of a result are malformed, or {@code null} when they are well formed */
  static String malformedOutcome(MultiMap headers) {
    String outcome = headers.get(OUTCOME);
    if (SUCCESS.equals(outcome)) {
      return null;
    }
    if (!FAILURE.equals(outcome)) {
      return OUTCOME + " must be '" + SUCCESS + "' or '" + FAILURE + "', was " + outcome;
    }
    String failureClass = headers.get(FAILURE_CLASS);
    return failureClass == null || failureClass.isEmpty() ? "a failure needs " + FAILURE_CLASS : null;
  }

  /** @return the outcome an owner's answer carries: its body, or a {@link RemoteFlightException} */
  static AsyncResult<Object> decode(Message<Object> reply) {
    if (FAILURE.equals(reply.headers().get(OUTCOME))) {
      return Future.failedFuture(new RemoteFlightException(reply.headers().get(FAILURE_CLASS), reply.headers().get(FAILURE_MESSAGE)));
    }
    return Future.succeededFuture(reply.body());
  }
}
