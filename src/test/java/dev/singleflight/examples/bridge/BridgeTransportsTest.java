package dev.singleflight.examples.bridge;

import dev.singleflight.examples.bridge.BridgeTest.BridgeSocket;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The bridge over SockJS's own transports, as the official client ({@code @vertx/eventbus-bridge-client.js}
 * with {@code sockjs-client}) uses them: a session {@code /eventbus/<server>/<session>/} whose frames
 * travel as SockJS frames ({@code o} open, {@code h} heartbeat, {@code a[...]} messages) over a
 * WebSocket, xhr-streaming or xhr-polling. The xhr transports send the client's frames with a
 * {@code POST .../xhr_send}. Each test makes real flights to the {@link UsersService} through the
 * single-flight verticle.
 */
class BridgeTransportsTest {

  private static final long WAIT_SECONDS = 20;

  /** The example's side. */
  private Vertx server;
  /** The clients' side, as a browser is: closed first, so that no client connects as the server closes. */
  private Vertx clients;
  private UsersService users;
  private int port;
  private final List<SockJsSession> sessions = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = Vertx.vertx();
    clients = Vertx.vertx();
    users = new UsersService(Duration.ofMinutes(10));
    port = await(BridgeExample.start(server, users, 0)).actualPort();
  }

  @AfterEach
  void close() throws Exception {
    try {
      for (SockJsSession session : sessions) {
        await(session.close());
      }
      await(clients.close());
    } finally {
      await(server.close());
    }
  }

  /** The SockJS transports of a session, by the path segment that names them. */
  enum Transport {
    WEBSOCKET, XHR_STREAMING, XHR_POLLING
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  void aFlightAndARefusedFlightSentInOneMessageGetTheirAnswers(Transport transport) throws Exception {
    users.release();
    SockJsSession session = open(transport);

    List<Future<JsonObject>> answers = session.flights(user(7), flight("admin.service", new JsonObject()));

    JsonObject user = await(answers.get(0));
    assertEquals("rec", user.getString("type"), user::encode);
    assertEquals(new JsonObject().put("id", 7).put("name", "User 7").put("request", 1), user.getJsonObject("body"));
    JsonObject refused = await(answers.get(1));
    assertEquals("err", refused.getString("type"), refused::encode);
    assertEquals(403, refused.getInteger("failureCode"), refused::encode);
    assertEquals(1, users.requests());
  }

  @Test
  void clientsOnEveryTransportAskingForOneUserShareOneServiceRequest() throws Exception {
    List<Future<JsonObject>> answers = new ArrayList<>();
    List<Future<JsonObject>> refusals = new ArrayList<>();
    // The raw WebSocket endpoint that the example's page uses, then the SockJS transports.
    BridgeSocket socket = await(BridgeSocket.connect(clients, port));
    answers.add(socket.request(user(7)));
    refusals.add(socket.request(flight("admin.service", new JsonObject())));
    for (Transport transport : Transport.values()) {
      List<Future<JsonObject>> sent = open(transport).flights(user(7), flight("admin.service", new JsonObject()));
      answers.add(sent.get(0));
      refusals.add(sent.get(1));
    }
    // Each client's frames reach the verticle in order, and it refuses a forbidden address at once:
    // once every refusal is back, every client's flight has joined, and the service may answer.
    for (Future<JsonObject> refusal : refusals) {
      assertEquals(403, await(refusal).getInteger("failureCode"));
    }
    users.release();

    JsonObject user = new JsonObject().put("id", 7).put("name", "User 7").put("request", 1);
    for (Future<JsonObject> answer : answers) {
      assertEquals(user, await(answer).getJsonObject("body"));
    }
    assertEquals(1, users.requests());
  }

  /** @return a session over {@code transport}, once the server has opened it; closed after the test */
  private SockJsSession open(Transport transport) throws Exception {
    SockJsSession session = switch (transport) {
      case WEBSOCKET -> new OverWebSocket(clients, port);
      case XHR_STREAMING -> new OverXhrStreaming(clients, port);
      case XHR_POLLING -> new OverXhrPolling(clients, port);
    };
    sessions.add(session);
    await(session.connect().compose(connected -> session.opened.future()));
    return session;
  }

  private static JsonObject user(int id) {
    return flight(UsersService.ADDRESS, new JsonObject().put("id", id));
  }

  private static JsonObject flight(String address, JsonObject body) {
    return new JsonObject().put("address", address).put("body", body);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.await(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * One SockJS session of the bridge: it sends the bridge's JSON frames as SockJS messages and reads
   * the SockJS frames that come back. Answers are matched to requests by their reply address.
   */
  abstract static class SockJsSession {

    /** Where the transports of this session are: {@code /eventbus/<server>/<session>/}. */
    final String base = "/eventbus/000/" + UUID.randomUUID() + "/";
    private final Map<String, Promise<JsonObject>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger replyAddresses = new AtomicInteger();
    /** Completed by the server's open frame {@code o}. */
    final Promise<Void> opened = Promise.promise();

    /**
     * Sends flights to the single-flight verticle, all in one SockJS message, in order.
     *
     * @return the future answer frame of each, in the same order
     */
    List<Future<JsonObject>> flights(JsonObject... bodies) {
      JsonArray messages = new JsonArray();
      List<Future<JsonObject>> answers = new ArrayList<>();
      for (JsonObject body : bodies) {
        String replyAddress = "reply-" + replyAddresses.incrementAndGet();
        Promise<JsonObject> answer = Promise.promise();
        pending.put(replyAddress, answer);
        answers.add(answer.future());
        messages.add(new JsonObject().put("type", "send").put("address", BridgeExample.FLIGHTS).put("body", body)
          .put("replyAddress", replyAddress).encode());
      }
      send(messages).onFailure(this::fail);
      return answers;
    }

    /** Fails the opening and every request still waiting: the transport failed. */
    void fail(Throwable failure) {
      opened.tryFail(failure);
      pending.values().forEach(answer -> answer.tryFail(failure));
    }

    /** Starts the session: the transport's first request or connection. */
    abstract Future<Void> connect();

    /** Ends the session's requests and connections: no new one starts while Vert.x closes. */
    abstract Future<Void> close();

    /** Sends SockJS messages, each a string. */
    abstract Future<Void> send(JsonArray messages);

    /** Reads one SockJS frame: the open frame, a heartbeat, messages (each a bridge frame), or a close frame. */
    void receive(String frame) {
      if (frame.equals("o")) {
        opened.tryComplete();
      } else if (frame.startsWith("c")) {
        fail(new IllegalStateException("the server closed the session: " + frame));
      } else if (frame.startsWith("a")) {
        for (Object message : new JsonArray(frame.substring(1))) {
          JsonObject bridgeFrame = new JsonObject((String) message);
          Promise<JsonObject> answer = pending.remove(bridgeFrame.getString("address", ""));
          if (answer != null) {
            answer.complete(bridgeFrame);
          }
        }
      }
    }
  }

  /** SockJS frames over a WebSocket at {@code .../websocket}, one frame per WebSocket message. */
  static final class OverWebSocket extends SockJsSession {

    /** Held for as long as the session: Vert.x closes a client that is no longer referenced. */
    private final WebSocketClient client;
    private final int port;
    private WebSocket webSocket;

    OverWebSocket(Vertx vertx, int port) {
      this.client = vertx.createWebSocketClient();
      this.port = port;
    }

    @Override
    Future<Void> connect() {
      return client.connect(port, "127.0.0.1", base + "websocket").map(connected -> {
        webSocket = connected;
        connected.textMessageHandler(this::receive);
        return null;
      });
    }

    @Override
    Future<Void> send(JsonArray messages) {
      return webSocket.writeTextMessage(messages.encode());
    }

    @Override
    Future<Void> close() {
      return client.close();
    }
  }

  /**
   * Messages sent with {@code POST .../xhr_send}; both xhr transports send this way. A connection per
   * request: the server closes the connection of each poll once answered, and a pooled connection
   * could be taken for the next request just as it closes.
   */
  abstract static class OverXhr extends SockJsSession {

    /** Held for as long as the session: Vert.x closes a client that is no longer referenced. */
    final WebClient client;
    final int port;

    OverXhr(Vertx vertx, int port) {
      this.client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false));
      this.port = port;
    }

    @Override
    Future<Void> send(JsonArray messages) {
      return client.post(port, "127.0.0.1", base + "xhr_send")
        .sendBuffer(messages.toBuffer())
        .map(response -> {
          assertEquals(204, response.statusCode(), response::bodyAsString);
          return null;
        });
    }
  }

  /**
   * xhr-polling: each {@code POST .../xhr} answers the frames waiting, or waits for the next ones;
   * the session polls again as soon as an answer is in.
   */
  static final class OverXhrPolling extends OverXhr {

    /** Where the polls are made and answered, and the session closed: one event loop, in order. */
    private final Context context;
    /** Only touched on {@link #context}. */
    private boolean closed;

    OverXhrPolling(Vertx vertx, int port) {
      super(vertx, port);
      this.context = vertx.getOrCreateContext();
    }

    @Override
    Future<Void> connect() {
      context.runOnContext(start -> poll());
      return Future.succeededFuture();
    }

    @Override
    Future<Void> close() {
      Promise<Void> closing = Promise.promise();
      context.runOnContext(stop -> {
        closed = true;
        client.close();
        closing.complete();
      });
      return closing.future();
    }

    private void poll() {
      client.post(port, "127.0.0.1", base + "xhr").send().onComplete(polled -> {
        if (closed) {
          return;
        }
        if (polled.failed()) {
          fail(polled.cause());
        } else if (polled.result().statusCode() != 200) {
          fail(new AssertionError("xhr answered " + polled.result().statusCode() + ": " + polled.result().bodyAsString()));
        } else {
          receive(polled.result().bodyAsString().trim());
          poll();
        }
      });
    }
  }

  /**
   * xhr-streaming: one {@code POST .../xhr_streaming} whose response streams the frames, one per
   * line, after a prelude of 2048 {@code h}. Read with the core HTTP client, as the response only ends
   * once it has carried a set amount of data.
   */
  static final class OverXhrStreaming extends OverXhr {

    /** Held for as long as the session: Vert.x closes a client that is no longer referenced. */
    private final HttpClient streaming;
    private final StringBuilder received = new StringBuilder();

    OverXhrStreaming(Vertx vertx, int port) {
      super(vertx, port);
      this.streaming = vertx.createHttpClient();
    }

    @Override
    Future<Void> close() {
      client.close();
      return streaming.close();
    }

    @Override
    Future<Void> connect() {
      return streaming.request(HttpMethod.POST, port, "127.0.0.1", base + "xhr_streaming")
        .compose(request -> request.send())
        .map(response -> {
          assertEquals(200, response.statusCode());
          response.handler(this::read);
          response.exceptionHandler(this::fail);
          return null;
        });
    }

    /** Reads a chunk of the stream; hands each complete line to {@link #receive}, the prelude and heartbeats included. */
    private void read(Buffer chunk) {
      received.append(chunk.toString());
      for (int end = received.indexOf("\n"); end >= 0; end = received.indexOf("\n")) {
        receive(received.substring(0, end));
        received.delete(0, end + 1);
      }
    }
  }
}
