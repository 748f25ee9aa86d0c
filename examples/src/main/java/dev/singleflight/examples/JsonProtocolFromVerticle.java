package dev.singleflight.examples;

import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * JsonProtocolFromVerticle collapses plain event-bus requests, with no Java function: each request
 * names a key and the address of the real service, and the single-flight verticle sends that
 * service one request per flight. This is how another verticle, a bridge client or another language
 * uses the verticle.
 */
public final class JsonProtocolFromVerticle {

  /** The address of the real service. */
  public static final String REPORTS = "reports.service";

  private JsonProtocolFromVerticle() {
  }

  /**
   * A report service on the event bus: it takes 200 ms (a timer, not a blocked thread) per report,
   * and counts the reports it made.
   */
  public static final class ReportService extends VerticleBase {
    /** The reports made. */
    public final AtomicInteger made = new AtomicInteger();

    @Override
    public Future<?> start() {
      return vertx.eventBus().<JsonObject>consumer(REPORTS, request -> vertx.setTimer(200, id -> {
        made.incrementAndGet();
        request.reply(new JsonObject().put("day", request.body().getString("day")).put("orders", 42));
      })).completion();
    }
  }

  /**
   * Asks for the report of {@code day} through the single-flight verticle at the default address.
   *
   * @param vertx the Vert.x instance
   * @param day the day
   * @return the report: the one downstream reply, shared by every concurrent request of the day
   */
  public static Future<JsonObject> report(Vertx vertx, String day) {
    // tag::json[]
    JsonObject request = new JsonObject()
      .put("key", "report:" + day)        // requests with an equal key share one flight
      .put("address", REPORTS)            // the one real request of the flight goes there
      .put("body", new JsonObject().put("day", day))
      .put("timeout", 5_000);             // for the downstream request, in ms
    return vertx.eventBus().<JsonObject>request(SingleFlightOptions.DEFAULT_ADDRESS, request).map(Message::body);
    // end::json[]
  }

  /**
   * Runs the example: ten concurrent requests for one day's report.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx();
    try {
      ReportService service = new ReportService();
      vertx.deployVerticle(service).await();
      vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setAllowedAddresses(List.of(REPORTS)))).await();
      List<Future<JsonObject>> requests = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        requests.add(report(vertx, "2026-11-26"));
      }
      Future.all(requests).await();
      System.out.printf("10 requests got %s; the service made %d report(s)%n", requests.get(0).result(), service.made.get());
    } finally {
      vertx.close().await();
    }
  }
}
