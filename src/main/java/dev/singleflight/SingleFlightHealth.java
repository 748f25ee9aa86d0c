package dev.singleflight;

import dev.singleflight.impl.FlightMap;
import dev.singleflight.impl.local.FlightServer;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A health-check procedure for a {@link SingleFlightVerticle}, for vertx-health-check (an optional
 * dependency: add {@code io.vertx:vertx-health-check} to use this class):
 *
 * <pre>{@code
 * HealthChecks checks = HealthChecks.create(vertx);
 * checks.register("singleflight", SingleFlightHealth.procedure(vertx, SingleFlightOptions.DEFAULT_ADDRESS, Duration.ofSeconds(30)));
 * }</pre>
 *
 * <p>The procedure asks every instance of the verticle deployed at the address in this Vert.x
 * instance, on its own event loop, which flights are running (a node's own verticle: on a cluster each
 * node checks its own). Its status is
 * <ul>
 *   <li>DOWN when no verticle is deployed at the address, it is stopping, or an instance did not answer
 *   within the answer timeout (its event loop is blocked): data {@code address} and {@code error};</li>
 *   <li>DOWN when a flight has run longer than {@code maxFlightAge} (a stuck function or service);</li>
 *   <li>UP otherwise.</li>
 * </ul>
 * Whenever the verticle answered, the data hold {@code address}, {@code flights} (the flights running
 * now, forgotten ones still running included), {@code oldestFlightMillis} (how long the oldest of them
 * has run, in milliseconds; 0 when none runs) and {@code maxFlightAgeMillis}. No key is reported: keys
 * may be sensitive, and health endpoints are often public.
 *
 * <p>Without Micrometer metrics, flights read no clock until the procedure first runs (so that a
 * verticle without a health check pays nothing): a flight that started before that first run counts
 * its age from it. Register the procedure when the application starts, as health checks usually are.
 */
public final class SingleFlightHealth {

  /** How long the procedure waits for the verticle's answer by default: {@code 500 ms}, half vertx-health-check's own timeout. */
  public static final Duration DEFAULT_ANSWER_TIMEOUT = Duration.ofMillis(500);

  private SingleFlightHealth() {
  }

  /**
   * The procedure, waiting {@link #DEFAULT_ANSWER_TIMEOUT} for the verticle's answer.
   *
   * @param vertx the Vert.x instance the verticle is deployed in
   * @param address the verticle's address ({@link SingleFlightOptions#getAddress()})
   * @param maxFlightAge a flight that has run longer makes the status DOWN; positive
   * @return the procedure, for {@code HealthChecks.register(name, procedure)}
   * @throws NullPointerException when an argument is {@code null}
   * @throws IllegalArgumentException when {@code maxFlightAge} is not positive
   * @see #procedure(Vertx, String, Duration, Duration)
   */
  public static Handler<Promise<Status>> procedure(Vertx vertx, String address, Duration maxFlightAge) {
    return procedure(vertx, address, maxFlightAge, DEFAULT_ANSWER_TIMEOUT);
  }

  /**
   * The procedure for the verticle deployed at {@code address} in {@code vertx}; register it with
   * {@code HealthChecks.register(name, procedure)}. Each run completes its promise with a
   * {@link Status}, UP or DOWN as the class describes, never with a failure; it may be called on any
   * thread and never blocks.
   *
   * @param vertx the Vert.x instance the verticle is deployed in
   * @param address the verticle's address ({@link SingleFlightOptions#getAddress()})
   * @param maxFlightAge a flight that has run longer makes the status DOWN; positive
   * @param answerTimeout how long to wait for the verticle's answer before reporting DOWN; positive.
   *                      Keep it below the timeout the procedure is registered with (vertx-health-check's
   *                      default: 1 s), or that timeout reports first, without the data
   * @return the procedure, for {@code HealthChecks.register(name, procedure)}
   * @throws NullPointerException when an argument is {@code null}
   * @throws IllegalArgumentException when a duration is not positive
   */
  public static Handler<Promise<Status>> procedure(Vertx vertx, String address, Duration maxFlightAge, Duration answerTimeout) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(address, "address");
    long maxAgeMillis = positiveMillis(maxFlightAge, "maxFlightAge");
    long answerMillis = positiveMillis(answerTimeout, "answerTimeout");
    return promise -> FlightServer.running(vertx, address).timeout(answerMillis, TimeUnit.MILLISECONDS).onComplete(answer -> {
      JsonObject data = new JsonObject().put("address", address);
      if (answer.failed()) {
        String error = answer.cause() instanceof TimeoutException
          ? "the verticle did not answer within " + answerMillis + " ms: an event loop of it is blocked"
          : answer.cause().getMessage();
        promise.tryComplete(Status.KO(data.put("error", error)));
        return;
      }
      FlightMap.Running running = answer.result();
      long oldestMillis = running.count() == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - running.oldestStartNanos());
      data.put("flights", running.count()).put("oldestFlightMillis", oldestMillis).put("maxFlightAgeMillis", maxAgeMillis);
      promise.tryComplete(oldestMillis > maxAgeMillis ? Status.KO(data) : Status.OK(data));
    });
  }

  private static long positiveMillis(Duration duration, String name) {
    Objects.requireNonNull(duration, name);
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, was " + duration);
    }
    return duration.toMillis() == 0 ? 1 : duration.toMillis();
  }
}
