package dev.singleflight;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.TimeUnit;

/**
 * The main of the JVMs that {@link OptionalDependenciesTest} starts: deploys the verticle on a Vert.x
 * instance, traced with OpenTelemetry when its argument is {@code traced}, runs a blocking, an async
 * and a JSON flight, and prints {@code flights done}.
 */
public final class ClassLoadingProbe {

  private ClassLoadingProbe() {
  }

  public static void main(String[] args) throws Exception {
    Vertx vertx = args.length > 0 && args[0].equals("traced") ? Traced.vertx() : Vertx.vertx();
    vertx.deployVerticle(new SingleFlightVerticle()).await(20, TimeUnit.SECONDS);
    SingleFlight flights = SingleFlight.createProxy(vertx);
    vertx.eventBus().consumer("probe.service", message -> message.reply("json"));
    String blocking = flights.flight("a", () -> "blocking").await(20, TimeUnit.SECONDS);
    String async = flights.flightAsync("b", () -> Future.succeededFuture("async")).await(20, TimeUnit.SECONDS);
    Object json = vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS,
      new JsonObject().put("key", "c").put("address", "probe.service")).await(20, TimeUnit.SECONDS).body();
    vertx.close().await(20, TimeUnit.SECONDS);
    System.out.println("flights done: " + blocking + " " + async + " " + json);
  }

  /** Loaded only for a traced run: the probe itself must run without OpenTelemetry on the class path. */
  private static final class Traced {
    static Vertx vertx() {
      return TracingTest.tracedVertx(OpenTelemetrySdk.builder().build());
    }
  }
}
