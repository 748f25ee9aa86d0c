package dev.singleflight.impl;

import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeListener;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The one node listener of a cluster manager (it holds a single one), shared by every clustered
 * verticle of the node. Callbacks come on the cluster manager's threads; subscribers hop to their
 * own event loop.
 */
final class ClusterMembership implements NodeListener {

  private static final Map<ClusterManager, ClusterMembership> BY_MANAGER = Collections.synchronizedMap(new WeakHashMap<>());

  private final List<Runnable> subscribers = new CopyOnWriteArrayList<>();

  private ClusterMembership() {
  }

  /**
   * Runs {@code onChange} after each change of the members.
   *
   * @return what unsubscribes it
   */
  static Runnable subscribe(ClusterManager clusterManager, Runnable onChange) {
    ClusterMembership membership = BY_MANAGER.computeIfAbsent(clusterManager, manager -> {
      ClusterMembership created = new ClusterMembership();
      manager.nodeListener(created);
      return created;
    });
    membership.subscribers.add(onChange);
    return () -> membership.subscribers.remove(onChange);
  }

  @Override
  public void nodeAdded(String nodeID) {
    subscribers.forEach(Runnable::run);
  }

  @Override
  public void nodeLeft(String nodeID) {
    subscribers.forEach(Runnable::run);
  }
}
