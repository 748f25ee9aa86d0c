package dev.singleflight.impl.json;

import dev.singleflight.impl.Execution;
import dev.singleflight.impl.Flight;
import dev.singleflight.impl.FlightMap;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

import java.util.List;

/**
 * The execution of a JSON-protocol flight: one event-bus request to the real service. Its outcome is the
 * reply body, or Vert.x's own {@link io.vertx.core.eventbus.ReplyException} (the service's failure,
 * no handlers, or a timeout). A body without an event-bus codec throws while starting. The request
 * carries {@link JsonProtocol#VIA_HEADER}: the flights the leading request came through, and this one.
 */
final class DownstreamRequest implements Execution {

  private final JsonProtocol protocol;
  private final String address;
  private final Object body;
  private final long timeoutMillis;
  private final String key;
  private final List<String> via;

  DownstreamRequest(JsonProtocol protocol, String address, Object body, long timeoutMillis, String key, List<String> via) {
    this.protocol = protocol;
    this.address = address;
    this.body = body;
    this.timeoutMillis = timeoutMillis;
    this.key = key;
    this.via = via;
  }

  /** Builds the headers only here: the requests that join a running flight never need them. */
  @Override
  public Future<Object> start(FlightMap flights, Flight flight) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    via.forEach(entry -> headers.add(JsonProtocol.VIA_HEADER, entry));
    headers.add(JsonProtocol.VIA_HEADER, protocol.viaEntry(key));
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(timeoutMillis).setHeaders(headers);
    return protocol.eventBus().request(address, body, delivery).map(Message::body);
  }
}
