package dev.singleflight.impl.cluster;

import dev.singleflight.impl.Execution;
import dev.singleflight.impl.Flight;
import dev.singleflight.impl.FlightMap;
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

import static dev.singleflight.impl.cluster.ClusterProtocol.JOIN;
import static dev.singleflight.impl.cluster.ClusterProtocol.KEY;
import static dev.singleflight.impl.cluster.ClusterProtocol.LEADER;
import static dev.singleflight.impl.cluster.ClusterProtocol.NODE;
import static dev.singleflight.impl.cluster.ClusterProtocol.OP;
import static dev.singleflight.impl.cluster.ClusterProtocol.OUTCOME;
import static dev.singleflight.impl.cluster.ClusterProtocol.RESULT;
import static dev.singleflight.impl.cluster.ClusterProtocol.ROLE;
import static dev.singleflight.impl.cluster.ClusterProtocol.TOKEN;
import static dev.singleflight.impl.cluster.ClusterProtocol.TRACE;
import static dev.singleflight.impl.cluster.ClusterProtocol.failure;

/**
 * The execution of a clustered proxy flight on this node: join the flight of the key at its owner;
 * then lead it (run the caller's function here and report the outcome to the owner) or follow the
 * leader node (take the outcome the owner answers with).
 */
final class LeaderOrFollower implements Execution {

  /** How long a node waits for an owner's answer to a join: as long as a flight may run (24 days). */
  private static final long JOIN_TIMEOUT = Integer.MAX_VALUE;

  /** Vert.x's internal context API: {@code inThread()}, to tell whether an outcome came on the event loop. */
  private final ContextInternal context;
  private final OwnerCalls owners;
  private final String address;
  private final String key;
  private final Execution function;

  LeaderOrFollower(ContextInternal context, OwnerCalls owners, String address, String key, Execution function) {
    this.context = context;
    this.owners = owners;
    this.address = address;
    this.key = key;
    this.function = function;
  }

  @Override
  public Future<Object> start(FlightMap flights, Flight flight) {
    Promise<Object> outcome = Promise.promise();
    OwnerCalls.Call join = owners.call(key, JOIN, null, null, JOIN_TIMEOUT);
    join.reply.future().onComplete(ar -> {
      if (ar.failed()) {
        outcome.fail(ar.cause());
      } else if (LEADER.equals(ar.result().headers().get(ROLE))) {
        lead(flights, flight, join.owner, ar.result().headers().get(TOKEN), outcome);
      } else {
        flight.followed();
        if (flight.span() != null) {
          flight.span().ranOnAnotherNode(ar.result().headers().get(TRACE));
        }
        outcome.handle(ClusterProtocol.decode(ar.result()));
      }
    });
    return outcome.future();
  }

  private void lead(FlightMap flights, Flight flight, String owner, String token, Promise<Object> outcome) {
    Future<Object> run;
    try {
      run = function.start(flights, flight);
    } catch (Throwable t) {
      run = Future.failedFuture(t);
    }
    String trace = flight.span() == null ? null : flight.span().traceParent();
    run.onComplete(result -> {
      if (context.inThread()) {
        finish(owner, token, trace, result, outcome);
      } else {
        context.runOnContext(v -> finish(owner, token, trace, result, outcome));
      }
    });
  }

  /**
   * Ends the led flight on the verticle's event loop, whatever thread completed the function: the
   * outcome goes to the owner first, so that the other nodes' callers are not kept waiting while this
   * node's callers are answered.
   */
  private void finish(String owner, String token, String trace, AsyncResult<Object> result, Promise<Object> outcome) {
    try {
      report(owner, token, trace, result);
    } finally {
      outcome.handle(result);
    }
  }

  /**
   * Hands the outcome to the owner. A result that cannot cross nodes (no event-bus codec, or JSON
   * that does not encode) crosses as a failure naming its type; a report that fails on its way, but
   * for the owner being gone or stopping (the followers then ask the next owner), is followed by a
   * failure report, so that the owner's flight never waits for ever.
   *
   * @param trace the {@code traceparent} of this node's execution span, or {@code null} when it is not traced
   */
  private void report(String owner, String token, String trace, AsyncResult<Object> result) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
      .set(OP, RESULT).set(KEY, key).set(NODE, owners.nodeId()).set(TOKEN, token);
    if (trace != null) {
      headers.set(TRACE, trace);
    }
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
    EventBus eventBus = context.owner().eventBus();
    Future<Message<Object>> sent;
    try {
      sent = eventBus.request(ClusterProtocol.nodeAddress(address, owner), body, new DeliveryOptions().setHeaders(headers));
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
