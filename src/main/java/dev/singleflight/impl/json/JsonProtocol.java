package dev.singleflight.impl.json;

import dev.singleflight.BatchOptions;
import dev.singleflight.KeyTooLongException;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.VerticleStoppedException;
import dev.singleflight.impl.BatchGroup;
import dev.singleflight.impl.FlightMap;
import dev.singleflight.impl.JsonNumbers;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

  /**
   * The header that selects the action: {@value #FLIGHT} (also when absent), {@value #FORGET},
   * {@value #INFLIGHT} or {@value #BATCH}.
   */
  public static final String ACTION_HEADER = "action";
  public static final String FLIGHT = "flight";
  public static final String FORGET = "forget";
  public static final String INFLIGHT = "inflight";
  public static final String BATCH = "batch";
  /** The most keys an {@value #INFLIGHT} answer lists: {@value}; its {@code total} tells how many there are. */
  public static final int MAX_INFLIGHT_KEYS = 1000;
  /**
   * The header of a downstream request that names the flights waiting for it, one value per flight:
   * the JSON array {@code [address, key]}. A request that would join one of them is refused (508),
   * for it would wait for itself.
   */
  public static final String VIA_HEADER = "singleflight-via";

  public static final int BAD_REQUEST = 400;
  public static final int FORBIDDEN = 403;
  public static final int NOT_FOUND = 404;
  public static final int INTERNAL_ERROR = 500;
  public static final int UNAVAILABLE = 503;
  public static final int GATEWAY_TIMEOUT = 504;
  public static final int LOOP_DETECTED = 508;

  /**
   * The prefix of the addresses where clustered verticles talk to each other: no JSON flight may
   * send there, and a bridge rule for the public address cannot match it.
   */
  public static final String INTERNAL_PREFIX = "__singleflight.internal.";

  /**
   * Where the keys of a batch request join their flights: on the event loops of the instances that
   * own them, each key in its owner's flight map and batches ({@link #joinHere} there).
   */
  @FunctionalInterface
  public interface KeyOwners {
    /**
     * Joins each key of {@code waiters} to its flight on the instance (or node) that owns it; the
     * key's waiter completes with the outcome of that flight.
     *
     * @param message the batch request, valid
     */
    void join(Message<Object> message, Map<String, Promise<Object>> waiters, BatchGroup.Definition definition);
  }

  private final EventBus eventBus;
  private final FlightMap flights;
  private final BatchGroup batches;
  /** Where keys of batch requests join. */
  private final KeyOwners keyOwners;
  private final String ownAddress;
  /** What every internal address of the verticle starts with. */
  private final String ownPrefix;
  private final List<Pattern> allowedAddresses;
  private final long maxTimeout;

  /** @param keyOwners where the keys of batch requests join */
  public JsonProtocol(EventBus eventBus, FlightMap flights, BatchGroup batches, SingleFlightOptions options, KeyOwners keyOwners) {
    this.eventBus = eventBus;
    this.flights = flights;
    this.batches = batches;
    this.keyOwners = keyOwners;
    this.ownAddress = options.getAddress();
    this.ownPrefix = ownAddress + ".";
    this.allowedAddresses = options.getAllowedAddresses().stream().map(Pattern::compile).toList();
    this.maxTimeout = options.getMaxTimeout();
  }

  /** Answers one JSON-protocol request: every request gets a reply or a failure code. */
  public void handle(Message<Object> message) {
    handle(message, false);
  }

  /**
   * Answers a JSON-protocol request that was sent to this node because it owns the keys: a batch's
   * keys join here, never forwarded again.
   */
  public void handleHere(Message<Object> message) {
    handle(message, true);
  }

  private void handle(Message<Object> message, boolean here) {
    if (flights.isClosed()) {
      message.fail(UNAVAILABLE, flights.stopped().getMessage());
      return;
    }
    String action = message.headers().get(ACTION_HEADER);
    if (action != null && !FLIGHT.equals(action) && !FORGET.equals(action) && !BATCH.equals(action)) {
      message.fail(BAD_REQUEST, "unknown action '" + action + "': expected '" + FLIGHT + "', '" + FORGET + "', '" + INFLIGHT
        + "' or '" + BATCH + "'");
      return;
    }
    if (BATCH.equals(action)) {
      batch(message, here);
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
    String address = downstreamAddress(message, request);
    if (address == null) {
      return;
    }
    long timeoutMillis = downstreamTimeout(request.getValue("timeout"), maxTimeout);
    List<String> via = message.headers().getAll(VIA_HEADER);
    if (!via.isEmpty() && via.contains(viaEntry(key))) {
      message.fail(LOOP_DETECTED, "loop: this request comes from the flight of key '" + key + "' at '" + ownAddress
        + "' itself, which would wait for it for ever");
      return;
    }
    Promise<Object> waiter = Promise.promise();
    waiter.future().onComplete(outcome -> reply(message, outcome));
    flights.join(key, waiter, false, 0L,
      flights.hedged(new DownstreamRequest(this, address, request.getValue("body"), timeoutMillis, key, via)));
  }

  /** @return whether {@code message} asks for the keys in flight (its body is ignored) */
  public static boolean isInFlight(Message<Object> message) {
    return INFLIGHT.equals(message.headers().get(ACTION_HEADER));
  }

  /**
   * @return the answer to an {@value #INFLIGHT} request: {@code keys}, at most {@value #MAX_INFLIGHT_KEYS}
   * of the keys in no particular order, {@code total}, how many keys are in flight, and
   * {@code truncated}, whether {@code keys} lists fewer than that
   */
  public static JsonObject inFlightReply(Set<String> keys) {
    JsonArray listed = new JsonArray();
    for (String key : keys) {
      if (listed.size() == MAX_INFLIGHT_KEYS) {
        break;
      }
      listed.add(key);
    }
    return new JsonObject().put("keys", listed).put("total", keys.size()).put("truncated", listed.size() < keys.size());
  }

  /**
   * Checks a flight's or a batch's {@code address} and {@code timeout}.
   *
   * @return the downstream address, or {@code null} after failing the request (400 or 403)
   */
  private String downstreamAddress(Message<Object> message, JsonObject request) {
    if (!(request.getValue("address") instanceof String address) || address.isEmpty()) {
      message.fail(BAD_REQUEST, "address must be a non-empty string naming the downstream service, was "
        + describe(request.getValue("address")));
      return null;
    }
    if (downstreamTimeout(request.getValue("timeout"), maxTimeout) <= 0) {
      message.fail(BAD_REQUEST, "timeout must be a positive whole number of milliseconds, was " + describe(request.getValue("timeout")));
      return null;
    }
    if (address.equals(ownAddress) || address.startsWith(ownPrefix) || address.startsWith(INTERNAL_PREFIX)) {
      message.fail(FORBIDDEN, "the downstream address '" + address + "' is the single-flight verticle's own, or one of its internal"
        + " addresses (under '" + ownAddress + ".' or '" + INTERNAL_PREFIX + "'): refused whatever allowedAddresses says");
      return null;
    }
    if (!isAllowed(address)) {
      message.fail(FORBIDDEN, "the downstream address '" + address + "' is not in allowedAddresses");
      return null;
    }
    return address;
  }

  /**
   * Serves a batch request, {@code {keys, address, body?, timeout?}}: each key joins its flight, or
   * the open batch of the downstream address on its owner instance (with {@link BatchOptions}'
   * defaults); the batch's one downstream request carries {@code {keys, body}} with the body and
   * timeout of the request that opened it. The requester gets a JSON object holding its own keys
   * only, once all have their values, or the failure code of the first key that failed.
   */
  private void batch(Message<Object> message, boolean here) {
    if (!(message.body() instanceof JsonObject request)) {
      message.fail(BAD_REQUEST, "the body must be a JSON object with keys, was " + describe(message.body()));
      return;
    }
    if (!(request.getValue("keys") instanceof JsonArray keys) || keys.isEmpty()) {
      message.fail(BAD_REQUEST, "keys must be a non-empty array of non-empty strings, was " + describe(request.getValue("keys")));
      return;
    }
    for (Object entry : keys) {
      if (!(entry instanceof String key) || key.isEmpty()) {
        message.fail(BAD_REQUEST, "keys must hold non-empty strings only, had " + describe(entry));
        return;
      }
    }
    String address = downstreamAddress(message, request);
    if (address == null) {
      return;
    }
    List<String> via = message.headers().getAll(VIA_HEADER);
    Map<String, Promise<Object>> waiters = new LinkedHashMap<>();
    for (Object entry : keys) {
      String key = (String) entry;
      if (!via.isEmpty() && via.contains(viaEntry(key))) {
        message.fail(LOOP_DETECTED, "loop: this request comes from the flight of key '" + key + "' at '" + ownAddress
          + "' itself, which would wait for it for ever");
        return;
      }
      waiters.put(key, Promise.promise());
    }
    long timeoutMillis = downstreamTimeout(request.getValue("timeout"), maxTimeout);
    Object body = request.getValue("body");
    BatchGroup.Definition definition = new BatchGroup.Definition(address,
      batchKeys -> downstreamBatch(address, body, timeoutMillis, via, batchKeys), null,
      BatchOptions.DEFAULT_MAX_BATCH_SIZE, BatchOptions.DEFAULT_MAX_DELAY, true);
    List<Future<Object>> values = new ArrayList<>(waiters.size());
    waiters.values().forEach(waiter -> values.add(waiter.future()));
    Future.all(values).onComplete(all -> {
      if (all.failed()) {
        reply(message, Future.failedFuture(all.cause()));
        return;
      }
      JsonObject reply = new JsonObject(new LinkedHashMap<>(waiters.size() * 4 / 3 + 1));
      waiters.forEach((key, waiter) -> reply.put(key, waiter.future().result()));
      reply(message, Future.succeededFuture(reply));
    });
    if (here) {
      joinHere(waiters, definition);
    } else {
      keyOwners.join(message, waiters, definition);
    }
  }

  /** Joins each key of a batch request to its flight in this instance's flight map; on its event loop. */
  public void joinHere(Map<String, Promise<Object>> waiters, BatchGroup.Definition definition) {
    waiters.forEach((key, waiter) -> flights.join(key, waiter, false, 0L, batches.member(key, definition)));
  }

  /**
   * The one downstream request of a JSON batch: {@code {keys, body}} to {@code address}, whose reply
   * must be a JSON object keyed by key; it carries {@link #VIA_HEADER} for each of its keys.
   */
  private Future<Map<String, Object>> downstreamBatch(String address, Object body, long timeoutMillis, List<String> via,
                                                      Set<String> keys) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    via.forEach(entry -> headers.add(VIA_HEADER, entry));
    keys.forEach(key -> headers.add(VIA_HEADER, viaEntry(key)));
    JsonObject request = new JsonObject().put("keys", new JsonArray(new ArrayList<>(keys))).put("body", body);
    return eventBus.request(address, request, new DeliveryOptions().setSendTimeout(timeoutMillis).setHeaders(headers))
      .compose(reply -> {
        if (!(reply.body() instanceof JsonObject values)) {
          return Future.failedFuture(new IllegalStateException("the batch service at '" + address
            + "' replied " + describe(reply.body()) + ", not a JSON object keyed by key"));
        }
        Map<String, Object> byKey = new HashMap<>(keys.size() * 4 / 3 + 1);
        for (String key : keys) {
          if (values.containsKey(key)) {
            byKey.put(key, values.getValue(key));
          }
        }
        return Future.succeededFuture(byKey);
      });
  }

  /** @return the value of {@link #VIA_HEADER} that names the flight of {@code key} here */
  String viaEntry(String key) {
    return new JsonArray().add(ownAddress).add(key).encode();
  }

  EventBus eventBus() {
    return eventBus;
  }

  /**
   * @param timeout a request's {@code timeout} field, or {@code null}
   * @return its downstream timeout in ms, capped at {@code maxTimeout} (the default, 30 000 ms, too);
   * 0 when the field is not a positive whole number
   */
  public static long downstreamTimeout(Object timeout, long maxTimeout) {
    if (timeout == null) {
      return Math.min(DeliveryOptions.DEFAULT_TIMEOUT, maxTimeout);
    }
    BigDecimal millis = JsonNumbers.whole(timeout);
    if (millis == null || millis.signum() <= 0) {
      return 0;
    }
    return millis.compareTo(BigDecimal.valueOf(maxTimeout)) > 0 ? maxTimeout : millis.longValueExact();
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

  /**
   * Replies a flight's outcome: its value, or a failure code for its failure. A value that cannot be
   * sent to this requester (no event-bus codec, JSON holding a non-JSON value) fails it with 500
   * naming the type; the flight's other callers are not affected.
   */
  public static void reply(Message<Object> message, AsyncResult<Object> outcome) {
    if (outcome.failed()) {
      Throwable failure = outcome.cause();
      message.fail(codeOf(failure), failure instanceof ReplyException ? failure.getMessage() : failure.toString());
      return;
    }
    try {
      message.reply(outcome.result());
    } catch (RuntimeException cannotSend) {
      message.fail(INTERNAL_ERROR, "the flight's result, a " + outcome.result().getClass().getName()
        + ", cannot be sent: " + cannotSend.getMessage());
    }
  }

  /** @return the JSON-protocol failure code of a flight's failure */
  public static int codeOf(Throwable failure) {
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

  /** @return a short description of a request's value for a 400's message; never throws, whatever the value holds */
  private static String describe(Object value) {
    if (value == null) {
      return "missing";
    }
    if (value instanceof String s) {
      return "'" + s + "'";
    }
    String shown;
    try {
      shown = String.valueOf(value);
    } catch (RuntimeException notPrintable) {
      // A JsonObject holding a value that does not encode, say.
      shown = "(not printable)";
    }
    return value.getClass().getSimpleName() + " " + shown;
  }
}
