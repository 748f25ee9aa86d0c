package dev.singleflight.impl;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes a {@link FlightRequest} through the event bus by reference: functions and promises cannot
 * be copied. It only works within one JVM, so such messages are sent local-only; the wire methods
 * throw.
 */
public final class LocalCodec implements MessageCodec<FlightRequest, FlightRequest> {

  static final String NAME = "dev.singleflight.local";

  private LocalCodec() {
  }

  /**
   * Registers the codec as the default one of {@link FlightRequest} on {@code vertx}, unless it is
   * already. Thread-safe.
   */
  public static void registerOn(Vertx vertx) {
    try {
      vertx.eventBus().registerDefaultCodec(FlightRequest.class, new LocalCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // Another proxy or verticle of this Vert.x instance registered it first.
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, FlightRequest request) {
    throw new UnsupportedOperationException("a single-flight proxy call cannot leave its JVM");
  }

  @Override
  public FlightRequest decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException("a single-flight proxy call cannot leave its JVM");
  }

  @Override
  public FlightRequest transform(FlightRequest request) {
    return request;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
