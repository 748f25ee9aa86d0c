package dev.singleflight.bench;

import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** What the scenarios share: deployments, the baselines' verticles, and waiting from a plain thread. */
final class Bench {

  /** The address of the {@link Echo} and {@link BlockingEcho} baselines. */
  static final String ECHO = "bench.echo";
  /** The value every function of the scenarios returns. */
  static final String VALUE = "value";
  /** The trivial blocking function of scenario 4. */
  static final Callable<String> BLOCKING_FN = () -> VALUE;

  private Bench() {
  }

  /** Waits for {@code future} from a plain thread, at most a minute. */
  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Deploys a {@link SingleFlightVerticle} at the default address with {@code instances} instances. */
  static void deploySingleFlight(Vertx vertx, int instances) {
    await(vertx.deployVerticle(SingleFlightVerticle.class, new DeploymentOptions().setInstances(instances)));
  }

  /** Deploys {@code instances} instances of {@code verticle}. */
  static void deploy(Vertx vertx, Supplier<VerticleBase> verticle, int instances) {
    await(vertx.deployVerticle(verticle, new DeploymentOptions().setInstances(instances)));
  }

  /**
   * Deploys {@code count} instances of an empty verticle and returns their contexts, each on an event
   * loop of its own (as long as the Vert.x instance has that many event loops left): where the
   * callers of the scenarios run, as the request handlers of a server would.
   */
  static List<Context> callerContexts(Vertx vertx, int count) {
    List<Context> contexts = new ArrayList<>();
    deploy(vertx, () -> new VerticleBase() {
      @Override
      public Future<?> start() {
        synchronized (contexts) {
          contexts.add(context);
        }
        return Future.succeededFuture();
      }
    }, count);
    return contexts;
  }

  /** Runs {@code calls} on {@code context}, or here when it is {@code null}, and waits for the Future they return. */
  static void runOn(Context context, Supplier<Future<?>> calls) {
    if (context == null) {
      await(calls.get());
      return;
    }
    Promise<Object> done = Promise.promise();
    context.runOnContext(v -> calls.get().onComplete(done));
    await(done.future());
  }

  /** Baseline (c): a consumer that answers every request at once with its body. */
  static final class Echo extends VerticleBase {
    @Override
    public Future<?> start() {
      return vertx.eventBus().consumer(ECHO, (Message<Object> message) -> message.reply(message.body())).completion();
    }
  }

  /** Baseline (d): a consumer that runs {@link #BLOCKING_FN} with {@code executeBlocking(fn, false)} and replies. */
  static final class BlockingEcho extends VerticleBase {
    @Override
    public Future<?> start() {
      return vertx.eventBus().consumer(ECHO, (Message<Object> message) ->
        vertx.executeBlocking(BLOCKING_FN, false).onComplete((value, failure) -> {
          if (failure != null) {
            message.fail(500, String.valueOf(failure));
          } else {
            message.reply(value);
          }
        })).completion();
    }
  }
}
