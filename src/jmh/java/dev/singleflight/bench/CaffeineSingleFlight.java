package dev.singleflight.bench;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Baseline (b): Caffeine's {@link AsyncCache#get} used as a single flight. The call whose mapping
 * function runs leads; when its future completes the entry is invalidated, so nothing is cached.
 * Caffeine's maintenance runs on the calling thread ({@code executor(Runnable::run)}), not on a pool.
 */
final class CaffeineSingleFlight<T> {

  private final AsyncCache<String, T> cache = Caffeine.newBuilder().executor(Runnable::run).buildAsync();

  CompletableFuture<T> flight(String key, Supplier<CompletableFuture<T>> fn) {
    boolean[] led = new boolean[1];
    CompletableFuture<T> flight = cache.get(key, (k, executor) -> {
      led[0] = true;
      return fn.get();
    });
    if (led[0]) {
      flight.whenComplete((value, failure) -> cache.asMap().remove(key, flight));
    }
    return flight;
  }
}
