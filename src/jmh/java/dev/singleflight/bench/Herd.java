package dev.singleflight.bench;

import dev.singleflight.SingleFlight;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Callers parked on one key whose function only {@link #release()} completes: what the herd
 * (scenario 1) and memory (scenario 2) measurements share, one subclass per contender.
 *
 * <p>A round is {@link #reset} to a fresh key, then callers {@link #call}, then {@link #release()}
 * serves them all. The baselines serve their callers within {@code release()}, the library on
 * its event loop: {@link #settled()} tells when it is done. Each caller is given the shared {@link Countdown} as its only listener. A caller
 * on a Vert.x context gets its value on that context, as a Vert.x caller must: the library does that
 * itself, the baselines through {@code Future.fromCompletionStage(future, context)}.
 */
abstract class Herd {

  /** The contenders, by the name the results use. */
  static final String SINGLE_FLIGHT = "singleFlight";
  static final String HAND_ROLLED = "handRolled";
  static final String CAFFEINE = "caffeine";

  /**
   * @param contender {@link #SINGLE_FLIGHT} (a verticle must be deployed at the default address),
   *                  {@link #HAND_ROLLED} or {@link #CAFFEINE}
   * @param timeout each caller's timeout, or {@code null} for none
   */
  static Herd create(String contender, Vertx vertx, Duration timeout) {
    return switch (contender) {
      case SINGLE_FLIGHT -> new SingleFlightHerd(SingleFlight.createProxy(vertx), timeout);
      case HAND_ROLLED -> new HandRolledHerd(timeout);
      case CAFFEINE -> new CaffeineHerd(timeout);
      default -> throw new IllegalArgumentException("unknown contender " + contender);
    };
  }

  /** Starts a round: the next call for {@code key} leads a new flight. */
  abstract void reset(String key);

  /** Makes one call for the round's key on the current thread; {@code served} hears its outcome. */
  abstract void call(Countdown served);

  /**
   * Makes {@code callers} calls on {@code context}, or on this thread when it is {@code null}, and
   * returns once every one of them waits on the flight.
   */
  final void park(Context context, int callers, Countdown served) {
    Bench.runOn(context, () -> {
      for (int i = 0; i < callers; i++) {
        call(served);
      }
      return settled();
    });
  }

  /**
   * @return a Future completed once the contender did all it was asked on this thread so far: every
   * call made waits on the flight, every caller of a released round was served and nothing of the
   * serving still runs
   */
  Future<?> settled() {
    return Future.succeededFuture();
  }

  /** Completes the function of the round's flight with {@link Bench#VALUE}, on the current thread. */
  abstract void release();

  private static final class SingleFlightHerd extends Herd {

    private final SingleFlight proxy;
    private final Duration timeout;
    private String key;
    private Promise<String> gate;
    private Supplier<Future<String>> fn;

    SingleFlightHerd(SingleFlight proxy, Duration timeout) {
      this.proxy = proxy;
      this.timeout = timeout;
    }

    @Override
    void reset(String key) {
      this.key = key;
      Promise<String> round = Promise.promise();
      gate = round;
      fn = round::future;
    }

    @Override
    void call(Countdown served) {
      (timeout == null ? proxy.flightAsync(key, fn) : proxy.flightAsync(key, fn, timeout)).onComplete(served);
    }

    /**
     * The verticle handles the calls of one sender in order, one at a time: once a later call is
     * answered, all were joined, and a fan-out that was running has ended.
     */
    @Override
    Future<?> settled() {
      return proxy.flightAsync(key + "/probe", () -> Future.succeededFuture(Bench.VALUE));
    }

    @Override
    void release() {
      gate.complete(Bench.VALUE);
    }
  }

  /** The baselines: {@link CompletableFuture}s, a caller on a Vert.x context hops back to it. */
  private abstract static class CompletableFutureHerd extends Herd {

    private final Duration timeout;
    String key;
    CompletableFuture<String> gate;

    CompletableFutureHerd(Duration timeout) {
      this.timeout = timeout;
    }

    @Override
    void reset(String key) {
      this.key = key;
      gate = new CompletableFuture<>();
    }

    abstract CompletableFuture<String> flight();

    @Override
    void call(Countdown served) {
      CompletableFuture<String> flight = flight();
      if (timeout != null) {
        flight = flight.copy().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
      }
      Context context = Vertx.currentContext();
      if (context == null) {
        flight.whenComplete(served);
      } else {
        Future.fromCompletionStage(flight, context).onComplete(served);
      }
    }

    @Override
    void release() {
      gate.complete(Bench.VALUE);
    }
  }

  private static final class HandRolledHerd extends CompletableFutureHerd {

    private final HandRolledSingleFlight<String> flights = new HandRolledSingleFlight<>();

    HandRolledHerd(Duration timeout) {
      super(timeout);
    }

    @Override
    CompletableFuture<String> flight() {
      CompletableFuture<String> round = gate;
      return flights.flight(key, () -> round);
    }
  }

  private static final class CaffeineHerd extends CompletableFutureHerd {

    private final CaffeineSingleFlight<String> flights = new CaffeineSingleFlight<>();

    CaffeineHerd(Duration timeout) {
      super(timeout);
    }

    @Override
    CompletableFuture<String> flight() {
      CompletableFuture<String> round = gate;
      return flights.flight(key, () -> round);
    }
  }
}
