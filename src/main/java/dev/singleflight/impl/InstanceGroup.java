package dev.singleflight.impl;

import dev.singleflight.SingleFlightOptions;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The instances of one deployment of the verticle. Each key is owned by one instance, chosen by a
 * hash of the key, so that calls for a key meet in one flight map whichever instance the event bus
 * hands them to; the other instances forward them, on their event loops, without locks.
 *
 * <p>Each instance listens at its own local address, and the shared address is listened at only
 * once every instance listens at its own, so a forward always finds its owner. The group also holds
 * the gauges' values, which all instances share.
 */
public final class InstanceGroup {

  private static final Map<String, InstanceGroup> GROUPS = new ConcurrentHashMap<>();

  private final String deploymentId;
  private final String address;
  private final int size;
  private final AtomicInteger nextIndex = new AtomicInteger();
  private final AtomicInteger listening = new AtomicInteger();
  private final Promise<Void> allListening = Promise.promise();
  /** Flights running now, over all instances; read by the inflight gauge. */
  final AtomicInteger inflight = new AtomicInteger();
  /** Callers waiting now, over all instances; read by the waiters gauge. */
  final AtomicInteger waiters = new AtomicInteger();

  private InstanceGroup(String deploymentId, String address, int size) {
    this.deploymentId = deploymentId;
    this.address = address;
    this.size = size;
  }

  /**
   * @param deploymentId the deployment, or {@code null} outside one
   * @param instances the deployment's instance count
   * @return the group of the deployment, the same for each of its instances
   */
  public static InstanceGroup of(String deploymentId, int instances, SingleFlightOptions options) {
    if (deploymentId == null || instances <= 1) {
      return new InstanceGroup(deploymentId, options.getAddress(), 1);
    }
    return GROUPS.computeIfAbsent(deploymentId, id -> new InstanceGroup(id, options.getAddress(), instances));
  }

  /** @return the number of instances */
  public int size() {
    return size;
  }

  /** @return the index of a new instance of the group, from 0 */
  public int join() {
    return nextIndex.getAndIncrement();
  }

  /** @return the local address of the instance {@code index} */
  public String instanceAddress(int index) {
    return address + ".instance-" + index;
  }

  /** @return the index of the instance that owns {@code key} */
  public int ownerOf(String key) {
    int hash = key.hashCode();
    return Math.floorMod(hash ^ (hash >>> 16), size);
  }

  /** @return the key of a request, or {@code null} when it has none (it fails wherever it is handled) */
  public static String keyOf(Object body) {
    if (body instanceof FlightRequest request) {
      return request.key;
    }
    if (body instanceof JsonObject json && json.getValue("key") instanceof String key) {
      return key;
    }
    return null;
  }

  /** Records that an instance listens at its own address, or failed to. */
  public void instanceListening(AsyncResult<?> result) {
    if (result.failed()) {
      allListening.tryFail(result.cause());
    } else if (listening.incrementAndGet() == size) {
      allListening.tryComplete();
    }
  }

  /** @return a Future completed once every instance listens at its own address */
  public Future<Void> allListening() {
    return allListening.future();
  }

  /** Forgets the group: its deployment is being undeployed. */
  public void leave() {
    if (deploymentId != null) {
      GROUPS.remove(deploymentId, this);
    }
  }
}
