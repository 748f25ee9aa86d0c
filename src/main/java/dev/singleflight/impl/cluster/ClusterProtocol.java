package dev.singleflight.impl.cluster;

import dev.singleflight.RemoteFlightException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

/**
 * The names of the cluster's wire protocol between the verticles of the nodes: headers, operations,
 * roles; and the encoding of an outcome. The table of operations is in this package's
 * {@code package-info}.
 */
final class ClusterProtocol {

  /** The operation of a message to a node address: one of {@link #JOIN} ... {@link #JSON}. */
  static final String OP = "singleflight-op";
  static final String KEY = "singleflight-key";
  /** The node id of the sender. */
  static final String NODE = "singleflight-node";
  /** The owner's number of one clustered flight, which its leader reports with. */
  static final String TOKEN = "singleflight-token";
  /** In a reply to a join: {@link #LEADER} or {@link #FOLLOWER}; or {@link #RETRY} from a stopping node. */
  static final String ROLE = "singleflight-role";
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
  static final String RESULT = "result";
  static final String FORGET = "forget";
  static final String FORGET_LOCAL = "forget-local";
  static final String JSON = "json";

  static final String LEADER = "leader";
  static final String FOLLOWER = "follower";
  /** The answer of a stopping node: ask again, the new owner once this node has left. */
  static final String RETRY = "retry";

  private ClusterProtocol() {
  }

  /** @return the address of the verticle at {@code address} on node {@code node} */
  static String nodeAddress(String address, String node) {
    return address + ".node." + node;
  }

  /** Answers a message to a stopping node: the sender asks again, the new owner once this node left. */
  static void retryElsewhere(Message<Object> message) {
    message.reply(null, new DeliveryOptions().addHeader(ROLE, RETRY));
  }

  /** Sets {@code headers} to carry {@code cause} as a failure: its class name and message. */
  static MultiMap failure(MultiMap headers, Throwable cause) {
    headers.set(OUTCOME, "failure").set(FAILURE_CLASS, cause.getClass().getName()).remove(FAILURE_MESSAGE);
    if (cause.getMessage() != null) {
      headers.set(FAILURE_MESSAGE, cause.getMessage());
    }
    return headers;
  }

  /** @return the outcome an owner's answer carries: its body, or a {@link RemoteFlightException} */
  static AsyncResult<Object> decode(Message<Object> reply) {
    if ("failure".equals(reply.headers().get(OUTCOME))) {
      return Future.failedFuture(new RemoteFlightException(reply.headers().get(FAILURE_CLASS), reply.headers().get(FAILURE_MESSAGE)));
    }
    return Future.succeededFuture(reply.body());
  }
}
