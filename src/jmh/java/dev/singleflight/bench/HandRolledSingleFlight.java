package dev.singleflight.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Baseline (a): the idiom people write by hand, a {@link ConcurrentHashMap} of futures. The call
 * whose {@code computeIfAbsent} installs the future leads and starts the function; the others get
 * the same future. On completion the key is removed, only if it still maps to this flight.
 */
final class HandRolledSingleFlight<T> {

  private final ConcurrentHashMap<String, CompletableFuture<T>> flights = new ConcurrentHashMap<>();

  CompletableFuture<T> flight(String key, Supplier<? extends CompletionStage<T>> fn) {
    CompletableFuture<T> running = flights.get(key);
    if (running != null) {
      return running;
    }
    CompletableFuture<T> created = new CompletableFuture<>();
    CompletableFuture<T> flight = flights.computeIfAbsent(key, k -> created);
    if (flight == created) {
      fn.get().whenComplete((value, failure) -> {
        flights.remove(key, created);
        if (failure != null) {
          created.completeExceptionally(failure);
        } else {
          created.complete(value);
        }
      });
    }
    return flight;
  }
}
