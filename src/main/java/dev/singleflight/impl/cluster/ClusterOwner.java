package dev.singleflight.impl.cluster;

import dev.singleflight.impl.metrics.FlightMetrics;

import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The owner's side of clustered proxy flights: for each key this node owns, which node leads the
 * flight, and the joins of the other nodes, answered when the leader reports the outcome.
 *
 * <p>Only touched on the verticle's event loop.
 */
final class ClusterOwner {

  /** One clustered flight: its leader node and the nodes waiting for it. */
  private static final class OwnedFlight {
    final String key;
    final long token;
    String leader;
    final List<Message<Object>> followers = new ArrayList<>();

    OwnedFlight(String key, long token, String leader) {
      this.key = key;
      this.token = token;
      this.leader = leader;
    }
  }

  private final Map<String, OwnedFlight> byKey = new HashMap<>();
  /** Every flight still running, forgotten ones included: the leader reports by token. */
  private final Map<Long, OwnedFlight> byToken = new HashMap<>();
  private final FlightMetrics metrics;
  private long lastToken;

  ClusterOwner(FlightMetrics metrics) {
    this.metrics = metrics;
  }

  /** A node asks to join the flight of a key: the first one leads; the others wait for the outcome. */
  void join(Message<Object> join) {
    String key = join.headers().get(ClusterProtocol.KEY);
    OwnedFlight flight = byKey.get(key);
    if (flight == null) {
      flight = new OwnedFlight(key, ++lastToken, join.headers().get(ClusterProtocol.NODE));
      byKey.put(key, flight);
      byToken.put(flight.token, flight);
      grantLead(join, flight);
    } else {
      flight.followers.add(join);
    }
  }

  /** The leader reports the outcome: every follower gets it, and the key is free. */
  void result(Message<Object> result) {
    OwnedFlight flight = byToken.remove(Long.parseLong(result.headers().get(ClusterProtocol.TOKEN)));
    if (flight != null) {
      byKey.remove(flight.key, flight);
      DeliveryOptions outcome = new DeliveryOptions()
        .setHeaders(MultiMap.caseInsensitiveMultiMap().addAll(result.headers()))
        .addHeader(ClusterProtocol.ROLE, ClusterProtocol.FOLLOWER);
      for (Message<Object> follower : flight.followers) {
        follower.reply(result.body(), outcome);
      }
    }
    result.reply(null);
  }

  /** Forgets the key: the next join leads a new flight; the followers of the old one keep it. */
  void forget(String key) {
    byKey.remove(key);
  }

  /**
   * Nodes left the cluster. A flight whose leader left is handed to one of its followers, which runs
   * the function again; its waiters lose nothing.
   */
  void nodesLeft(Set<String> gone) {
    for (OwnedFlight flight : new ArrayList<>(byToken.values())) {
      flight.followers.removeIf(follower -> gone.contains(follower.headers().get(ClusterProtocol.NODE)));
      if (!gone.contains(flight.leader)) {
        continue;
      }
      if (flight.followers.isEmpty()) {
        byToken.remove(flight.token);
        byKey.remove(flight.key, flight);
      } else {
        Message<Object> next = flight.followers.remove(0);
        flight.leader = next.headers().get(ClusterProtocol.NODE);
        if (metrics != null) {
          metrics.clusterMove();
        }
        grantLead(next, flight);
      }
    }
  }

  /** The verticle stops: every waiting node is told to ask the next owner. */
  void close() {
    for (OwnedFlight flight : byToken.values()) {
      flight.followers.forEach(ClusterProtocol::retryElsewhere);
    }
    byToken.clear();
    byKey.clear();
  }

  private static void grantLead(Message<Object> join, OwnedFlight flight) {
    join.reply(null, new DeliveryOptions()
      .addHeader(ClusterProtocol.ROLE, ClusterProtocol.LEADER)
      .addHeader(ClusterProtocol.TOKEN, Long.toString(flight.token)));
  }
}
