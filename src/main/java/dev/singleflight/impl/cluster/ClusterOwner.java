package dev.singleflight.impl.cluster;

import dev.singleflight.impl.metrics.FlightMetrics;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.singleflight.impl.cluster.ClusterProtocol.CONFLICT;
import static dev.singleflight.impl.cluster.ClusterProtocol.FAILURE_CLASS;
import static dev.singleflight.impl.cluster.ClusterProtocol.FAILURE_MESSAGE;
import static dev.singleflight.impl.cluster.ClusterProtocol.FLIGHT;
import static dev.singleflight.impl.cluster.ClusterProtocol.FOLLOWER;
import static dev.singleflight.impl.cluster.ClusterProtocol.FORBIDDEN;
import static dev.singleflight.impl.cluster.ClusterProtocol.HANDOVER;
import static dev.singleflight.impl.cluster.ClusterProtocol.LEADER;
import static dev.singleflight.impl.cluster.ClusterProtocol.LEADER_NODE;
import static dev.singleflight.impl.cluster.ClusterProtocol.LOST;
import static dev.singleflight.impl.cluster.ClusterProtocol.OUTCOME;
import static dev.singleflight.impl.cluster.ClusterProtocol.ROLE;
import static dev.singleflight.impl.cluster.ClusterProtocol.TOKEN;
import static dev.singleflight.impl.cluster.ClusterProtocol.WAIT;

/**
 * The owner's side of clustered proxy flights: for each key this node owns, the flight running for
 * it, the node granted its lead, and the nodes following it.
 *
 * <p>Each flight has an id, which its followers are told and ask again with, and the lead token, a
 * secret told only to the node granted the lead: a result, a renewal or a give-up counts only when it
 * names the flight's key, its id, its lead token and its leader. Every flight is bounded: a follower's
 * join is answered within half of clusterRequestTimeout ({@code wait}: ask again); a leader that has
 * not said it still runs for clusterRequestTimeout, that left the cluster, or that gave its flight up
 * loses the lead, which the next follower takes (a second execution, counted in
 * {@code singleflight.cluster.moves}, once).
 *
 * <p>When the members change, a flight of a key this node no longer owns is released: its followers
 * ask again at the new owner, which learns the flight from its leader's renewal, from the followers,
 * or by asking this node ({@code handover}) before it grants a fresh lead of a key it just got.
 *
 * <p>Only touched on the verticle's event loop.
 */
final class ClusterOwner {

  /** A follower's join held until the outcome, or until it is told to ask again. */
  private record Held(Message<Object> join, String node, long since) {
  }

  /** One clustered flight this node owns. */
  private static final class OwnedFlight {
    final String key;
    final String id;
    /** The node leading it, or {@code null}: none now. */
    String leader;
    /** The leader's secret, or {@code null} while there is no leader. */
    String token;
    /** With no leader: whether one is expected to register (the flight came from another owner). */
    boolean awaitingLeader;
    /** When the leader last said it runs, or when the flight lost its leader ({@link System#nanoTime()}). */
    long heard;
    /** The leader and its secret before it lost the lead, while no other node took it. */
    String lostLeader;
    String lostToken;
    /** Followers told to ask again whose next join has not come yet: the outcome is kept for them. */
    int askedAgain;
    /** Whether it came from another owner, whose followers may still be on their way here: its outcome is kept. */
    boolean adopted;
    /** Whether a node led it already: a next lead is a second execution. */
    boolean led;
    final List<Held> followers = new ArrayList<>();

    OwnedFlight(String key, String id) {
      this.key = key;
      this.id = id;
    }
  }

  /** The outcome of a flight that ended, for the followers that ask again after it ended. */
  private record Ended(String key, Object body, MultiMap headers, long at) {
  }

  /** A flight released to another owner: what this node tells the new owner when it asks. */
  private record Released(String id, String leader, String token, long at) {
  }

  /** The longest a fresh join of a key whose owner just left waits for the key's leader to register, in ms. */
  private static final long HANDOVER_GRACE = 500;

