package dev.singleflight.impl.cluster;

import dev.singleflight.impl.Execution;
import dev.singleflight.impl.Flight;
import dev.singleflight.impl.FlightMap;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Set;
import java.util.concurrent.TimeoutException;

import static dev.singleflight.impl.cluster.ClusterProtocol.FLIGHT;
import static dev.singleflight.impl.cluster.ClusterProtocol.FOLLOWER;
import static dev.singleflight.impl.cluster.ClusterProtocol.GIVE_UP;
import static dev.singleflight.impl.cluster.ClusterProtocol.JOIN;
import static dev.singleflight.impl.cluster.ClusterProtocol.LEAD;
import static dev.singleflight.impl.cluster.ClusterProtocol.LEADER;
import static dev.singleflight.impl.cluster.ClusterProtocol.LOST;
import static dev.singleflight.impl.cluster.ClusterProtocol.OUTCOME;
import static dev.singleflight.impl.cluster.ClusterProtocol.RESULT;
import static dev.singleflight.impl.cluster.ClusterProtocol.ROLE;
import static dev.singleflight.impl.cluster.ClusterProtocol.SUCCESS;
import static dev.singleflight.impl.cluster.ClusterProtocol.TOKEN;
import static dev.singleflight.impl.cluster.ClusterProtocol.TRACE;
import static dev.singleflight.impl.cluster.ClusterProtocol.WAIT;
import static dev.singleflight.impl.cluster.ClusterProtocol.failure;
import static dev.singleflight.impl.cluster.ClusterProtocol.isToken;

/**
 * The execution of a clustered proxy flight on this node: join the flight of the key at its owner;
 * then lead it (run the caller's function here, tell the owner it still runs every third of
 * clusterRequestTimeout, report the outcome) or follow it (ask again whenever the owner says
 * {@code wait}, until it answers with the outcome).
 *
 * <p>A leader registers again with the new owner as soon as the members change, so that a lost owner
 * costs no second execution; it tells the owner when it gives the flight up (maxFlightTime,
 * cancelAbandoned, undeploy). A follower whose owner does not answer within clusterRequestTimeout
 * fails with a {@link TimeoutException}.
 *
 * <p>Only touched on the verticle's event loop, but for the function's outcome, brought back to it.
 */
final class LeaderOrFollower implements Execution {

  /** Vert.x's internal context API: {@code inThread()}, to tell whether an outcome came on the event loop. */
  private final ContextInternal context;
  private final OwnerCalls owners;
  private final String key;
  private final Execution function;
  private final long requestTimeout;
  /** The flights this node leads: each registers again when the members change. */
  private final Set<LeaderOrFollower> leading;
  private final Promise<Object> outcome = Promise.promise();
  /** The flight's id and, when this node leads it, the lead token: set by the owner's answers. */
  private String id;
  private String token;
  private boolean leads;
  /** The owner handed the lead to another node: this one no longer reports. */
  private boolean lost;
  /** The flight ended here without its outcome: nothing more is sent but the give-up. */
  private boolean abandoned;
  private long renewTimer = -1;
  /** The last renewal: cancelled when the lead ends, so that no renewal reaches the owner after the report. */
  private OwnerCalls.Call renewal;
  /** The {@code traceparent} of this node's execution span when it leads and is traced, else {@code null}. */
  private String trace;

  LeaderOrFollower(ContextInternal context, OwnerCalls owners, String key, Execution function, long requestTimeout,
                   Set<LeaderOrFollower> leading) {
    this.context = context;
    this.owners = owners;
    this.key = key;
    this.function = function;
    this.requestTimeout = requestTimeout;
    this.leading = leading;
  }

  @Override
  public Future<Object> start(FlightMap flights, Flight flight) {
    flight.onAbandoned(this::giveUp);
    join(flights, flight);
    return outcome.future();
  }

  private void join(FlightMap flights, Flight flight) {
    MultiMap headers = id == null ? null : MultiMap.caseInsensitiveMultiMap().set(FLIGHT, id);
    owners.call(key, JOIN, null, headers).reply.future().onComplete(ar -> {
      if (abandoned) {
        return;
      }
      if (ar.failed()) {
        outcome.tryFail(ar.cause());
        return;
      }
      MultiMap answer = ar.result().headers();
      String role = answer.get(ROLE);
      if (LEADER.equals(role) && isToken(answer.get(FLIGHT)) && isToken(answer.get(TOKEN))) {
        id = answer.get(FLIGHT);
        token = answer.get(TOKEN);
        lead(flights, flight);
      } else if (WAIT.equals(role) && isToken(answer.get(FLIGHT))) {
        id = answer.get(FLIGHT);
        join(flights, flight);
      } else if (FOLLOWER.equals(role) && ClusterProtocol.malformedOutcome(answer) == null) {
        flight.followed();
        if (flight.span() != null) {
          flight.span().ranOnAnotherNode(answer.get(TRACE));
        }
        settle(ClusterProtocol.decode(ar.result()));
      } else {
        outcome.tryFail(new IllegalStateException("the owner of key '" + key + "' answered a join with a malformed message: "
          + answer));
      }
    });
  }

