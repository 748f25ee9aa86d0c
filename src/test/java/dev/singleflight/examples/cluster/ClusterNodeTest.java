package dev.singleflight.examples.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** One cluster node in a JVM of its own, as the launcher starts it: its routes, its gate, its exit. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterNodeTest {

  private static final long WAIT_SECONDS = 30;

  private static final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private static NodeProcess node;
  private static int port;
  private static Vertx vertx;
  private static WebClient client;

  @BeforeAll
  static void startNode() throws Exception {
    node = start();
    port = node.ready().get(WAIT_SECONDS, TimeUnit.SECONDS);
    vertx = Vertx.vertx();
    client = WebClient.create(vertx);
  }

  @AfterAll
  static void stopNode() throws Exception {
    try {
      vertx.close().await(WAIT_SECONDS, TimeUnit.SECONDS);
    } finally {
      node.close();
    }
  }

  @Test
  void everyUserRouteAnswersTheUserAsJson404ForAnUnknownIdAnd400ForANonNumberAndStatsCountTheQueries() throws Exception {
    int before = get(NodeServer.STATS).bodyAsJsonObject().getInteger("queries");
    for (String route : List.of(NodeServer.CLUSTERED, NodeServer.LOCAL, NodeServer.DIRECT)) {
      HttpResponse<Buffer> found = get(route + "7");
      assertEquals(200, found.statusCode(), route);
      assertEquals(new JsonObject().put("id", 7).put("name", "User 7").put("email", "user7@example.com"), found.bodyAsJsonObject());
      assertEquals(404, get(route + "1001").statusCode(), route);
      assertEquals(400, get(route + "seven").statusCode(), route);
    }
    JsonObject stats = get(NodeServer.STATS).bodyAsJsonObject();
    assertEquals(0, stats.getInteger("node"));
    assertEquals(node.pid(), stats.getLong("pid"));
    // Two lookups per route, 7 and 1001; a non-number never reaches the database.
    assertEquals(before + 6, stats.getInteger("queries"));
  }

  @Test
  void aClosedGateHoldsLookupsAndCountsArrivalsAndJoinsUntilItOpens() throws Exception {
    assertEquals(200, client.post(port, "127.0.0.1", NodeServer.STAMPEDE).send().await(WAIT_SECONDS, TimeUnit.SECONDS).statusCode());
    Future<HttpResponse<Buffer>> held = client.get(port, "127.0.0.1", NodeServer.CLUSTERED + "3").send();
    // A cluster of one: the node asks itself, the owner, to join the flight of user 3.
    JsonObject gate = awaitGate(new JsonObject().put("arrived", 1).put("joins", 1).put("open", false));
    assertEquals(new JsonObject().put("arrived", 1).put("joins", 1).put("open", false), gate);
    assertFalse(held.isComplete());
    assertEquals(200, client.post(port, "127.0.0.1", NodeServer.STAMPEDE + "/go").send().await(WAIT_SECONDS, TimeUnit.SECONDS).statusCode());
    assertEquals(200, held.await(WAIT_SECONDS, TimeUnit.SECONDS).statusCode());
  }

  @Test
  void aNodeExitsByItselfOnceItsStdinCloses() throws Exception {
    NodeProcess other = start();
    other.ready().get(WAIT_SECONDS, TimeUnit.SECONDS);
    other.close();
    // Killed after NodeProcess.EXIT_SECONDS it would exit 137; 0 is its own exit.
    assertEquals(0, other.exitCode(), log.toString(StandardCharsets.UTF_8));
  }

  private static NodeProcess start() throws Exception {
    return NodeProcess.start(new ClusterNode.Settings(0, "singleflight-test-" + UUID.randomUUID(), NodeProcess.freePorts(1)),
      new PrintStream(log, true, StandardCharsets.UTF_8));
  }

  private static HttpResponse<Buffer> get(String path) throws Exception {
    return client.get(port, "127.0.0.1", path).send().await(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** Asks for the gate until it is {@code expected}, at most {@link #WAIT_SECONDS}; @return its last state. */
  private static JsonObject awaitGate(JsonObject expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    JsonObject gate;
    do {
      gate = get(NodeServer.STAMPEDE).bodyAsJsonObject();
    } while (!gate.equals(expected) && System.nanoTime() - deadline < 0);
    return gate;
  }
}