  private final Vertx vertx;
  private final OwnerCalls owners;
  private final FlightMetrics metrics;
  private final long timeoutNanos;
  private final long sweepTimer;
  private final Map<String, OwnedFlight> byKey = new HashMap<>();
  /** Every flight still running, forgotten ones included. */
  private final Map<String, OwnedFlight> byId = new HashMap<>();
  private final Map<String, Ended> ended = new HashMap<>();
  /** Flights released to another owner lately, by key: what a handover answers. */
  private final Map<String, Released> released = new HashMap<>();
  /** Fresh joins of a key this node just got, waiting for the previous owner's answer to a handover. */
  private final Map<String, List<Message<Object>>> handingOver = new HashMap<>();
  /** Keys forgotten lately, and when ({@link System#nanoTime()}): a flight from another owner, older, is not theirs. */
  private final Map<String, Long> forgotten = new HashMap<>();

  /** @param requestTimeout clusterRequestTimeout, in ms */
  ClusterOwner(Vertx vertx, OwnerCalls owners, FlightMetrics metrics, long requestTimeout) {
    this.vertx = vertx;
    this.owners = owners;
    this.metrics = metrics;
    this.timeoutNanos = requestTimeout * 1_000_000;
    this.sweepTimer = vertx.setPeriodic(Math.max(1, requestTimeout / 4), id -> sweep());
  }

  private boolean owns(String key) {
    return owners.ownerOf(key).equals(owners.nodeId());
  }

  /**
   * A node joins the flight of a key: with no flight id, a fresh join (the first one leads); with
   * one, a follower asking again.
   */
  void join(Message<Object> join, String key, String node, String id) {
    if (!owners.isMember(node)) {
      ClusterProtocol.retryElsewhere(join);
      return;
    }
    OwnedFlight flight = id != null ? byId.get(id) : byKey.get(key);
    if (flight != null && !flight.key.equals(key)) {
      join.fail(FORBIDDEN, "flight " + id + " is not of key '" + key + "'");
      return;
    }
    if (flight == null && !owns(key)) {
      ClusterProtocol.retryElsewhere(join);
      return;
    }
    if (flight == null && id != null) {
      Ended outcome = ended.get(id);
      if (outcome != null && outcome.key.equals(key)) {
        answer(join, outcome.body, outcome.headers);
        return;
      }
      flight = byKey.get(key);
      if (flight == null) {
        // The flight ran at another owner: its leader may register here.
        flight = adopt(key, id, null, null);
      }
    }
    if (flight != null) {
      follow(flight, join, node);
      return;
    }
    List<Message<Object>> waiting = handingOver.get(key);
    if (waiting != null) {
      waiting.add(join);
      return;
    }
    String previous = owners.recentPreviousOwnerOf(key);
    if (previous == null) {
      start(key, join, node);
      return;
    }
    // The key came to this node lately: its flight, if any, may still be elsewhere.
    List<Message<Object>> joins = new ArrayList<>();
    joins.add(join);
    handingOver.put(key, joins);
    if (!owners.isMember(previous)) {
      // Its owner left: a leader of the key registers as soon as it sees that; give it that long.
      vertx.setTimer(Math.min(HANDOVER_GRACE, Math.max(1, timeoutNanos / 4_000_000)), t -> settleHandover(key, joins));
      return;
    }
    owners.tell(previous, key, HANDOVER, MultiMap.caseInsensitiveMultiMap()).onComplete(ar -> {
      if (handingOver.get(key) != joins) {
        // The key was forgotten meanwhile: these joins were settled then.
        return;
      }
      MultiMap answer = ar.succeeded() ? ar.result().headers() : MultiMap.caseInsensitiveMultiMap();
      String handedId = answer.get(FLIGHT);
      Ended outcome = handedId == null ? null : ended.get(handedId);
      if (outcome != null && outcome.key.equals(key)) {
        // Its leader reported here meanwhile: the joins made while it ran get its outcome.
        handingOver.remove(key).forEach(held -> answer(held, outcome.body, outcome.headers));
        return;
      }
      if (ClusterProtocol.isToken(handedId) && byKey.get(key) == null && !byId.containsKey(handedId)) {
        String leader = answer.get(LEADER_NODE);
        String token = answer.get(TOKEN);
        adopt(key, handedId, owners.isMember(leader) ? leader : null, ClusterProtocol.isToken(token) ? token : null);
      }
      settleHandover(key, joins);
    });
  }

  /** The fresh joins of a key that came to this node lately follow its flight, or start one; unless forgotten meanwhile. */
  private void settleHandover(String key, List<Message<Object>> joins) {
    if (handingOver.get(key) != joins) {
      return;
    }
    handingOver.remove(key);
    settle(key, joins);
  }

