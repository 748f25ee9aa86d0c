package dev.singleflight.impl.local;

import dev.singleflight.impl.metrics.SharedGauges;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The instances of one deployment of the verticle at one address. Each key is owned by one
 * instance, chosen by a hash of the key, so that calls for a key meet in one flight map: proxies
 * hand a call straight to its owner's event loop, and an instance that the event bus gave a JSON
 * request for a key it does not own hands it to the owner the same way. No locks: each instance's
 * state is touched on its own event loop only.
 *
 * <p>Once every instance has registered, the group is published in a local map of its Vert.x
 * instance under its address, where proxies find it; undeploying unpublishes it.
 */
public final class InstanceGroup implements Shareable {

  /** The local map (one per Vert.x instance) of the published groups, by address. */
  static final String REGISTRY = "dev.singleflight.verticles";
  /** Groups whose instances are starting, by deployment id: each instance finds its group here. */
  private static final Map<String, InstanceGroup> STARTING = new ConcurrentHashMap<>();

  private final String deploymentId;
  private final String address;
  private final AtomicReferenceArray<FlightServer> instances;
  private final AtomicInteger nextIndex = new AtomicInteger();
  private final AtomicInteger registered = new AtomicInteger();
  private final Promise<Void> allRegistered = Promise.promise();
  private final SharedGauges gauges = new SharedGauges();
  private volatile boolean open = true;

  private InstanceGroup(String deploymentId, String address, int size) {
    this.deploymentId = deploymentId;
    this.address = address;
    this.instances = new AtomicReferenceArray<>(size);
  }

  /**
   * @param deploymentId the deployment, or {@code null} outside one
   * @param instances the deployment's instance count
   * @return the group of the deployment, the same for each of its instances
   */
  static InstanceGroup of(String deploymentId, int instances, String address) {
    if (deploymentId == null || instances <= 1) {
      return new InstanceGroup(deploymentId, address, 1);
    }
    return STARTING.computeIfAbsent(deploymentId, id -> new InstanceGroup(id, address, instances));
  }

  /** @return the group published at {@code address} on {@code vertx}, or {@code null} when none is */
  static InstanceGroup published(Vertx vertx, String address) {
    return registry(vertx).get(address);
  }

  private static LocalMap<String, InstanceGroup> registry(Vertx vertx) {
    return vertx.sharedData().getLocalMap(REGISTRY);
  }

  /** @return the number of instances */
  int size() {
    return instances.length();
  }

  /** @return the index of a new instance of the group, from 0 */
  int takeIndex() {
    return nextIndex.getAndIncrement();
  }

  /** @return the values of the gauges, shared by the group's instances */
  SharedGauges gauges() {
    return gauges;
  }

  /** Records that the instance {@code index} is ready to serve calls. */
  void register(int index, FlightServer instance) {
    instances.set(index, instance);
    if (registered.incrementAndGet() == size()) {
      STARTING.remove(deploymentId, this);
      allRegistered.tryComplete();
    }
  }

  /** An instance failed to start: the others, waiting for it, fail too. */
  void failed(Throwable failure) {
    allRegistered.tryFail(failure);
  }

  /**
   * Publishes the group at its address once every instance has registered.
   *
   * @return a Future failed when another deployment already serves the address
   */
  Future<Void> publish(Vertx vertx) {
    return allRegistered.future().compose(v -> {
      InstanceGroup present = registry(vertx).putIfAbsent(address, this);
      return present == null || present == this ? Future.succeededFuture() : Future.failedFuture(new IllegalStateException(
        "a SingleFlightVerticle is already deployed at '" + address + "': deploy one deployment per address"));
    });
  }

  /** @return whether the group still serves: not undeployed */
  boolean isOpen() {
    return open;
  }

  /** Unpublishes the group: its deployment is being undeployed, or failed to start. */
  void close(Vertx vertx) {
    open = false;
    STARTING.remove(deploymentId, this);
    registry(vertx).removeIfPresent(address, this);
  }

  /** @return the instances, each once registered */
  List<FlightServer> instances() {
    List<FlightServer> all = new ArrayList<>(instances.length());
    for (int i = 0; i < instances.length(); i++) {
      all.add(instances.get(i));
    }
    return all;
  }

  /** @return the instance that owns {@code key} */
  FlightServer ownerOf(String key) {
    int size = instances.length();
    if (size == 1) {
      return instances.get(0);
    }
    int hash = key.hashCode();
    return instances.get(Math.floorMod(hash ^ (hash >>> 16), size));
  }

  /**
   * Asks every instance for its keys in flight; thread-safe.
   *
   * @return a Future of their union, failed when an instance stopped
   */
  Future<Set<String>> inFlight() {
    List<Future<Set<String>>> each = new ArrayList<>(instances.length());
    for (int i = 0; i < instances.length(); i++) {
      each.add(instances.get(i).inFlight());
    }
    return Future.all(each).map(all -> {
      Set<String> keys = new HashSet<>();
      for (Future<Set<String>> instance : each) {
        keys.addAll(instance.result());
      }
      return keys;
    });
  }

  /** @return the key of a JSON request, or {@code null} when it has none (it fails wherever it is handled) */
  static String keyOf(Object body) {
    return body instanceof JsonObject json && json.getValue("key") instanceof String key ? key : null;
  }
}
