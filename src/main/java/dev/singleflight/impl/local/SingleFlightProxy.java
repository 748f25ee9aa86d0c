package dev.singleflight.impl.local;

import dev.singleflight.Batch;
import dev.singleflight.BatchLoader;
import dev.singleflight.BatchOptions;
import dev.singleflight.BlockingBatchLoader;
import dev.singleflight.FlightResult;
import dev.singleflight.SingleFlight;
import dev.singleflight.impl.BatchGroup;
import dev.singleflight.impl.ResultWaiter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.internal.VertxInternal;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * The {@link SingleFlight} proxy: each call becomes one {@link ProxyCall}, handed straight to the
 * event loop of the verticle instance that owns its key (no event-bus message: nothing to encode, no
 * reply timeout, and no hop through another instance). The instance completes the call's promise,
 * which was made on the caller's context, so the caller's handlers run there (callers on non-Vert.x
 * threads share one event-loop context of the proxy).
 */
public final class SingleFlightProxy implements SingleFlight {

  /** Timeouts longer than this (about 31 years) are taken as this, so deadlines cannot overflow. */
  private static final long MAX_TIMEOUT_NANOS = 1_000_000_000_000_000_000L;

  /** Vert.x's internal API for integrations: the caller's context and a context for plain threads. */
  private final VertxInternal vertx;
  private final String address;
  /** The deployment last found at the address; looked up again once it is undeployed. */
  private volatile InstanceGroup group;
  /**
   * The context of callers on non-Vert.x threads, made once: Vert.x would make a new one per call,
   * and each parked caller would hold its own.
   */
  private volatile ContextInternal plainThreadContext;
  private final BatchReplies batchReplies = new BatchReplies();

  public SingleFlightProxy(Vertx vertx, String address) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(address, "address");
    this.vertx = (VertxInternal) vertx;
    this.address = address;
  }

  @Override
  public <T> Future<T> flight(String key, Callable<T> fn) {
    return send(ProxyCall.Kind.BLOCKING, key, Objects.requireNonNull(fn, "fn"), null);
  }

  @Override
  public <T> Future<T> flight(String key, Callable<T> fn, Duration timeout) {
    return send(ProxyCall.Kind.BLOCKING, key, Objects.requireNonNull(fn, "fn"), checkTimeout(timeout));
  }

  @Override
  public <T> Future<T> flightAsync(String key, Supplier<Future<T>> fn) {
    return send(ProxyCall.Kind.ASYNC, key, Objects.requireNonNull(fn, "fn"), null);
  }

  @Override
  public <T> Future<T> flightAsync(String key, Supplier<Future<T>> fn, Duration timeout) {
    return send(ProxyCall.Kind.ASYNC, key, Objects.requireNonNull(fn, "fn"), checkTimeout(timeout));
  }

  @Override
  public Future<Void> forget(String key) {
    return send(ProxyCall.Kind.FORGET, key, null, null);
  }

  @Override
  public <T> Batch<T> batchAsync(String name, BatchLoader<T> loader, BatchOptions options) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(loader, "loader");
    Objects.requireNonNull(options, "options");
    return new ProxyBatch<>(this, new BatchGroup.Definition(name, loader, null,
      options.getMaxBatchSize(), options.getMaxDelay(), false));
  }

  @Override
  public <T> Batch<T> batch(String name, BlockingBatchLoader<T> loader, BatchOptions options) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(loader, "loader");
    Objects.requireNonNull(options, "options");
    return new ProxyBatch<>(this, new BatchGroup.Definition(name, null, loader,
      options.getMaxBatchSize(), options.getMaxDelay(), false));
  }

  @Override
  public <T> Future<FlightResult<T>> flightResult(String key, Callable<T> fn, Duration timeout) {
    return sendForResult(ProxyCall.Kind.BLOCKING, key, Objects.requireNonNull(fn, "fn"), timeout == null ? null : checkTimeout(timeout));
  }

  @Override
  public <T> Future<FlightResult<T>> flightAsyncResult(String key, Supplier<Future<T>> fn, Duration timeout) {
    return sendForResult(ProxyCall.Kind.ASYNC, key, Objects.requireNonNull(fn, "fn"), timeout == null ? null : checkTimeout(timeout));
  }

  @Override
  public Future<Set<String>> inFlight() {
    Promise<Set<String>> promise = callerContext().promise();
    InstanceGroup verticle = verticle();
    if (verticle == null) {
      promise.fail(noHandlers());
    } else {
      verticle.inFlight().onComplete(promise);
    }
    return promise.future();
  }

  static Duration checkTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    return timeout;
  }

  @SuppressWarnings("unchecked")
  <T> Future<T> send(ProxyCall.Kind kind, String key, Object fn, Duration timeout) {
    Objects.requireNonNull(key, "key");
    boolean timed = timeout != null;
    long deadline = timed ? System.nanoTime() + toNanos(timeout) : 0L;
    PromiseInternal<Object> promise = callerContext().promise();
    // Keys of batches come and go many at a time: their calls and their answers travel in bulk.
    submit(kind, key, fn, kind == ProxyCall.Kind.BATCH ? batchReplies.waiter(promise) : promise, timed, deadline);
    return (Future<T>) promise.future();
  }

  @SuppressWarnings("unchecked")
  private <T> Future<FlightResult<T>> sendForResult(ProxyCall.Kind kind, String key, Object fn, Duration timeout) {
    Objects.requireNonNull(key, "key");
    boolean timed = timeout != null;
    long deadline = timed ? System.nanoTime() + toNanos(timeout) : 0L;
    Promise<FlightResult<Object>> promise = callerContext().promise();
    submit(kind, key, fn, new ResultWaiter(promise), timed, deadline);
    return (Future<FlightResult<T>>) (Future<?>) promise.future();
  }

  private void submit(ProxyCall.Kind kind, String key, Object fn, Promise<Object> promise, boolean timed, long deadline) {
    InstanceGroup verticle = verticle();
    if (verticle == null) {
      promise.fail(noHandlers());
    } else {
      verticle.ownerOf(key).submit(new ProxyCall(kind, key, fn, promise, deadline, timed));
    }
  }

  private ReplyException noHandlers() {
    return new ReplyException(ReplyFailure.NO_HANDLERS, "No handlers for address " + address);
  }

  /** @return the verticle deployed at the address, or {@code null} when there is none */
  private InstanceGroup verticle() {
    InstanceGroup known = group;
    if (known == null || !known.isOpen()) {
      known = InstanceGroup.published(vertx, address);
      group = known;
    }
    return known;
  }

  /** @return the caller's own context, or for a non-Vert.x thread the proxy's context of such callers */
  private ContextInternal callerContext() {
    ContextInternal current = vertx.getContext();
    if (current != null) {
      return current;
    }
    ContextInternal shared = plainThreadContext;
    if (shared == null) {
      shared = vertx.createEventLoopContext();
      plainThreadContext = shared;
    }
    return shared;
  }

  private static long toNanos(Duration timeout) {
    return timeout.compareTo(Duration.ofNanos(MAX_TIMEOUT_NANOS)) > 0 ? MAX_TIMEOUT_NANOS : timeout.toNanos();
  }
}