  private void settle(String key, List<Message<Object>> joins) {
    for (Message<Object> held : joins) {
      String joiner = held.headers().get(ClusterProtocol.NODE);
      OwnedFlight current = byKey.get(key);
      if (current != null) {
        follow(current, held, joiner);
      } else {
        start(key, held, joiner);
      }
    }
  }

  /** The previous owner of a key is asked for its flight by the new one: it hands it over, and releases the key. */
  void handover(Message<Object> handover, String key) {
    OwnedFlight flight = byKey.get(key);
    if (flight != null) {
      release(flight);
    }
    Released gone = released.get(key);
    DeliveryOptions answer = new DeliveryOptions();
    if (gone != null) {
      answer.addHeader(FLIGHT, gone.id);
      if (gone.leader != null) {
        answer.addHeader(LEADER_NODE, gone.leader).addHeader(TOKEN, gone.token);
      }
    }
    handover.reply(null, answer);
  }

  /**
   * The leader of a flight says it still runs, or registers with a new owner: renews its lead, or
   * adopts the flight from the previous owner. Answered {@code lost} when another node leads it now.
   */
  void lead(Message<Object> lead, String key, String node, String id, String token) {
    OwnedFlight flight = byId.get(id);
    if (flight == null) {
      if (!owners.isMember(node) || !owns(key)) {
        ClusterProtocol.retryElsewhere(lead);
      } else if (ended.containsKey(id) || byKey.containsKey(key)) {
        lead.reply(null, new DeliveryOptions().addHeader(ROLE, LOST));
      } else {
        adopt(key, id, node, token);
        lead.reply(null, new DeliveryOptions().addHeader(ROLE, LEADER));
      }
      return;
    }
    if (!flight.key.equals(key)) {
      lead.fail(FORBIDDEN, "flight " + id + " is not of key '" + key + "'");
    } else if (flight.leader == null && flight.awaitingLeader) {
      flight.leader = node;
      flight.token = token;
      flight.awaitingLeader = false;
      flight.heard = System.nanoTime();
      lead.reply(null, new DeliveryOptions().addHeader(ROLE, LEADER));
    } else if (node.equals(flight.leader) && token.equals(flight.token)) {
      flight.heard = System.nanoTime();
      lead.reply(null, new DeliveryOptions().addHeader(ROLE, LEADER));
    } else if (flight.leader == null && node.equals(flight.lostLeader) && token.equals(flight.lostToken)) {
      // A leader taken as lost (silent) that speaks again before another node took the lead keeps it.
      flight.leader = node;
      flight.token = token;
      flight.heard = System.nanoTime();
      lead.reply(null, new DeliveryOptions().addHeader(ROLE, LEADER));
    } else {
      lead.reply(null, new DeliveryOptions().addHeader(ROLE, LOST));
    }
  }

  /** The leader reports the outcome: every follower gets it, and the key is free. */
  void result(Message<Object> result, String key, String node, String id, String token) {
    if (!byId.containsKey(id) && !ended.containsKey(id) && owners.isMember(node) && owns(key)) {
      // The flight ran at an owner that left, and reached this one before its followers did: they
      // will ask again with its id, and get this outcome.
      ended.put(id, new Ended(key, result.body(), outcome(result), System.nanoTime()));
      result.reply(null);
      return;
    }
    OwnedFlight flight = leadersFlight(result, key, node, id, token);
    if (flight == null) {
      return;
    }
    remove(flight);
    MultiMap outcome = outcome(result);
    if (flight.askedAgain > 0 || flight.adopted) {
      // Some follower is between two joins: it gets the outcome when it asks again.
      ended.put(flight.id, new Ended(key, result.body(), outcome, System.nanoTime()));
    }
    for (Held follower : flight.followers) {
      answer(follower.join, result.body(), outcome);
    }
    result.reply(null);
  }

  /** @return the outcome headers of a result, which the followers get: the outcome, and the leader's trace */
  private static MultiMap outcome(Message<Object> result) {
    MultiMap outcome = MultiMap.caseInsensitiveMultiMap().set(OUTCOME, result.headers().get(OUTCOME));
    if (result.headers().contains(FAILURE_CLASS)) {
      outcome.set(FAILURE_CLASS, result.headers().get(FAILURE_CLASS));
    }
    if (result.headers().contains(FAILURE_MESSAGE)) {
      outcome.set(FAILURE_MESSAGE, result.headers().get(FAILURE_MESSAGE));
    }
    if (result.headers().contains(ClusterProtocol.TRACE)) {
      outcome.set(ClusterProtocol.TRACE, result.headers().get(ClusterProtocol.TRACE));
    }
    return outcome;
  }

