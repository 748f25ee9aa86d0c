package dev.singleflight.examples;

import dev.singleflight.Batch;
import dev.singleflight.BatchOptions;
import dev.singleflight.SingleFlight;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * BatchedLookups asks a users service for many users through a {@link Batch}: the ids asked at about
 * the same time go to the service in one request, {@code ["1", "2", ...]}, whose reply is a JSON
 * object keyed by id.
 */
public final class BatchedLookups {

  /** The address of the users service, which takes a JSON array of ids. */
  public static final String USERS = "users.by-ids";

  private BatchedLookups() {
  }

  /**
   * Makes the batch of users, once for the application.
   *
   * @param vertx the Vert.x instance the service is on
   * @param flights the proxy
   * @return the batch
   */
  public static Batch<JsonObject> users(Vertx vertx, SingleFlight flights) {
    // tag::batchAsync[]
    // The loader must not block: it runs on the verticle's event loop, once per batch of up to 50 ids
    // gathered for at most 10 ms.
    return flights.batchAsync("users", ids -> vertx.eventBus()
        .<JsonObject>request(USERS, new JsonArray(List.copyOf(ids)))
        .map(reply -> {
          JsonObject byId = reply.body();
          return ids.stream().filter(byId::containsKey)
            .collect(Collectors.toMap(id -> id, byId::getJsonObject));
        }),
      new BatchOptions().setMaxBatchSize(50).setMaxDelay(10));
    // end::batchAsync[]
  }

  /**
   * Gets one user and three more: calls made together share the service's requests.
   *
   * @param users the batch
   * @return the user 1, then the users 1, 2 and 3 by id; a user the service does not know is {@code null}
   */
  public static Future<List<Object>> lookUp(Batch<JsonObject> users) {
    // tag::get[]
    Future<JsonObject> one = users.get("1");
    Future<Map<String, JsonObject>> some = users.getAll(List.of("1", "2", "3"));
    // end::get[]
    return Future.all(one, some).map(all -> List.of(one.result(), some.result()));
  }

  /**
   * Runs the example against a users service that knows users 1 and 2.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx();
    try {
      SingleFlight flights = DeployAndFlight.deploy(vertx).await();
      int[] requests = {0};
      vertx.eventBus().<JsonArray>consumer(USERS, request -> {
        requests[0]++;
        JsonObject byId = new JsonObject();
        request.body().stream().filter(id -> !"3".equals(id))
          .forEach(id -> byId.put((String) id, new JsonObject().put("id", id).put("name", "User " + id)));
        request.reply(byId);
      }).completion().await();
      List<Object> found = lookUp(users(vertx, flights)).await();
      System.out.printf("user 1: %s; users 1 to 3: %s; the service got %d request(s)%n", found.get(0), found.get(1), requests[0]);
    } finally {
      vertx.close().await();
    }
  }
}
