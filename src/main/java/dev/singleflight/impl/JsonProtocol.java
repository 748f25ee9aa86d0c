package dev.singleflight.impl;

import io.vertx.core.AsyncResult;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * The JSON event-bus protocol, for callers that cannot send a Java function: a request names a key
 * and the address of the real service; the flight sends one request there, and every requester of
 * the key gets its reply. See the README's protocol table for the fields and failure codes.
 *
 * <p>Only used on the verticle's event loop.
 */
public final class JsonProtocol {

  /** The header that selects the action: {@value #FLIGHT} (also when absent) or {@value #FORGET}. */
  public static final String ACTION_HEADER = "action";
  public static final String FLIGHT = "flight";
  public static final String FORGET = "forget";

  public static final int BAD_REQUEST = 400;
  public static final int FORBIDDEN = 403;
  public static final int NOT_FOUND = 404;
  public static final int INTERNAL_ERROR = 500;
  public static final int UNAVAILABLE = 503;
  public static final int GATEWAY_TIMEOUT = 504;

  private final EventBus eventBus;
  private final FlightMap flights;
  private final List<Pattern> allowedAddresses;

  public JsonProtocol(EventBus eventBus, FlightMap flights, List<String> allowedAddresses) {
    this.eventBus = eventBus;
    this.flights = flights;
    this.allowedAddresses = allowedAddresses.stream().map(Pattern::compile).toList();
  }

  /** Answers one JSON-protocol request: every request gets a reply or a failure code. */
  public void handle(Message<Object> message) {
    if (flights.isClosed()) {
      message.fail(UNAVAILABLE, flights.stopped().getMessage());
      return;
    }
    String action = message.headers().get(ACTION_HEADER);
    if (action != null && !FLIGHT.equals(action) && !FORGET.equals(action)) {
      message.fail(BAD_REQUEST, "unknown action '" + action + "': expected '" + FLIGHT + "' or '" + FORGET + "'");
      return;
    }
    if (!(message.body() instanceof JsonObject request)) {
      message.fail(BAD_REQUEST, "the body must be a JSON object with a key, was " + describe(message.body()));
      return;
    }
    if (!(request.getValue("key") instanceof String key) || key.isEmpty()) {
      message.fail(BAD_REQUEST, "key must be a non-empty string, was " + describe(request.getValue("key")));
      return;
    }
    if (FORGET.equals(action)) {
      flights.forget(key);
      message.reply(null);
    } else {
      flight(message, request, key);
    }
  }

  private void flight(Message<Object> message, JsonObject request, String key) {
    if (!(request.getValue("address") instanceof String address) || address.isEmpty()) {
      message.fail(BAD_REQUEST, "address must be a non-empty string naming the downstream service, was "
        + describe(request.getValue("address")));
      return;
    }
    Object timeout = request.getValue("timeout");
    long timeoutMillis = DeliveryOptions.DEFAULT_TIMEOUT;
    if (timeout != null) {
      if (!(timeout instanceof Number number) || number.longValue() <= 0) {
        message.fail(BAD_REQUEST, "timeout must be a positive number of milliseconds, was " + describe(timeout));
        return;
      }
      timeoutMillis = number.longValue();
    }
    if (!isAllowed(address)) {
      message.fail(FORBIDDEN, "the downstream address '" + address + "' is not in allowedAddresses");
      return;
    }
    Promise<Object> waiter = Promise.promise();
    waiter.future().onComplete(outcome -> reply(message, outcome));
    flights.join(key, waiter, false, 0L, new DownstreamRequest(eventBus, address, request.getValue("body"), timeoutMillis));
  }

  private boolean isAllowed(String address) {
    if (allowedAddresses.isEmpty()) {
      return true;
    }
    for (Pattern pattern : allowedAddresses) {
      if (pattern.matcher(address).matches()) {
        return true;
      }
    }
    return false;
  }

  /** Replies a flight's outcome: its value, or a failure code for its failure. */
  static void reply(Message<Object> message, AsyncResult<Object> outcome) {
    if (outcome.failed()) {
      Throwable failure = outcome.cause();
      message.fail(codeOf(failure), failure instanceof ReplyException ? failure.getMessage() : failure.toString());
      return;
    }
    try {
      message.reply(outcome.result());
    } catch (IllegalArgumentException noCodec) {
      message.fail(INTERNAL_ERROR, "the flight's result, a " + outcome.result().getClass().getName()
        + ", has no event-bus codec");
    }
  }

  /** @return the JSON-protocol failure code of a flight's failure */
  static int codeOf(Throwable failure) {
    if (failure instanceof ReplyException reply) {
      return switch (reply.failureType()) {
        case NO_HANDLERS -> NOT_FOUND;
        case TIMEOUT -> GATEWAY_TIMEOUT;
        default -> reply.failureCode();
      };
    }
    if (failure instanceof KeyTooLongException) {
      return BAD_REQUEST;
    }
    if (failure instanceof TimeoutException) {
      return GATEWAY_TIMEOUT;
    }
    if (failure instanceof VerticleStoppedException || failure instanceof RejectedExecutionException) {
      return UNAVAILABLE;
    }
    return INTERNAL_ERROR;
  }

  private static String describe(Object value) {
    return value == null ? "missing" : value instanceof String s ? "'" + s + "'" : value.getClass().getSimpleName() + " " + value;
  }
}
