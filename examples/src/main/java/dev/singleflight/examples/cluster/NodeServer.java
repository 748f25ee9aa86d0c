package dev.singleflight.examples.cluster;

import dev.singleflight.SingleFlight;
import dev.singleflight.examples.demo.UserDao;
import dev.singleflight.examples.demo.UserDao.User;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * NodeServer is the HTTP server of one cluster node, on 127.0.0.1. Every user request is a cache miss
 * that needs this node's own database, one lookup three ways:
 * <ul>
 *   <li>{@code GET /users/:id} through the cluster-wide single flight: concurrent requests for one id
 *   share one query in the whole cluster;</li>
 *   <li>{@code GET /local/users/:id} through a node-local single flight: one query per id per node;</li>
 *   <li>{@code GET /direct/users/:id} without single flight: one query per request.</li>
 * </ul>
 * They answer the user as JSON, 404 for an unknown id, 400 for an id that is not a number. The
 * launcher's routes: {@code GET /health}; {@code GET /stats}, this node's queries so far; and the
 * stampede gate, {@code POST /stampede} (close), {@code GET /stampede} (what arrived),
 * {@code POST /stampede/go} (open), see {@link Gate}.
 */
final class NodeServer {

  /** Route of the lookup collapsed across the cluster. */
  static final String CLUSTERED = "/users/";
  /** Route of the lookup collapsed on each node alone. */
  static final String LOCAL = "/local/users/";
  /** Route of the lookup without single flight. */
  static final String DIRECT = "/direct/users/";
  /** Route that answers 200 at once. */
  static final String HEALTH = "/health";
  /** Route of this node's counts. */
  static final String STATS = "/stats";
  /** Route of the stampede gate. */
  static final String STAMPEDE = "/stampede";

  private final Vertx vertx;
  private final UserDao dao;
  private final SingleFlight clustered;
  private final SingleFlight local;
  private final JsonObject identity;
  private final Gate gate = new Gate();
  private HttpServer server;

  private NodeServer(Vertx vertx, UserDao dao, SingleFlight clustered, SingleFlight local, JsonObject identity) {
    this.vertx = vertx;
    this.dao = dao;
    this.clustered = clustered;
    this.local = local;
    this.identity = identity;
  }

  /**
   * Starts the server on a free port of 127.0.0.1, and counts the joins that reach this node.
   *
   * @param vertx the clustered Vert.x instance of the node
   * @param dao the node's own users
   * @param clustered a proxy of the node's clustered {@link dev.singleflight.SingleFlightVerticle}
   * @param local a proxy of the node's node-local one
   * @param nodeAddress the clustered verticle's own address on this node,
   *                    {@code __singleflight.internal.<address>.node.<node id>}
   * @param identity what {@code GET /stats} tells besides the queries, e.g. the node's index
   * @return the server, once it listens
   */
  static Future<NodeServer> start(Vertx vertx, UserDao dao, SingleFlight clustered, SingleFlight local,
                                  String nodeAddress, JsonObject identity) {
    NodeServer node = new NodeServer(vertx, dao, clustered, local, identity);
    vertx.eventBus().addInboundInterceptor((DeliveryContext<Object> delivery) -> {
      delivery.next();
      // A node's first join of a flight: no flight id yet (asking again carries one).
      if (nodeAddress.equals(delivery.message().address()) && "join".equals(delivery.message().headers().get("singleflight-op"))
        && !delivery.message().headers().contains("singleflight-flight")) {
        node.gate.joins.incrementAndGet();
      }
    });
    return vertx.createHttpServer()
      .requestHandler(node.router())
      .listen(0, "127.0.0.1")
      .map(server -> {
        node.server = server;
        return node;
      });
  }

  /** @return the port the server listens on */
  int port() {
    return server.actualPort();
  }

