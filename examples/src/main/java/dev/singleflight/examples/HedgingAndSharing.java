package dev.singleflight.examples;

import dev.singleflight.FlightResult;
import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.Set;

/**
 * HedgingAndSharing deploys a verticle that hedges slow flights and copies results for the callers
 * that did not start the flight, asks what a caller shared, and lists the keys in flight.
 */
public final class HedgingAndSharing {

  private HedgingAndSharing() {
  }

  /**
   * Deploys a verticle whose flights are hedged once after 50 ms, at the default address.
   *
   * @param vertx the Vert.x instance
   * @return a proxy, once the verticle is deployed
   */
  public static Future<SingleFlight> deployHedged(Vertx vertx) {
    // tag::hedge[]
    // A flight still running after 50 ms starts the same function once more; the first success wins.
    SingleFlightOptions options = new SingleFlightOptions()
      .setHedgeAfter(50)
      .setMaxHedges(1);
    return vertx.deployVerticle(new SingleFlightVerticle(options))
      .map(id -> SingleFlight.createProxy(vertx));
    // end::hedge[]
  }

  /**
   * Deploys a verticle that gives every caller but a flight's leader its own copy of a JSON result.
   *
   * @param vertx the Vert.x instance
   * @return a proxy, once the verticle is deployed
   */
  public static Future<SingleFlight> deployCopying(Vertx vertx) {
    // tag::copy[]
    SingleFlightOptions options = new SingleFlightOptions().setCopyResults(true);
    return vertx.deployVerticle(new SingleFlightVerticle(options))
      .map(id -> SingleFlight.createProxy(vertx));
    // end::copy[]
  }

  /**
   * Reads the profile of user {@code id} and marks it for this caller, without touching what other
   * callers of the flight got.
   *
   * @param flights the proxy
   * @param store the names by user id
   * @param id the user
   * @return the profile, marked with who read it
   */
  public static Future<JsonObject> profile(SingleFlight flights, SlowStore store, String id) {
    // tag::result[]
    return flights.flightResult("profile:" + id, () -> new JsonObject().put("name", store.read(id)), Duration.ofSeconds(2))
      .map((FlightResult<JsonObject> result) -> {
        // Other callers hold this very JsonObject when it was shared: change a copy of it.
        JsonObject profile = result.shared() ? result.value().copy() : result.value();
        return profile.put("read", result.leader() ? "by this call" : "by another call");
      });
    // end::result[]
  }

  /**
   * @param vertx the Vert.x instance of the verticle
   * @param flights its proxy
   * @return the keys in flight, from the proxy and from the JSON protocol, which must agree
   */
  public static Future<Set<String>> stuckKeys(Vertx vertx, SingleFlight flights) {
    // tag::inflight[]
    Future<Set<String>> fromTheProxy = flights.inFlight();
    // From anywhere on the event bus: {"keys": [...], "total": n, "truncated": false}.
    Future<JsonObject> fromJson = vertx.eventBus().<JsonObject>request(SingleFlightOptions.DEFAULT_ADDRESS, null,
      new DeliveryOptions().addHeader("action", "inflight")).map(Message::body);
    // end::inflight[]
    return Future.all(fromTheProxy, fromJson).map(both -> {
      if (fromJson.result().getJsonArray("keys").size() != fromTheProxy.result().size()) {
        throw new IllegalStateException("the proxy and the JSON protocol disagree: " + both);
      }
      return fromTheProxy.result();
    });
  }
}
