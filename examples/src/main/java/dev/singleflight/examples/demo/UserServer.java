package dev.singleflight.examples.demo;

import dev.singleflight.Batch;
import dev.singleflight.BatchOptions;
import dev.singleflight.SingleFlight;
import dev.singleflight.examples.demo.UserDao.User;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;

import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * UserServer is the demo's HTTP server, on 127.0.0.1. Every request is a cache miss (the demo has no
 * cache: this is the instant a hot entry expires), so each one needs the database:
 * <ul>
 *   <li>{@code GET /users/:id} looks the user up through {@link SingleFlight#flight}: concurrent
 *   requests for one id share one query;</li>
 *   <li>{@code GET /hedged/users/:id} looks the user up the same way through a second single-flight
 *   verticle, whose slow flights are hedged ({@code hedgeAfter});</li>
 *   <li>{@code GET /direct/users/:id} runs one query per request through {@code executeBlocking};</li>
 *   <li>{@code GET /batched/users/:id} looks the user up through a {@link Batch}: the ids asked
 *   within 100 ms share one {@code SELECT ... WHERE id IN (...)} per batch of up to 100, and
 *   requests for one id share its place in the batch;</li>
 *   <li>{@code GET /health} answers at once;</li>
 *   <li>{@code GET /metrics} answers the Vert.x instance's metrics in the Prometheus text format,
 *   the single-flight verticle's {@code singleflight_*} meters among them.</li>
 * </ul>
 * The user routes answer the user as JSON, 404 for an unknown id and 400 for an id that is not a
 * number. The queries block, so they run on worker threads; the handlers never block their event loop.
 */
public final class UserServer {

  /** Route of the lookup collapsed by single flight. */
  public static final String COLLAPSED = "/users/";
  /** Route of the lookup collapsed by a single-flight verticle that hedges slow flights. */
  public static final String HEDGED = "/hedged/users/";
  /** Route of the same lookup, one query per request. */
  public static final String DIRECT = "/direct/users/";
  /** Route of the lookup batched: one query for many ids. */
  public static final String BATCHED = "/batched/users/";
  /** Route that answers 200 at once, without the database. */
  public static final String HEALTH = "/health";
  /** Route of the metrics, for Prometheus to scrape. */
  public static final String METRICS = "/metrics";

  private final Vertx vertx;
  private final SingleFlight flights;
  private final Batch<UserDao.User> batchedUsers;
  private final SingleFlight hedged;
  private final UserDao dao;
  private final PrometheusMeterRegistry registry;
  private final StampedeGate gate = new StampedeGate();
  /** Written by the instances' start, read after the deployment completed. */
  private volatile int port;
  private String deploymentId;

  private UserServer(Vertx vertx, SingleFlight flights, SingleFlight hedged, UserDao dao, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.flights = flights;
    this.hedged = hedged;
    this.dao = dao;
    this.batchedUsers = batchedUsers(flights, dao, gate);
    this.registry = registry;
  }

  /**
   * Starts the server: one instance per event loop given, all on one port, as Vert.x shares it.
   *
   * @param vertx the Vert.x instance
   * @param flights a proxy of a deployed {@link dev.singleflight.SingleFlightVerticle}
   * @param hedged a proxy of another one, which hedges slow flights
   * @param dao the users
   * @param registry the registry of {@code vertx}'s Micrometer metrics, served at {@link #METRICS}
   * @param port the port on 127.0.0.1; 0 picks a free one
   * @param instances how many server verticles to deploy, each on its event loop
   * @return the server, once every instance listens
   */
  public static Future<UserServer> start(Vertx vertx, SingleFlight flights, SingleFlight hedged, UserDao dao,
                                         PrometheusMeterRegistry registry, int port, int instances) {
    UserServer users = new UserServer(vertx, flights, hedged, dao, registry);
    // A negative port makes Vert.x pick one free port and share it between the instances.
    int listenPort = port == 0 ? -1 : port;
    return vertx.deployVerticle(() -> new VerticleBase() {
        @Override
        public Future<?> start() {
          return vertx.createHttpServer()
            .requestHandler(users.router())
            .listen(listenPort, "127.0.0.1")
            .onSuccess(server -> users.port = server.actualPort());
        }
      }, new DeploymentOptions().setInstances(instances))
      .map(deploymentId -> {
        users.deploymentId = deploymentId;
        return users;
      });
  }

  /** @return the port the server listens on */
  public int port() {
    return port;
  }

  /**
   * Makes the next {@code requests} lookups a stampede: each one waits to query the database until
   * all of them have reached a route, so they all meet the cold cache at once, at whatever pace they
   * come. A request counts as arrived once its {@code flight} call has returned, and the
   * proxy hands a call to the verticle's event loop before returning; no flight can end before the
   * last arrival, so every call of the stampede joins the flight of its id: the collapsed route runs
   * exactly one query per id. A request that never comes holds the others at most
   * {@link StampedeGate#LIMIT_SECONDS} seconds.
   *
   * @param requests the requests of the stampede, positive
   */
  public void expectStampede(int requests) {
    gate.expect(requests);
  }

  /**
   * The batch of the batched route: its blocking loader runs one query for all the ids of a batch
   * (the route's ids are numbers), once the stampede has arrived.
   */
  private static Batch<UserDao.User> batchedUsers(SingleFlight flights, UserDao dao, StampedeGate gate) {
    // tag::batch[]
    // One SELECT ... WHERE id IN (...) per batch, on a worker thread: a batch takes the ids asked
    // within 100 ms of its first, up to 100 of them.
    return flights.batch("users", ids -> {
      gate.awaitAll();
      Map<Integer, User> found = dao.findAll(ids.stream().map(Integer::valueOf).toList());
      return found.values().stream().collect(Collectors.toMap(user -> String.valueOf(user.id()), user -> user));
    }, new BatchOptions().setMaxBatchSize(100).setMaxDelay(100));
    // end::batch[]
  }

  /** Closes the server. */
  public Future<Void> close() {
    return vertx.undeploy(deploymentId);
  }

  /** @return the routes, for one server instance */
  private Router router() {
    Router router = Router.router(vertx);
    router.get(COLLAPSED + ":id").handler(ctx -> lookUp(ctx,
      id -> flights.flight("user:" + id, () -> find(id))));
    router.get(HEDGED + ":id").handler(ctx -> lookUp(ctx,
      id -> hedged.flight("user:" + id, () -> find(id))));
    router.get(DIRECT + ":id").handler(ctx -> lookUp(ctx,
      id -> vertx.executeBlocking(() -> find(id), false)));
    router.get(BATCHED + ":id").handler(ctx -> lookUp(ctx,
      id -> batchedUsers.get(String.valueOf(id)).map(Optional::ofNullable)));
    router.get(HEALTH).handler(ctx -> answer(ctx, 200, new JsonObject().put("status", "up")));
    router.get(METRICS).handler(PrometheusScrapingHandler.create(registry));
    return router;
  }

  /** The lookup of the collapsed and direct routes; blocks, so it runs on a worker thread. */
  private Optional<User> find(int id) throws Exception {
    gate.awaitAll();
    return dao.find(id);
  }

  /** Starts the lookup, counts the arrival, then answers the lookup's outcome. */
  private void lookUp(RoutingContext ctx, IntFunction<Future<Optional<User>>> lookup) {
    int id;
    try {
      id = Integer.parseInt(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      gate.arrived();
      answer(ctx, 400, new JsonObject().put("error", "the user id must be an integer"));
      return;
    }
    Future<Optional<User>> user = lookup.apply(id);
    gate.arrived();
    user.onComplete(found -> {
      if (found.failed()) {
        answer(ctx, 500, new JsonObject().put("error", String.valueOf(found.cause())));
      } else if (found.result().isPresent()) {
        answer(ctx, 200, found.result().get().toJson());
      } else {
        answer(ctx, 404, new JsonObject().put("error", "no user " + id));
      }
    });
  }

  private static void answer(RoutingContext ctx, int status, JsonObject body) {
    ctx.response()
      .setStatusCode(status)
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .end(body.encode());
  }

  /**
   * Holds database lookups until every request of a stampede has arrived. Arrivals are counted on
   * event loops, after the request's lookup was started; only worker threads wait.
   */
  static final class StampedeGate {

    /** Longest wait for the requests of a stampede, in seconds. */
    static final long LIMIT_SECONDS = 10;

    /** Open (count 0) outside a stampede. */
    private volatile CountDownLatch arrivals = new CountDownLatch(0);

    void expect(int requests) {
      arrivals = new CountDownLatch(requests);
    }

    void arrived() {
      arrivals.countDown();
    }

    void awaitAll() throws InterruptedException {
      arrivals.await(LIMIT_SECONDS, TimeUnit.SECONDS);
    }
  }
}