  /** The leader gave its flight up (maxFlightTime, cancelAbandoned, undeploy): a follower takes the lead. */
  void giveUp(Message<Object> giveUp, String key, String node, String id, String token) {
    OwnedFlight flight = leadersFlight(giveUp, key, node, id, token);
    if (flight != null) {
      loseLeader(flight);
      giveUp.reply(null);
    }
  }

  /**
   * @return the flight {@code id} of {@code key} when {@code node} leads it with {@code token}; else
   * {@code null}, after answering {@code message}: ask again elsewhere, 409 (no such flight here) or
   * 403 (not its leader)
   */
  private OwnedFlight leadersFlight(Message<Object> message, String key, String node, String id, String token) {
    OwnedFlight flight = byId.get(id);
    if (flight == null) {
      if (!owns(key)) {
        ClusterProtocol.retryElsewhere(message);
      } else {
        message.fail(CONFLICT, "no flight " + id + " of key '" + key + "' here");
      }
      return null;
    }
    boolean leads;
    if (!flight.key.equals(key)) {
      leads = false;
    } else if (flight.leader != null) {
      leads = flight.leader.equals(node) && token.equals(flight.token);
    } else if (flight.awaitingLeader) {
      // Adopted from its followers: the leader has not registered yet, and its report comes first.
      leads = true;
    } else {
      // It lost its leader and nobody took the lead yet: the leader that lost it may still end it.
      leads = node.equals(flight.lostLeader) && token.equals(flight.lostToken);
    }
    if (!leads) {
      message.fail(FORBIDDEN, "node " + node + " does not lead flight " + id + " of key '" + key + "'");
      return null;
    }
    return flight;
  }

  /** Forgets the key: the next join leads a new flight; the followers of the old one keep it. */
  void forget(String key) {
    byKey.remove(key);
    forgotten.put(key, System.nanoTime());
    List<Message<Object>> held = handingOver.remove(key);
    if (held != null) {
      // Joins held for a handover came before the forget: they go on in a flight of their own, which no
      // later join finds (the previous owner's answer is ignored). They waited for ever on the flight the
      // handover then adopted, which the forget had missed, and so did every later join.
      settle(key, held);
      byKey.remove(key);
    }
  }

  /**
   * The serving members changed: a flight whose leader left loses it, followers that left are
   * dropped, and flights of keys this node no longer owns are released.
   */
  void membersChanged(Set<String> gone) {
    for (OwnedFlight flight : new ArrayList<>(byId.values())) {
      flight.followers.removeIf(follower -> gone.contains(follower.node));
      if (!owns(flight.key)) {
        release(flight);
      } else if (flight.leader != null && gone.contains(flight.leader)) {
        loseLeader(flight);
      }
    }
  }

  /** The verticle stops: every waiting node is told to ask the next owner. */
  void close() {
    vertx.cancelTimer(sweepTimer);
    for (OwnedFlight flight : byId.values()) {
      flight.followers.forEach(follower ->
        follower.join.reply(null, new DeliveryOptions().addHeader(ROLE, WAIT).addHeader(FLIGHT, flight.id)));
    }
    handingOver.values().forEach(joins -> joins.forEach(ClusterProtocol::retryElsewhere));
    byId.clear();
    byKey.clear();
    handingOver.clear();
  }

  /**
   * Every quarter of clusterRequestTimeout: followers held that long are told to ask again; a leader
   * silent for clusterRequestTimeout loses the lead, and a flight that waited as long for a leader
   * gets none; outcomes and releases older than that are dropped.
   */
  private void sweep() {
    long now = System.nanoTime();
    for (OwnedFlight flight : new ArrayList<>(byId.values())) {
      if (!owns(flight.key)) {
        release(flight);
        continue;
      }
      for (Iterator<Held> it = flight.followers.iterator(); it.hasNext(); ) {
        Held follower = it.next();
        if (now - follower.since >= timeoutNanos / 4) {
          it.remove();
          askAgain(flight, follower.join);
        }
      }
      boolean silent = now - flight.heard > timeoutNanos;
      if (silent && (flight.leader != null || flight.awaitingLeader)) {
        loseLeader(flight);
      } else if (silent && flight.leader == null && flight.followers.isEmpty()) {
        // Nobody led it or waited for it for clusterRequestTimeout: a next join starts afresh.
        remove(flight);
      }
    }
    ended.values().removeIf(outcome -> now - outcome.at > timeoutNanos);
    released.values().removeIf(gone -> now - gone.at > timeoutNanos);
    forgotten.values().removeIf(at -> now - at > timeoutNanos);
  }

