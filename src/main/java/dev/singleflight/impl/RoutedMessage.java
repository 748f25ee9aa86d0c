package dev.singleflight.impl;

import io.vertx.core.eventbus.Message;

/**
 * A JSON-protocol request that one instance of the verticle received and hands to the instance
 * that owns its key; that instance replies to the original {@link #message}.
 */
public record RoutedMessage(Message<Object> message) {
}
