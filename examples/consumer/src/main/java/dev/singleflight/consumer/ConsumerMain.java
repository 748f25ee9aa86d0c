package dev.singleflight.consumer;

import dev.singleflight.SingleFlight;
import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A user's program: deploys the verticle, makes three concurrent calls of one key whose function runs
 * once, and prints what they got. Exits with status 1 if the function did not run exactly once.
 */
public final class ConsumerMain {

  private ConsumerMain() {
  }

  public static void main(String[] args) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      vertx.deployVerticle(new SingleFlightVerticle()).await(20, TimeUnit.SECONDS);
      SingleFlight flights = SingleFlight.createProxy(vertx);
      AtomicInteger runs = new AtomicInteger();
      CountDownLatch release = new CountDownLatch(1);
      List<Future<String>> calls = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        calls.add(flights.flight("greeting", () -> {
          runs.incrementAndGet();
          release.await(20, TimeUnit.SECONDS);
          return "hello from one execution";
        }));
      }
      // The three calls are queued in order: a forget sent after them is answered after they joined.
      flights.forget("unrelated").await(20, TimeUnit.SECONDS);
      release.countDown();
      List<String> results = new ArrayList<>();
      for (Future<String> call : calls) {
        results.add(call.await(20, TimeUnit.SECONDS));
      }
      System.out.println("3 callers got " + results + " from " + runs.get() + " execution(s)");
      if (runs.get() != 1) {
        System.exit(1);
      }
    } finally {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }
}
