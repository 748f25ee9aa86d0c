package dev.singleflight.examples.bridge;

import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * BridgeExample lets clients outside the JVM, such as a web page, make flights: the
 * {@link SingleFlightVerticle}'s JSON protocol reaches them through the vertx-web SockJS event-bus
 * bridge. The example serves, on 127.0.0.1:
 * <ul>
 *   <li>the bridge at {@code /eventbus/}; a client without the SockJS library opens a plain WebSocket
 *   to {@code /eventbus/websocket} and sends one JSON frame per message;</li>
 *   <li>a page at {@code /} whose script asks for one user several times at once through the bridge,
 *   and shows that they shared one request to the {@link UsersService}.</li>
 * </ul>
 * Clients may send to the single-flight verticle and nowhere else, the verticle forwards only to
 * {@value UsersService#ADDRESS}, and the server sets each flight's key from what it asks for.
 */
public final class BridgeExample {

  /** The address of the single-flight verticle, the only one bridge clients may send to. */
  public static final String FLIGHTS = SingleFlightOptions.DEFAULT_ADDRESS;
  /** Where the page and its script are, on the class path. */
  public static final String WEB_ROOT = "singleflight-bridge";
  /** Default of {@code --port}. */
  public static final int DEFAULT_PORT = 8080;

  private static final String USAGE = "usage: BridgeExample [--port P]   (0..65535, default " + DEFAULT_PORT + ")";

  private BridgeExample() {
  }

  /**
   * Deploys the service and the single-flight verticle, then starts the HTTP server with the bridge
   * and the page.
   *
   * @param vertx the Vert.x instance; closing it stops everything
   * @param users the service to deploy
   * @param port the port on 127.0.0.1; 0 picks a free one
   * @return the server, once it listens
   */
  public static Future<HttpServer> start(Vertx vertx, UsersService users, int port) {
    return vertx.deployVerticle(users)
      .compose(id -> deployFlights(vertx))
      .compose(id -> vertx.createHttpServer().requestHandler(router(vertx)).listen(port, "127.0.0.1"));
  }

  /**
   * Deploys the single-flight verticle so that a flight may name {@value UsersService#ADDRESS} as its
   * downstream service and nothing else: whatever address a bridge client writes, it can reach no
   * other consumer through the verticle.
   *
   * @param vertx the Vert.x instance
   * @return the deployment id
   */
  public static Future<String> deployFlights(Vertx vertx) {
    // tag::allowed[]
    SingleFlightOptions options = new SingleFlightOptions()
      .setAllowedAddresses(List.of("users\\.service"));
    return vertx.deployVerticle(new SingleFlightVerticle(options));
    // end::allowed[]
  }

  /**
   * The routes: the bridge under {@code /eventbus/}, the page and its script at {@code /}.
   *
   * @param vertx the Vert.x instance
   * @return the router
   */
  public static Router router(Vertx vertx) {
    // tag::bridge[]
    // Clients may send to the single-flight verticle only. Replies reach them without an outbound
    // rule; as there is none, they cannot register a consumer at any address.
    SockJSBridgeOptions bridge = new SockJSBridgeOptions()
      .addInboundPermitted(new PermittedOptions().setAddress(FLIGHTS));
    Router router = Router.router(vertx);
    router.route("/eventbus/*").subRouter(SockJSHandler.create(vertx).bridge(bridge, BridgeExample::flightsOnly));
    // end::bridge[]
    router.route("/*").handler(StaticHandler.create(WEB_ROOT));
    return router;
  }

  /**
   * Screens what bridge clients send to the single-flight verticle: flights only, whose key the server
   * sets from the downstream address and body. Keys are shared by every client, so a key a client
   * chose could make others' flights answer what that client asked for ({@code "user:7"} with the body
   * of user 8). A forget, another action, a publish, or a frame whose body or headers are not JSON
   * objects is refused (the client gets an {@code err} frame with body {@code "rejected"}). Frames to
   * other addresses pass unchanged: the permitted addresses refuse them.
   *
   * @param event a bridge event; its raw message is rewritten in place
   */
  // tag::key[]
  static void flightsOnly(BridgeEvent event) {
    JsonObject frame = event.getRawMessage();
    boolean toFlights = (event.type() == BridgeEventType.SEND || event.type() == BridgeEventType.PUBLISH)
      && FLIGHTS.equals(frame.getValue("address"));
    if (!toFlights) {
      event.complete(true);
      return;
    }
    Object headers = frame.getValue("headers");
    Object action = headers instanceof JsonObject h ? h.getValue("action") : null;
    boolean flight = event.type() == BridgeEventType.SEND
      && (headers == null || headers instanceof JsonObject)
      && (action == null || "flight".equals(action))
      && frame.getValue("body") instanceof JsonObject;
    if (flight) {
      JsonObject request = frame.getJsonObject("body");
      request.put("key", request.getValue("address") + " " + Json.encode(request.getValue("body")));
    }
    event.complete(flight);
  }
  // end::key[]

  /**
   * Runs the example until Ctrl-C.
   *
   * @param args nothing, or {@code --port P}
   * @throws InterruptedException when interrupted while serving
   */
  public static void main(String[] args) throws InterruptedException {
    int port = DEFAULT_PORT;
    if (args.length == 2 && args[0].equals("--port") && args[1].matches("\\d{1,5}") && Integer.parseInt(args[1]) <= 65535) {
      port = Integer.parseInt(args[1]);
    } else if (args.length != 0) {
      System.err.println(USAGE);
      System.exit(2);
    }
    Vertx vertx = Vertx.vertx();
    HttpServer server;
    try {
      server = start(vertx, new UsersService(Duration.ofMillis(500)), port).await();
    } catch (Exception e) {
      System.err.println("error: " + e);
      vertx.close().await();
      System.exit(1);
      return;
    }
    String base = "127.0.0.1:" + server.actualPort();
    System.out.println("bridge example on http://" + base + " until Ctrl-C:");
    System.out.println("  open http://" + base + "/ in a browser: it asks for a user several times at once through the bridge");
    System.out.println("  clients connect a WebSocket to ws://" + base + "/eventbus/websocket and may send only to " + FLIGHTS);
    System.out.println("  the single-flight verticle forwards only to " + UsersService.ADDRESS + ", which answers in 500 ms");
    new CountDownLatch(1).await();
  }
}
