package dev.singleflight.examples.bridge;

import dev.singleflight.SingleFlightOptions;
import dev.singleflight.SingleFlightVerticle;
import dev.singleflight.examples.Flags;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
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
@Command(name = "BridgeExample",
  description = "Serves a page that makes flights through the SockJS event-bus bridge, until Ctrl-C.",
  footer = "From a clone: mvn -q -Pbridge verify -Dbridge.args=\"--port 9000\"")
public final class BridgeExample implements Callable<Integer> {

  /** The address of the single-flight verticle, the only one bridge clients may send to. */
  public static final String FLIGHTS = SingleFlightOptions.DEFAULT_ADDRESS;
  /** Where the page and its script are, on the class path. */
  public static final String WEB_ROOT = "singleflight-bridge";
  /** Default of {@code --port}. */
  public static final int DEFAULT_PORT = 8080;
  /** Exit code when the server could not start, e.g. its port is taken. */
  public static final int FAILED = ExitCode.SOFTWARE;
  /** Exit code of a bad command line. */
  public static final int USAGE = ExitCode.USAGE;

  @Spec
  private CommandSpec spec;
  private int port;
  @Option(names = "--help", usageHelp = true, description = "print this message and exit")
  private boolean help;
  private final PrintStream out;
  private final PrintStream err;

  private BridgeExample(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Option(names = "--port", paramLabel = "P", defaultValue = "" + DEFAULT_PORT,
    description = "port on 127.0.0.1 (0..65535, default ${DEFAULT-VALUE}; 0 picks a free one)")
  private void setPort(int port) {
    this.port = Flags.inRange(spec, "--port", port, 0, 65535);
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
   * The routes: the bridge under {@code /eventbus/}, with every SockJS transport (a raw WebSocket at
   * {@code /eventbus/websocket}, SockJS over a WebSocket, xhr-streaming, xhr-polling, ...), and the page
   * and its script at {@code /}. A client that leaves without closing its socket is not logged as an
   * error ({@link ClientGoneFilter}).
   *
   * @param vertx the Vert.x instance
   * @return the router
   */
  public static Router router(Vertx vertx) {
    ClientGoneFilter.install();
    // tag::bridge[]
    // Clients may send to the single-flight verticle only. Replies reach them without an outbound
    // rule; as there is none, they cannot register a consumer at any address.
    SockJSBridgeOptions bridge = new SockJSBridgeOptions()
      .addInboundPermitted(new PermittedOptions().setAddress(FLIGHTS));
    Router router = Router.router(vertx);
    router.route("/eventbus/*").subRouter(SockJSHandler.create(vertx).bridge(bridge, BridgeExample::flightsOnly));
    // end::bridge[]
    // tag::xhr[]
    // SockJS's xhr-streaming and xhr-polling transports POST the client's frames (.../xhr_send), and
    // the bridge reads them from the body that a BodyHandler gathered: one goes before the bridge's
    // route (order -1), without file uploads, and takes at most what one WebSocket frame may carry.
    router.post("/eventbus/*").order(-1)
      .handler(BodyHandler.create(false).setBodyLimit(HttpServerOptions.DEFAULT_MAX_WEBSOCKET_FRAME_SIZE));
    // end::xhr[]
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
   * Runs the example until Ctrl-C. After {@code --help} it just returns, so that
   * {@code mvn -Pbridge verify}, which runs it inside Maven's JVM, goes on; after a bad command line
   * or a failed start it exits with {@link #USAGE} or {@link #FAILED}.
   *
   * @param args nothing, or {@code --port P}
   */
  public static void main(String[] args) {
    int code = run(args, System.out, System.err);
    if (code != ExitCode.OK) {
      System.exit(code);
    }
  }

  /**
   * Parses the flags and serves until the JVM is stopped: it returns only after {@code --help}, which
   * prints the usage on {@code out}, a bad command line, whose reason and the usage go to {@code err},
   * or a failed start.
   *
   * @param args the flags
   * @param out where the usage and the server's address go
   * @param err where errors go
   * @return {@link ExitCode#OK} after {@code --help}, {@link #USAGE} or {@link #FAILED}
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return new CommandLine(new BridgeExample(out, err))
      .setOut(new PrintWriter(out, true))
      .setErr(new PrintWriter(err, true))
      .execute(args);
  }

  /** Starts the example and serves; picocli calls it once the command line is good. */
  @Override
  public Integer call() throws InterruptedException {
    Vertx vertx = Vertx.vertx();
    HttpServer server;
    try {
      server = start(vertx, new UsersService(Duration.ofMillis(500)), port).await();
    } catch (Exception e) {
      err.println("error: " + e);
      vertx.close().await();
      return FAILED;
    }
    String base = "127.0.0.1:" + server.actualPort();
    out.println("bridge example on http://" + base + " until Ctrl-C:");
    out.println("  open http://" + base + "/ in a browser: it asks for a user several times at once through the bridge");
    out.println("  clients connect a WebSocket to ws://" + base + "/eventbus/websocket and may send only to " + FLIGHTS);
    out.println("  the single-flight verticle forwards only to " + UsersService.ADDRESS + ", which answers in 500 ms");
    new CountDownLatch(1).await();
    return ExitCode.OK;
  }
}