  private void lead(FlightMap flights, Flight flight) {
    leads = true;
    leading.add(this);
    renewTimer = context.owner().setPeriodic(Math.max(1, requestTimeout / 3), t -> renew());
    trace = flight.span() == null ? null : flight.span().traceParent();
    Future<Object> run;
    try {
      run = function.start(flights, flight);
    } catch (Throwable t) {
      run = Future.failedFuture(t);
    }
    run.onComplete(result -> {
      if (context.inThread()) {
        finish(result);
      } else {
        context.runOnContext(v -> finish(result));
      }
    });
  }

  /**
   * Tells the key's owner, as this node now sees it, that this node still leads the flight: a new
   * owner adopts it. A renewal that fails is tried again at the next period; one answered
   * {@code lost} ends the lead (another node leads now).
   */
  void renew() {
    if (!leads) {
      return;
    }
    if (renewal != null) {
      renewal.cancel();
    }
    renewal = owners.call(key, LEAD, null, leaderHeaders());
    renewal.reply.future().onSuccess(answer -> {
      if (leads && LOST.equals(answer.headers().get(ROLE))) {
        lost = true;
        stopLeading();
      }
    });
  }

  /**
   * Ends the led flight on the verticle's event loop, whatever thread completed the function: the
   * outcome goes to the owner first, and this node's callers get it once the owner has taken it (or
   * could not), so that a call made on any node after a caller got the outcome never joins the ended
   * flight at the owner: on a cluster manager whose event bus delivers the leader's report after
   * another node's join (Infinispan), it did.
   */
  private void finish(AsyncResult<Object> result) {
    boolean reports = leads && !lost && !abandoned;
    stopLeading();
    if (!reports) {
      settle(result);
      return;
    }
    Future<?> reported;
    try {
      reported = report(result);
    } catch (RuntimeException e) {
      settle(result);
      throw e;
    }
    reported.onComplete(ar -> settle(result));
  }

  private void settle(AsyncResult<Object> result) {
    if (result.succeeded()) {
      outcome.tryComplete(result.result());
    } else {
      outcome.tryFail(result.cause());
    }
  }

  /** The flight ended here without its outcome: a leader tells the owner, which hands the lead on. */
  private void giveUp() {
    abandoned = true;
    if (leads) {
      stopLeading();
      if (!lost) {
        owners.call(key, GIVE_UP, null, leaderHeaders());
      }
    }
  }

  private void stopLeading() {
    leads = false;
    leading.remove(this);
    context.owner().cancelTimer(renewTimer);
    if (renewal != null) {
      renewal.cancel();
    }
  }

  private MultiMap leaderHeaders() {
    return MultiMap.caseInsensitiveMultiMap().set(FLIGHT, id).set(TOKEN, token);
  }

  /**
   * Hands the outcome to the owner. A result that cannot cross nodes (no event-bus codec, or JSON
   * that does not encode) crosses as a failure naming its type, so that the owner's flight never
   * waits for ever. When this node traces, the report carries its execution span's
   * {@code traceparent}, which the owner passes on to the followers.
   */
  private Future<?> report(AsyncResult<Object> result) {
    MultiMap headers = leaderHeaders();
    if (trace != null) {
      headers.set(TRACE, trace);
    }
    if (result.failed()) {
      return sendReport(null, failure(headers, result.cause()), true);
    }
    Object value = result.result();
    try {
      if (value instanceof JsonObject json) {
        json.toBuffer();
      } else if (value instanceof JsonArray json) {
        json.toBuffer();
      }
    } catch (RuntimeException notJson) {
      return sendReport(null, failure(headers, cannotCross(value, notJson)), true);
    }
    return sendReport(value, headers.set(OUTCOME, SUCCESS), false);
  }

  /** @return a Future completed once the owner answered the report, or it failed */
  private Future<?> sendReport(Object body, MultiMap headers, boolean isFailure) {
    Future<Message<Object>> sent = owners.call(key, RESULT, body, headers).reply.future();
    return sent.recover(lost -> {
      // The owner refused it, did not answer in time, or no owner listened: its followers ask again.
      // Anything else happened on the way: the value cannot cross nodes.
      if (!isFailure && !(lost instanceof ReplyException) && !(lost instanceof TimeoutException)
        && !(lost instanceof IllegalStateException)) {
        return sendReport(null, failure(leaderHeaders(), cannotCross(body, lost)), true).mapEmpty();
      }
      return Future.succeededFuture();
    });
  }

  private IllegalArgumentException cannotCross(Object value, Throwable cause) {
    return new IllegalArgumentException("the result of key '" + key + "', a " + value.getClass().getName()
      + ", cannot cross nodes: " + cause.getMessage());
  }
}
