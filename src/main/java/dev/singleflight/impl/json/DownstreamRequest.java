package dev.singleflight.impl.json;

import dev.singleflight.impl.Execution;
import dev.singleflight.impl.Flight;
import dev.singleflight.impl.FlightMap;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;

/**
 * The execution of a JSON-protocol flight: one event-bus request to the real service. Its outcome is the
 * reply body, or Vert.x's own {@link io.vertx.core.eventbus.ReplyException} (the service's failure,
 * no handlers, or a timeout). A body without an event-bus codec throws while starting.
 */
final class DownstreamRequest implements Execution {

  private final EventBus eventBus;
  private final String address;
  private final Object body;
  private final DeliveryOptions delivery;

  DownstreamRequest(EventBus eventBus, String address, Object body, DeliveryOptions delivery) {
    this.eventBus = eventBus;
    this.address = address;
    this.body = body;
    this.delivery = delivery;
  }

  @Override
  public Future<Object> start(FlightMap flights, Flight flight) {
    return eventBus.request(address, body, delivery).map(Message::body);
  }
}
