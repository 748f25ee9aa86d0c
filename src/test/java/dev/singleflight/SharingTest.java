package dev.singleflight;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What callers of one flight share: {@link FlightResult} and {@code copyResults}. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharingTest extends FlightTestBase {

  void redeploy(SingleFlightOptions options) throws Exception {
    await(vertx.undeploy(deploymentId));
    deploymentId = await(vertx.deployVerticle(new SingleFlightVerticle(options)));
  }

  // FlightResult

  @Test
  void aLoneCallerLedAndSharedNothing() throws Exception {
    FlightResult<String> result = await(flights.flightResult("k", () -> "v", null));
    assertEquals("v", result.value());
    assertTrue(result.leader());
    assertFalse(result.shared());
  }

  @Test
  void callersOfOneFlightAllShareItAndOnlyTheFirstLed() throws Exception {
    Gate<String> gate = new Gate<>("v");
    Future<FlightResult<String>> leader = flights.flightResult("k", gate, null);
    Future<FlightResult<String>> follower = flights.flightResult("k", gate, Duration.ofSeconds(WAIT_SECONDS));
    Future<FlightResult<String>> asyncFollower = flights.flightAsyncResult("k", () -> Future.succeededFuture("not run"), null);
    barrier();
    gate.release.countDown();
    assertTrue(await(leader).leader());
    assertFalse(await(follower).leader());
    assertFalse(await(asyncFollower).leader());
    for (Future<FlightResult<String>> caller : List.of(leader, follower, asyncFollower)) {
      assertTrue(await(caller).shared());
      assertEquals("v", await(caller).value());
    }
    assertEquals(1, gate.runs.get());
  }

  @Test
  void aFlightWithOneCallerIsNotSharedEvenWhenASecondCallerComesRightAfterTheOutcome() throws Exception {
    Promise<String> run = Promise.promise();
    Future<FlightResult<String>> first = flights.flightAsyncResult("k", run::future, null);
    barrier();
    // The outcome is handed to the verticle's event loop here, ahead of the second call.
    run.complete("first");
    Future<FlightResult<String>> second = flights.flightAsyncResult("k", () -> Future.succeededFuture("second"), null);
    assertEquals("first", await(first).value());
    assertFalse(await(first).shared());
    assertFalse(await(second).shared());
    assertTrue(await(second).leader());
    assertEquals("second", await(second).value());
  }

  @Test
  void aCallerWhoseTimeoutElapsedDoesNotCountAsSharingTheOutcome() throws Exception {
    Promise<String> run = Promise.promise();
    Future<FlightResult<String>> impatientLeader = flights.flightAsyncResult("k", run::future, Duration.ofMillis(20));
    Future<FlightResult<String>> follower = flights.flightAsyncResult("k", run::future, null);
    assertInstanceOf(TimeoutException.class, failureOf(impatientLeader));
    run.complete("v");
    FlightResult<String> result = await(follower);
    assertFalse(result.shared(), "the only caller served reported the outcome shared");
    assertFalse(result.leader());
  }

  @Test
  void plainCallersCountAsSharersAndGetTheBareValue() throws Exception {
    Gate<String> gate = new Gate<>("v");
    Future<String> plain = flights.flight("k", gate);
    Future<FlightResult<String>> withResult = flights.flightResult("k", gate, null);
    barrier();
    gate.release.countDown();
    assertEquals("v", await(plain));
    assertTrue(await(withResult).shared());
    assertFalse(await(withResult).leader());
  }

  @Test
  void aFailedFlightFailsAResultCallerWithItsFailure() throws Exception {
    Throwable failure = failureOf(flights.flightResult("k", () -> {
      throw new IllegalStateException("down");
    }, null));
    assertEquals("down", failure.getMessage());
  }

  @Test
  void aResultCallWithAnInvalidArgumentThrowsAndSendsNothing() {
    assertThrows(NullPointerException.class, () -> flights.flightResult(null, () -> "v", null));
    assertThrows(NullPointerException.class, () -> flights.flightAsyncResult("k", null, null));
    assertThrows(IllegalArgumentException.class, () -> flights.flightResult("k", () -> "v", Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> flights.flightAsyncResult("k", () -> Future.succeededFuture("v"), Duration.ofMillis(-1)));
  }

  @Test
  void aResultCallWithoutAVerticleFailsWithNoHandlers() throws Exception {
    Throwable failure = failureOf(SingleFlight.createProxy(vertx, "nowhere").flightResult("k", () -> "v", null));
    assertInstanceOf(ReplyException.class, failure);
  }

  // copyResults

  @Test
  void byDefaultEveryCallerGetsTheVeryInstanceTheFunctionReturned() throws Exception {
    JsonObject original = new JsonObject().put("name", "ada");
    List<Object> values = valuesOfThreeCallers(original);
    for (Object value : values) {
      assertSame(original, value);
    }
  }

  @Test
  void withCopyResultsTheLeaderGetsTheOriginalAndEveryOtherCallerItsOwnJsonObject() throws Exception {
    redeploy(new SingleFlightOptions().setCopyResults(true));
    JsonObject original = new JsonObject().put("name", "ada").put("roles", new JsonArray().add("admin"));
    List<Object> values = valuesOfThreeCallers(original);
    assertSame(original, values.get(0));
    assertNotSame(original, values.get(1));
    assertNotSame(original, values.get(2));
    assertNotSame(values.get(1), values.get(2));
    ((JsonObject) values.get(1)).getJsonArray("roles").add("changed by one caller");
    assertEquals(original, values.get(2));
    assertEquals(1, original.getJsonArray("roles").size());
  }

  @Test
  void withCopyResultsJsonArraysAndBuffersAreCopiedToo() throws Exception {
    redeploy(new SingleFlightOptions().setCopyResults(true));
    JsonArray array = new JsonArray().add(1);
    List<Object> arrays = valuesOfThreeCallers(array);
    assertSame(array, arrays.get(0));
    assertNotSame(array, arrays.get(1));
    assertEquals(array, arrays.get(1));
    Buffer buffer = Buffer.buffer("bytes");
    List<Object> buffers = valuesOfThreeCallers(buffer);
    assertSame(buffer, buffers.get(0));
    assertNotSame(buffer, buffers.get(2));
    buffer.setByte(0, (byte) 'B');
    assertEquals("bytes", buffers.get(2).toString());
  }

  @Test
  void withCopyResultsAnyShareableIsCopiedThroughItsCopyAndOtherTypesAreShared() throws Exception {
    redeploy(new SingleFlightOptions().setCopyResults(true));
    AtomicInteger copies = new AtomicInteger();
    Shareable shareable = new Shareable() {
      @Override
      public Shareable copy() {
        copies.incrementAndGet();
        return this;
      }
    };
    valuesOfThreeCallers(shareable);
    assertEquals(2, copies.get());
    List<String> list = new ArrayList<>(List.of("not shareable"));
    for (Object value : valuesOfThreeCallers(list)) {
      assertSame(list, value);
    }
  }

  @Test
  void aCopyThatFailsFailsThatCallerOnly() throws Exception {
    redeploy(new SingleFlightOptions().setCopyResults(true));
    Shareable uncopyable = new Shareable() {
      @Override
      public Shareable copy() {
        throw new UnsupportedOperationException("cannot copy");
      }
    };
    Gate<Object> gate = new Gate<>(uncopyable);
    Future<Object> leader = flights.flight("k", gate);
    Future<Object> follower = flights.flight("k", gate);
    barrier();
    gate.release.countDown();
    assertSame(uncopyable, await(leader));
    assertInstanceOf(UnsupportedOperationException.class, failureOf(follower));
  }

  @Test
  void everyCopyIsMadeOnTheVerticlesEventLoopBeforeAnyCallerIsServed() throws Exception {
    redeploy(new SingleFlightOptions().setCopyResults(true));
    List<String> copiedOn = new CopyOnWriteArrayList<>();
    Shareable result = new Shareable() {
      @Override
      public Shareable copy() {
        copiedOn.add(Thread.currentThread().getName());
        return this;
      }
    };
    List<Context> contexts = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      // Callers on contexts of their own, on other event loops than the verticle's.
      contexts.add(vertx.getOrCreateContext());
    }
    Promise<Object> run = Promise.promise();
    CompletableFuture<String> verticleThread = new CompletableFuture<>();
    List<Future<Object>> callers = new ArrayList<>();
    CompletableFuture<Integer> copiesWhenTheLeaderWasServed = new CompletableFuture<>();
    for (int i = 0; i < 8; i++) {
      boolean leads = i == 0;
      Promise<Future<Object>> called = Promise.promise();
      contexts.get(i % 4).runOnContext(v -> {
        Future<Object> caller = flights.flightAsync("k", () -> {
          verticleThread.complete(Thread.currentThread().getName());
          return run.future();
        });
        if (leads) {
          caller.onSuccess(value -> copiesWhenTheLeaderWasServed.complete(copiedOn.size()));
        }
        called.complete(caller);
      });
      callers.add(await(called.future()));
      barrier();
    }
    run.complete(result);
    for (Future<Object> caller : callers) {
      assertSame(result, await(caller));
    }
    assertEquals(7, copiesWhenTheLeaderWasServed.get(WAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals(List.of(verticleThread.get(WAIT_SECONDS, TimeUnit.SECONDS)), copiedOn.stream().distinct().toList());
  }

  /** @return the values that three callers of one flight, the leader first, got when the function returned {@code value} */
  List<Object> valuesOfThreeCallers(Object value) throws Exception {
    Gate<Object> gate = new Gate<>(value);
    List<Future<Object>> callers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      callers.add(flights.flight("shared", gate));
    }
    barrier();
    gate.release.countDown();
    List<Object> values = new ArrayList<>();
    for (Future<Object> caller : callers) {
      values.add(await(caller));
    }
    return values;
  }
}
