package dev.singleflight.impl;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes an object through the event bus by reference: a {@link FlightRequest} (functions and
 * promises cannot be copied) or a {@link RoutedMessage}. It only works within one JVM, so such
 * messages are sent local-only; the wire methods throw.
 */
public final class LocalCodec<T> implements MessageCodec<T, T> {

  private final String name;

  private LocalCodec(String name) {
    this.name = name;
  }

  /**
   * Registers the codecs as the default ones of their classes on {@code vertx}, unless they are
   * already. Thread-safe.
   */
  public static void registerOn(Vertx vertx) {
    register(vertx, FlightRequest.class, "dev.singleflight.request");
    register(vertx, RoutedMessage.class, "dev.singleflight.routed");
  }

  private static <T> void register(Vertx vertx, Class<T> type, String name) {
    try {
      vertx.eventBus().registerDefaultCodec(type, new LocalCodec<>(name));
    } catch (IllegalStateException alreadyRegistered) {
      // Another proxy or verticle of this Vert.x instance registered it first.
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, T value) {
    throw new UnsupportedOperationException("a single-flight call cannot leave its JVM this way");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException("a single-flight call cannot leave its JVM this way");
  }

  @Override
  public T transform(T value) {
    return value;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
