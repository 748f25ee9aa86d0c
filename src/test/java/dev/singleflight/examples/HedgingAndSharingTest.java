package dev.singleflight.examples;

import dev.singleflight.SingleFlight;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** {@link HedgingAndSharing} does what it says; stores are held until the calls joined their flights. */
class HedgingAndSharingTest {

  private static final long WAIT_SECONDS = 20;

  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void close() throws TimeoutException {
    await(vertx.close());
  }

  @Test
  void aHedgedFlightIsAnsweredByTheHedgeWhenTheFirstReadIsSlow() throws TimeoutException {
    SingleFlight flights = await(HedgingAndSharing.deployHedged(vertx));
    SlowStore slow = new SlowStore(Duration.ofSeconds(WAIT_SECONDS)).put("report", "from the slow read");
    AtomicInteger runs = new AtomicInteger();
    Future<String> caller = flights.flight("report", () -> runs.incrementAndGet() == 1 ? slow.read("report") : "from the hedge");
    assertEquals("from the hedge", await(caller));
    slow.release();
  }

  @Test
  void eachCallerMarksItsOwnProfileWhileTheFlightIsShared() throws TimeoutException {
    SingleFlight flights = await(HedgingAndSharing.deployHedged(vertx));
    SlowStore store = new SlowStore(Duration.ofSeconds(WAIT_SECONDS)).put("7", "Ada");
    List<Future<JsonObject>> callers = List.of(HedgingAndSharing.profile(flights, store, "7"),
      HedgingAndSharing.profile(flights, store, "7"), HedgingAndSharing.profile(flights, store, "7"));
    await(flights.forget("barrier"));
    store.release();
    await(Future.all(callers));
    assertEquals(new JsonObject().put("name", "Ada").put("read", "by this call"), callers.get(0).result());
    assertEquals(new JsonObject().put("name", "Ada").put("read", "by another call"), callers.get(1).result());
    assertNotSame(callers.get(1).result(), callers.get(2).result());
  }

  @Test
  void withCopyingEveryCallerButTheLeaderGetsItsOwnJsonObject() throws TimeoutException {
    SingleFlight flights = await(HedgingAndSharing.deployCopying(vertx));
    SlowStore store = new SlowStore(Duration.ofSeconds(WAIT_SECONDS)).put("7", "Ada");
    JsonObject original = new JsonObject().put("name", "Ada");
    Callable<JsonObject> read = () -> {
      store.read("7");
      return original;
    };
    List<Future<JsonObject>> callers = List.of(flights.flight("user", read), flights.flight("user", read), flights.flight("user", read));
    await(flights.forget("barrier"));
    store.release();
    await(Future.all(callers));
    assertSame(original, callers.get(0).result());
    assertNotSame(original, callers.get(1).result());
    assertNotSame(callers.get(1).result(), callers.get(2).result());
    assertEquals(original, callers.get(2).result());
  }

  @Test
  void theStuckKeysAreListedByTheProxyAndTheJsonProtocolAlike() throws TimeoutException {
    SingleFlight flights = await(HedgingAndSharing.deployHedged(vertx));
    SlowStore store = new SlowStore(Duration.ofSeconds(WAIT_SECONDS)).put("a", "1").put("b", "2");
    Future<String> a = flights.flight("a", () -> store.read("a"));
    Future<String> b = flights.flight("b", () -> store.read("b"));
    assertEquals(Set.of("a", "b"), await(HedgingAndSharing.stuckKeys(vertx, flights)));
    store.release();
    await(Future.all(a, b));
    assertEquals(Set.of(), await(HedgingAndSharing.stuckKeys(vertx, flights)));
  }

  private static <T> T await(Future<T> future) throws TimeoutException {
    return future.await(WAIT_SECONDS, TimeUnit.SECONDS);
  }
}
