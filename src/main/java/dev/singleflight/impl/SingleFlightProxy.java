package dev.singleflight.impl;

import dev.singleflight.SingleFlight;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageProducer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * The {@link SingleFlight} proxy: each call becomes one local-only {@link FlightRequest} sent to the
 * verticle's address. The verticle completes the request's promise, which was made on the caller's
 * context, so the caller's handlers run there (callers on non-Vert.x threads share one event-loop
 * context of the proxy). No event-bus reply is used: a reply has a timeout,
 * and a call without a timeout must wait as long as its flight runs.
 */
public final class SingleFlightProxy implements SingleFlight {

  /** Timeouts longer than this (about 31 years) are taken as this, so deadlines cannot overflow. */
  private static final long MAX_TIMEOUT_NANOS = 1_000_000_000_000_000_000L;

  private final VertxInternal vertx;
  private final MessageProducer<FlightRequest> sender;
  /**
   * The context of callers on non-Vert.x threads, made once: Vert.x would make a new one per call,
   * and each parked caller would hold its own.
   */
  private volatile ContextInternal plainThreadContext;

  public SingleFlightProxy(Vertx vertx, String address) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(address, "address");
    this.vertx = (VertxInternal) vertx;
    LocalCodec.registerOn(vertx);
    this.sender = vertx.eventBus().sender(address, new DeliveryOptions().setLocalOnly(true));
  }

  @Override
  public <T> Future<T> flight(String key, Callable<T> fn) {
    return send(FlightRequest.Kind.BLOCKING, key, Objects.requireNonNull(fn, "fn"), null);
  }

  @Override
  public <T> Future<T> flight(String key, Callable<T> fn, Duration timeout) {
    return send(FlightRequest.Kind.BLOCKING, key, Objects.requireNonNull(fn, "fn"), checkTimeout(timeout));
  }

  @Override
  public <T> Future<T> flightAsync(String key, Supplier<Future<T>> fn) {
    return send(FlightRequest.Kind.ASYNC, key, Objects.requireNonNull(fn, "fn"), null);
  }

  @Override
  public <T> Future<T> flightAsync(String key, Supplier<Future<T>> fn, Duration timeout) {
    return send(FlightRequest.Kind.ASYNC, key, Objects.requireNonNull(fn, "fn"), checkTimeout(timeout));
  }

  @Override
  public Future<Void> forget(String key) {
    return send(FlightRequest.Kind.FORGET, key, null, null);
  }

  private static Duration checkTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    return timeout;
  }

  @SuppressWarnings("unchecked")
  private <T> Future<T> send(FlightRequest.Kind kind, String key, Object fn, Duration timeout) {
    Objects.requireNonNull(key, "key");
    boolean timed = timeout != null;
    long deadline = timed ? System.nanoTime() + toNanos(timeout) : 0L;
    Promise<Object> promise = callerContext().promise();
    sender.write(new FlightRequest(kind, key, fn, promise, deadline, timed)).onFailure(promise::tryFail);
    return (Future<T>) promise.future();
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
