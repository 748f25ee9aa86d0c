package dev.singleflight.examples;

import dev.singleflight.SingleFlight;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpResponseExpectation;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * AsyncFlightWithClient collapses non-blocking calls: concurrent callers asking for one price share
 * one HTTP request to a price service, which the example starts itself on 127.0.0.1.
 */
public final class AsyncFlightWithClient {

  private AsyncFlightWithClient() {
  }

  /**
   * Starts the price service: {@code GET /prices/:sku} answers {@code {"sku": ..., "price": ...}}
   * read from {@code prices} (on a worker thread), 404 for an unknown sku.
   *
   * @param vertx the Vert.x instance
   * @param prices the prices by sku
   * @return the server, once it listens on a free port of 127.0.0.1
   */
  public static Future<HttpServer> startPriceService(Vertx vertx, SlowStore prices) {
    Router router = Router.router(vertx);
    router.get("/prices/:sku").handler(ctx -> {
      String sku = ctx.pathParam("sku");
      vertx.executeBlocking(() -> prices.read(sku), false).onComplete(price -> {
        if (price.succeeded()) {
          ctx.json(new JsonObject().put("sku", sku).put("price", price.result()));
        } else if (price.cause() instanceof NoSuchElementException) {
          // Answered here: a failure left to the router is logged as an error, and an unknown sku is none.
          ctx.response().setStatusCode(404).end("no price for " + sku);
        } else {
          ctx.fail(price.cause());
        }
      });
    });
    return vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1");
  }

  /**
   * Gets the price of {@code sku} from the service; calls made while a request is out share it.
   *
   * @param flights the proxy
   * @param client the client
   * @param port the service's port on 127.0.0.1
   * @param sku the article
   * @return the service's answer; failed when it does not answer 200
   */
  public static Future<JsonObject> price(SingleFlight flights, WebClient client, int port, String sku) {
    // tag::async[]
    // The function must not block: it runs on the verticle's event loop, once for all the callers of the key.
    return flights.flightAsync("price:" + sku, () -> client
      .get(port, "127.0.0.1", "/prices/" + sku)
      .send()
      .expecting(HttpResponseExpectation.SC_OK)
      .map(HttpResponse::bodyAsJsonObject));
    // end::async[]
  }

  /**
   * Runs the example: three concurrent callers, a service that takes 300 ms, one HTTP request.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx();
    try {
      SingleFlight flights = DeployAndFlight.deploy(vertx).await();
      SlowStore prices = new SlowStore(Duration.ofMillis(300)).put("sku-7", "19.90");
      int port = startPriceService(vertx, prices).await().actualPort();
      WebClient client = WebClient.create(vertx);
      List<Future<JsonObject>> callers = List.of(
        price(flights, client, port, "sku-7"), price(flights, client, port, "sku-7"), price(flights, client, port, "sku-7"));
      Future.all(callers).await();
      System.out.printf("%d callers got %s; the service was asked %d time(s)%n",
        callers.size(), callers.get(0).result().encode(), prices.reads());
    } finally {
      vertx.close().await();
    }
  }
}
