package dev.singleflight.examples.bridge;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bridge example, driven as a JavaScript client drives it: a WebSocket to
 * {@code /eventbus/websocket} carrying the bridge's JSON frames. The service is held (it answers only
 * once the test releases it), so the flights overlap whatever the machine's timing.
 */
class BridgeTest {

  private static final long WAIT_SECONDS = 20;

  private Vertx vertx;
  private UsersService users;
  private int port;
  private BridgeSocket socket;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    users = new UsersService(Duration.ofMinutes(10));
    port = await(BridgeExample.start(vertx, users, 0)).actualPort();
    socket = await(BridgeSocket.connect(vertx, port));
  }

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  @Test
  void concurrentFlightsForOneUserShareOneServiceRequestAndEveryClientGetsItsReply() throws Exception {
    List<Future<JsonObject>> replies = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      replies.add(socket.request(flight(UsersService.ADDRESS, user(7))));
    }
    // The verticle takes its messages in order and refuses a forbidden address at once: once that
    // refusal is back, the ten flights have all joined, so the service's answer cannot split them.
    assertEquals(403, await(socket.request(flight("admin.service", user(7)))).getInteger("failureCode"));
    users.release();

    JsonObject user = new JsonObject().put("id", 7).put("name", "User 7").put("request", 1);
    for (Future<JsonObject> reply : replies) {
      JsonObject frame = await(reply);
      assertEquals("rec", frame.getString("type"), frame::encode);
      assertEquals(user, frame.getJsonObject("body"));
    }
    assertEquals(1, users.requests());
  }

  @Test
  void theBridgeDeniesSendingToAnyOtherAddressAndRegisteringAnywhere() throws Exception {
    socket.write(new JsonObject().put("type", "send").put("address", UsersService.ADDRESS).put("body", user(7))
      .put("replyAddress", "reply-direct"));
    assertEquals(refusal("access_denied"), socket.nextRefusal());

    socket.write(new JsonObject().put("type", "register").put("address", BridgeExample.FLIGHTS));
    assertEquals(refusal("access_denied"), socket.nextRefusal());
    assertEquals(0, users.requests());
  }

  @Test
  void aFlightToADownstreamAddressOutsideAllowedAddressesFailsWith403AndReachesNobody() throws Exception {
    AtomicInteger adminRequests = new AtomicInteger();
    MessageConsumer<Object> admin = vertx.eventBus().consumer("admin.service", message -> {
      adminRequests.incrementAndGet();
      message.reply(new JsonObject().put("secret", true));
    });
    await(admin.completion());

    JsonObject frame = await(socket.request(flight("admin.service", new JsonObject())));

    assertEquals("err", frame.getString("type"));
    assertEquals(403, frame.getInteger("failureCode"));
    assertEquals("RECIPIENT_FAILURE", frame.getString("failureType"));
    assertTrue(frame.getString("message").contains("allowedAddresses"), frame::encode);
    assertEquals(0, adminRequests.get());
  }

  @Test
  void theServerSetsTheKeySoAClientCannotAnswerAnotherClientsFlightWithItsOwnRequest() throws Exception {
    // Both frames name the key "user:7"; a bridge client's key is replaced by one made of the
    // downstream address and body, so user 8's request does not join user 7's flight.
    Future<JsonObject> seven = socket.request(flight(UsersService.ADDRESS, user(7)).put("key", "user:7"));
    Future<JsonObject> eight = socket.request(flight(UsersService.ADDRESS, user(8)).put("key", "user:7"));
    users.release();

    assertEquals(7, await(seven).getJsonObject("body").getInteger("id"));
    assertEquals(8, await(eight).getJsonObject("body").getInteger("id"));
    assertEquals(2, users.requests());
  }

  @Test
  void forgetsAndPublishesToTheVerticleAreRejected() throws Exception {
    socket.write(new JsonObject().put("type", "send").put("address", BridgeExample.FLIGHTS)
      .put("headers", new JsonObject().put("action", "forget")).put("body", new JsonObject().put("key", "user:7"))
      .put("replyAddress", "reply-forget"));
    assertEquals(refusal("rejected"), socket.nextRefusal());

    socket.write(new JsonObject().put("type", "publish").put("address", BridgeExample.FLIGHTS)
      .put("body", flight(UsersService.ADDRESS, user(7))));
    assertEquals(refusal("rejected"), socket.nextRefusal());
    assertEquals(0, users.requests());
  }

  @Test
  void theServerServesThePageAndItsClientScript() throws Exception {
    WebClient client = WebClient.create(vertx);
    try {
      HttpResponse<Buffer> page = await(client.get(port, "127.0.0.1", "/").send());
      assertEquals(200, page.statusCode());
      assertTrue(page.bodyAsString().contains("<script src=\"bridge-client.js\">"), page::bodyAsString);
      HttpResponse<Buffer> script = await(client.get(port, "127.0.0.1", "/bridge-client.js").send());
      assertEquals(200, script.statusCode());
      assertTrue(script.bodyAsString().contains("class EventBusBridge"), script::bodyAsString);
    } finally {
      // Also keeps the client referenced until here: Vert.x closes a client that is no longer referenced.
      client.close();
    }
  }

  /** How a client leaves without the WebSocket's closing handshake. */
  enum Leaving {
    /** Its connection closed as a browser closes a tab's: a TCP FIN, no close frame. */
    CLOSED,
    /** Its connection reset, as when the client's process dies or a network drops it. */
    RESET
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Leaving.class)
  void aClientThatLeavesWithoutClosingItsWebSocketIsNotLoggedAsAnError(Leaving leaving) throws Exception {
    Filter installed = ClientGoneFilter.BRIDGE.getFilter();
    assertInstanceOf(ClientGoneFilter.class, installed);
    // Sees what the bridge logs, and what the example's filter keeps of it.
    BlockingQueue<LogRecord> records = new LinkedBlockingQueue<>();
    List<LogRecord> kept = new CopyOnWriteArrayList<>();
    ClientGoneFilter.BRIDGE.setFilter(record -> {
      records.add(record);
      boolean keep = installed.isLoggable(record);
      if (keep) {
        kept.add(record);
      }
      return keep;
    });
    try {
      try (Socket client = new Socket(InetAddress.getByName("127.0.0.1"), port)) {
        client.getOutputStream().write(("GET /eventbus/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
        String status = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        assertEquals("HTTP/1.1 101 Switching Protocols", status);
        if (leaving == Leaving.RESET) {
          client.setSoLinger(true, 0);
        }
      }
      // The bridge logs the end of the socket: last, that its connection was closed.
      LogRecord record;
      do {
        record = records.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(record, "the bridge saw no end of the socket");
      } while (!(record.getThrown() instanceof HttpClosedException));
      assertEquals(List.of(), kept.stream().map(LogRecord::getThrown).toList());
    } finally {
      ClientGoneFilter.BRIDGE.setFilter(installed);
    }
  }

  @Test
  void theBridgesOtherErrorsAreStillLogged() {
    LogRecord record = new LogRecord(Level.SEVERE, "SockJSSocket exception");
    record.setThrown(new IllegalStateException("a defect"));
    assertTrue(new ClientGoneFilter().isLoggable(record));
  }

  /** @return the body of a JSON-protocol flight to {@code address} with {@code body} */
  private static JsonObject flight(String address, JsonObject body) {
    return new JsonObject().put("address", address).put("body", body);
  }

  private static JsonObject user(int id) {
    return new JsonObject().put("id", id);
  }

  /** @return the frame of a refusal by the bridge itself, which names no reply address */
  private static JsonObject refusal(String reason) {
    return new JsonObject().put("type", "err").put("body", reason);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.await(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * A bridge client over the raw WebSocket endpoint, as the page's script is: one JSON frame per
   * WebSocket message. Frames addressed to a reply address complete the request that chose it; the
   * bridge's own refusals, which name none, are queued.
   */
  static final class BridgeSocket {

    /** Held for as long as the socket: Vert.x closes a client that is no longer referenced. */
    private final WebSocketClient client;
    private final WebSocket webSocket;
    private final Map<String, Promise<JsonObject>> pending = new ConcurrentHashMap<>();
    private final BlockingQueue<JsonObject> refusals = new LinkedBlockingQueue<>();
    private final AtomicInteger replyAddresses = new AtomicInteger();

    private BridgeSocket(WebSocketClient client, WebSocket webSocket) {
      this.client = client;
      this.webSocket = webSocket;
      webSocket.textMessageHandler(text -> receive(new JsonObject(text)));
      webSocket.binaryMessageHandler(bytes -> receive(bytes.toJsonObject()));
    }

    static Future<BridgeSocket> connect(Vertx vertx, int port) {
      WebSocketClient client = vertx.createWebSocketClient();
      return client.connect(port, "127.0.0.1", "/eventbus/websocket")
        .map(webSocket -> new BridgeSocket(client, webSocket));
    }

    /** Sends a JSON-protocol request to the single-flight verticle; completes with the answer's frame. */
    Future<JsonObject> request(JsonObject body) {
      String replyAddress = "reply-" + replyAddresses.incrementAndGet();
      Promise<JsonObject> answer = Promise.promise();
      pending.put(replyAddress, answer);
      write(new JsonObject().put("type", "send").put("address", BridgeExample.FLIGHTS).put("body", body)
        .put("replyAddress", replyAddress));
      return answer.future();
    }

    void write(JsonObject frame) {
      webSocket.writeTextMessage(frame.encode());
    }

    /** @return the next frame that answers no request, waiting for it */
    JsonObject nextRefusal() throws InterruptedException {
      JsonObject refusal = refusals.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertNotNull(refusal, "no refusal from the bridge");
      return refusal;
    }

    private void receive(JsonObject frame) {
      Promise<JsonObject> answer = frame.getString("address") == null ? null : pending.remove(frame.getString("address"));
      if (answer != null) {
        answer.complete(frame);
      } else {
        refusals.add(frame);
      }
    }
  }
}
