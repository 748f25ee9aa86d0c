package dev.singleflight.examples.bridge;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * UsersService stands for a slow service on the event bus, at {@value #ADDRESS}. It answers a request
 * {@code {"id": n}} with {@code {"id": n, "name": "User n", "request": k}} once its latency has passed,
 * where {@code k} numbers the request among all those the service received: callers that got the same
 * {@code k} shared one request. An id outside 1 to {@value #USERS} fails with 404, a body without an
 * integer {@code id} with 400. It counts its requests.
 *
 * <p>{@link #release()} ends the latency of the requests waiting and of all later ones at once: tests
 * use it to choose when the service answers.
 */
public final class UsersService extends VerticleBase {

  /** The service's event-bus address. */
  public static final String ADDRESS = "users.service";
  /** The users are numbered 1 to {@value}. */
  public static final int USERS = 1000;

  private final Duration latency;
  private final AtomicInteger requests = new AtomicInteger();
  /** Completed on the verticle's event loop, where the answers wait for it. */
  private final Promise<Void> released = Promise.promise();

  /**
   * A service whose answers take {@code latency}, unless {@link #release() released}.
   *
   * @param latency how long each request waits before its answer
   */
  public UsersService(Duration latency) {
    this.latency = latency;
  }

  /**
   * Registers the service at {@value #ADDRESS}.
   *
   * @return a Future completed once the service takes requests
   */
  @Override
  public Future<?> start() {
    return vertx.eventBus().consumer(ADDRESS, this::answer).completion();
  }

  /** @return the requests received so far */
  public int requests() {
    return requests.get();
  }

  /** Ends the latency of the requests waiting now and of every later one; call it once deployed. */
  public void release() {
    context.runOnContext(v -> released.tryComplete());
  }

  private void answer(Message<Object> message) {
    int request = requests.incrementAndGet();
    if (!(message.body() instanceof JsonObject query) || !(query.getValue("id") instanceof Integer id)) {
      message.fail(400, "the body must be {\"id\": <user id>}, was " + message.body());
      return;
    }
    Future.any(vertx.timer(latency.toMillis(), TimeUnit.MILLISECONDS), released.future()).onComplete(done -> {
      if (id < 1 || id > USERS) {
        message.fail(404, "no user " + id);
      } else {
        message.reply(new JsonObject().put("id", id).put("name", "User " + id).put("request", request));
      }
    });
  }
}