  private void start(String key, Message<Object> join, String node) {
    OwnedFlight flight = new OwnedFlight(key, ClusterProtocol.newToken());
    byKey.put(key, flight);
    byId.put(flight.id, flight);
    grantLead(flight, join, node);
  }

  /**
   * Takes over a flight that began at another owner, led by {@code leader} (or {@code null}: to be
   * told). It becomes the key's flight unless the key was forgotten here lately (within
   * clusterRequestTimeout, as long as a handover may take): it began before that forget, so that
   * the key's next join must not find it.
   */
  private OwnedFlight adopt(String key, String id, String leader, String token) {
    OwnedFlight flight = new OwnedFlight(key, id);
    flight.adopted = true;
    flight.led = true;
    flight.leader = leader;
    flight.token = leader == null ? null : token;
    flight.awaitingLeader = leader == null;
    flight.heard = System.nanoTime();
    if (!forgotten.containsKey(key)) {
      byKey.putIfAbsent(key, flight);
    }
    byId.put(id, flight);
    return flight;
  }

  /**
   * A node follows the flight; with no leader nor one expected, it leads. A first join is told the
   * flight's id at once ({@code wait}), so that it can name the flight to a next owner; a join that
   * names it is held until the outcome.
   */
  private void follow(OwnedFlight flight, Message<Object> join, String node) {
    boolean namesIt = join.headers().contains(FLIGHT);
    if (namesIt && flight.askedAgain > 0) {
      flight.askedAgain--;
    }
    if (flight.leader == null && !flight.awaitingLeader) {
      grantLead(flight, join, node);
    } else if (!namesIt) {
      askAgain(flight, join);
    } else {
      flight.followers.add(new Held(join, node, System.nanoTime()));
    }
  }

  /** Tells a follower the flight still runs: it joins again, naming the flight. */
  private static void askAgain(OwnedFlight flight, Message<Object> join) {
    flight.askedAgain++;
    join.reply(null, new DeliveryOptions().addHeader(ROLE, WAIT).addHeader(FLIGHT, flight.id));
  }

  /** The flight's leader is gone (left, silent, gave up): the first follower waiting leads it, if any. */
  private void loseLeader(OwnedFlight flight) {
    if (flight.leader != null) {
      flight.lostLeader = flight.leader;
      flight.lostToken = flight.token;
    }
    flight.leader = null;
    flight.token = null;
    flight.awaitingLeader = false;
    flight.heard = System.nanoTime();
    if (!flight.followers.isEmpty()) {
      Held next = flight.followers.remove(0);
      grantLead(flight, next.join, next.node);
    }
  }

  private void grantLead(OwnedFlight flight, Message<Object> join, String node) {
    if (flight.led && metrics != null) {
      // Counted here only, once per extra execution: by the owner that grants the lead again.
      metrics.clusterMove();
    }
    flight.led = true;
    flight.leader = node;
    flight.lostLeader = null;
    flight.lostToken = null;
    flight.token = ClusterProtocol.newToken();
    flight.awaitingLeader = false;
    flight.heard = System.nanoTime();
    join.reply(null, new DeliveryOptions().addHeader(ROLE, LEADER).addHeader(FLIGHT, flight.id).addHeader(TOKEN, flight.token));
  }

  /** Hands a flight of a key this node no longer owns to the new owner: its followers ask again there. */
  private void release(OwnedFlight flight) {
    remove(flight);
    released.put(flight.key, new Released(flight.id, flight.leader, flight.token, System.nanoTime()));
    for (Held follower : flight.followers) {
      follower.join.reply(null, new DeliveryOptions().addHeader(ROLE, WAIT).addHeader(FLIGHT, flight.id));
    }
    flight.followers.clear();
  }

  private void remove(OwnedFlight flight) {
    byId.remove(flight.id);
    byKey.remove(flight.key, flight);
  }

  private static void answer(Message<Object> follower, Object body, MultiMap outcome) {
    follower.reply(body, new DeliveryOptions().setHeaders(MultiMap.caseInsensitiveMultiMap().addAll(outcome))
      .addHeader(ROLE, FOLLOWER));
  }
}
