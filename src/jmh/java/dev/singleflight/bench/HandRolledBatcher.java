package dev.singleflight.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * Baseline of the batch scenario: GraphQL DataLoader's idiom written by hand, shared by the whole
 * application. A {@link ConcurrentHashMap} of the keys in flight collapses the callers of a key; a
 * new key is queued, and one task on the batcher's event loop, scheduled by the first key queued
 * since the last one ran, loads the queue in batches of at most {@code maxBatchSize}. Each caller's
 * Future completes on its own context, as the library's do.
 */
final class HandRolledBatcher<T> {

  private final Context context;
  private final Function<Set<String>, Future<Map<String, T>>> loader;
  private final int maxBatchSize;
  private final ConcurrentHashMap<String, Promise<T>> inFlight = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<String> queued = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  HandRolledBatcher(Context context, Function<Set<String>, Future<Map<String, T>>> loader, int maxBatchSize) {
    this.context = context;
    this.loader = loader;
    this.maxBatchSize = maxBatchSize;
  }

  /** Gets the value of {@code key}; called on a Vert.x context. */
  Future<T> get(String key) {
    Promise<T> created = Promise.promise();
    Promise<T> flight = inFlight.putIfAbsent(key, created);
    if (flight == null) {
      flight = created;
      queued.add(key);
      if (scheduled.compareAndSet(false, true)) {
        context.runOnContext(v -> dispatch());
      }
    }
    // The caller's own promise, so that its handlers run on its context.
    Promise<T> mine = ((ContextInternal) Vertx.currentContext()).promise();
    flight.future().onComplete(mine);
    return mine.future();
  }

  private void dispatch() {
    scheduled.set(false);
    List<String> batch = new ArrayList<>(maxBatchSize);
    String key;
    while ((key = queued.poll()) != null) {
      batch.add(key);
      if (batch.size() == maxBatchSize) {
        load(batch);
        batch = new ArrayList<>(maxBatchSize);
      }
    }
    if (!batch.isEmpty()) {
      load(batch);
    }
  }

  private void load(List<String> keys) {
    loader.apply(new HashSet<>(keys)).onComplete(loaded -> {
      for (String key : keys) {
        Promise<T> flight = inFlight.remove(key);
        if (loaded.succeeded()) {
          flight.complete(loaded.result().get(key));
        } else {
          flight.fail(loaded.cause());
        }
      }
    });
  }
}