  private Router router() {
    Router router = Router.router(vertx);
    router.get(CLUSTERED + ":id").handler(ctx -> lookUp(ctx, id -> clustered.flight("user:" + id, () -> find(id))));
    router.get(LOCAL + ":id").handler(ctx -> lookUp(ctx, id -> local.flight("user:" + id, () -> find(id))));
    router.get(DIRECT + ":id").handler(ctx -> lookUp(ctx, id -> vertx.executeBlocking(() -> find(id), false)));
    router.get(HEALTH).handler(ctx -> answer(ctx, 200, new JsonObject().put("status", "up")));
    router.get(STATS).handler(ctx -> answer(ctx, 200, identity.copy().put("queries", dao.queries())));
    router.post(STAMPEDE).handler(ctx -> {
      gate.close();
      answer(ctx, 200, gate.toJson());
    });
    router.get(STAMPEDE).handler(ctx -> answer(ctx, 200, gate.toJson()));
    router.post(STAMPEDE + "/go").handler(ctx -> {
      gate.open();
      answer(ctx, 200, gate.toJson());
    });
    return router;
  }

  /**
   * The lookup of the three routes; blocks, so it runs on a worker thread. The user crosses nodes
   * as JSON (it needs an event-bus codec); {@code null} when there is no such id.
   */
  private JsonObject find(int id) throws Exception {
    gate.await();
    return dao.find(id).map(User::toJson).orElse(null);
  }

  /** Starts the lookup, counts the arrival, then answers the lookup's outcome. */
  private void lookUp(RoutingContext ctx, IntFunction<Future<JsonObject>> lookup) {
    int id;
    try {
      id = Integer.parseInt(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      gate.arrived.incrementAndGet();
      answer(ctx, 400, new JsonObject().put("error", "the user id must be an integer"));
      return;
    }
    Future<JsonObject> user = lookup.apply(id);
    gate.arrived.incrementAndGet();
    user.onComplete(found -> {
      if (found.failed()) {
        answer(ctx, 500, new JsonObject().put("error", String.valueOf(found.cause())));
      } else if (found.result() != null) {
        answer(ctx, 200, found.result());
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
   * Holds this node's lookups until the launcher opens it, and counts what the launcher needs to
   * know before it does.
   *
   * <p>{@code arrived} counts the user requests whose lookup has been handed on: for the collapsed
   * routes, the {@code flight} call has returned, and the proxy queues a call on the verticle's
   * event loop before it returns, ahead of anything that could end the flight. {@code joins} counts
   * the messages delivered to this node's clustered verticle at its own address: while the gate is
   * closed no function has run, so no outcome is reported, and each of them is a node asking to join
   * the flight of a key this node owns, counted once the verticle has handled it (the interceptor
   * runs the handler first, on the verticle's event loop, before any later message).
   *
   * <p>Once every request has arrived on every node and every node's join has reached its key's owner,
   * no flight can end before a request or a node joins it: the clustered route then runs exactly
   * one query per id in the whole cluster. Open (outside a stampede) it holds nothing; closed, it
   * holds a lookup {@link #LIMIT_SECONDS} at most.
   */
  static final class Gate {

    /** Longest wait of a lookup for the gate to open, in seconds. */
    static final long LIMIT_SECONDS = 30;

    final AtomicInteger arrived = new AtomicInteger();
    final AtomicInteger joins = new AtomicInteger();
    private volatile CountDownLatch go = new CountDownLatch(0);

    /** Holds the next lookups, and counts afresh. Called between stampedes, when nothing runs. */
    void close() {
      arrived.set(0);
      joins.set(0);
      go = new CountDownLatch(1);
    }

    void open() {
      go.countDown();
    }

    void await() throws InterruptedException {
      go.await(LIMIT_SECONDS, TimeUnit.SECONDS);
    }

    JsonObject toJson() {
      return new JsonObject().put("arrived", arrived.get()).put("joins", joins.get()).put("open", go.getCount() == 0);
    }
  }
}
