package dev.singleflight.impl.local;

import dev.singleflight.Batch;
import dev.singleflight.impl.BatchGroup;
import io.vertx.core.Future;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link Batch} of a {@link SingleFlightProxy}: each key is a proxy call of kind
 * {@link ProxyCall.Kind#BATCH}, handed to the instance that owns the key, which puts it in its open
 * batch of the name when the call starts the key's flight.
 */
final class ProxyBatch<T> implements Batch<T> {

  private final SingleFlightProxy proxy;
  private final BatchGroup.Definition definition;

  ProxyBatch(SingleFlightProxy proxy, BatchGroup.Definition definition) {
    this.proxy = proxy;
    this.definition = definition;
  }

  @Override
  public Future<T> get(String key) {
    return proxy.send(ProxyCall.Kind.BATCH, key, definition, null);
  }

  @Override
  public Future<T> get(String key, Duration timeout) {
    return proxy.send(ProxyCall.Kind.BATCH, key, definition, SingleFlightProxy.checkTimeout(timeout));
  }

  @Override
  public Future<Map<String, T>> getAll(Collection<String> keys) {
    Objects.requireNonNull(keys, "keys");
    List<String> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
    distinct.forEach(key -> Objects.requireNonNull(key, "a key of keys"));
    List<Future<T>> values = new ArrayList<>(distinct.size());
    for (String key : distinct) {
      values.add(get(key));
    }
    return Future.all(values).map(all -> {
      Map<String, T> byKey = new LinkedHashMap<>(distinct.size() * 4 / 3 + 1);
      for (int i = 0; i < distinct.size(); i++) {
        byKey.put(distinct.get(i), all.resultAt(i));
      }
      return byKey;
    });
  }

  @Override
  public Future<Void> forget(String key) {
    return proxy.forget(key);
  }
}
