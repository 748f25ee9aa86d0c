package dev.singleflight.examples;

import dev.singleflight.SingleFlight;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each example does what it says. The stores are held (their reads wait until the test releases
 * them), and released only once the calls have joined their flights, so calls made before the
 * release overlap with the flight whatever the machine's timing.
 */
class ExamplesTest {

  private static final long WAIT_SECONDS = 20;
  /** Each main waits for reads of at most 500 ms in all, and starts and closes a Vert.x instance. */
  private static final long MAIN_SECONDS = 60;

  private Vertx vertx;
  private SingleFlight flights;

  @BeforeEach
  void deploy() throws TimeoutException {
    vertx = Vertx.vertx();
    flights = await(DeployAndFlight.deploy(vertx));
  }

  @AfterEach
  void close() throws TimeoutException {
    await(vertx.close());
  }

  @Test
  void deployAndFlight_concurrentCallersShareOneReadAndItsResult() throws TimeoutException {
    SlowStore store = heldStore().put("report:daily", "42 orders");
    List<Future<String>> callers = List.of(
      DeployAndFlight.dailyReport(flights, store), DeployAndFlight.dailyReport(flights, store),
      DeployAndFlight.dailyReport(flights, store));
    allCallsJoined();
    store.release();
    await(Future.all(callers));
    assertEquals(1, store.reads());
    assertEquals("42 orders", callers.get(0).result());
    assertSame(callers.get(0).result(), callers.get(1).result());
    assertSame(callers.get(0).result(), callers.get(2).result());
  }

  @Test
  void asyncFlightWithClient_concurrentCallersShareOneHttpRequest() throws TimeoutException {
    SlowStore prices = heldStore().put("sku-7", "19.90");
    HttpServer service = await(AsyncFlightWithClient.startPriceService(vertx, prices));
    WebClient client = WebClient.create(vertx);
    List<Future<JsonObject>> callers = List.of(
      AsyncFlightWithClient.price(flights, client, service.actualPort(), "sku-7"),
      AsyncFlightWithClient.price(flights, client, service.actualPort(), "sku-7"),
      AsyncFlightWithClient.price(flights, client, service.actualPort(), "sku-7"));
    allCallsJoined();
    prices.release();
    await(Future.all(callers));
    assertEquals(1, prices.reads());
    assertEquals(new JsonObject().put("sku", "sku-7").put("price", "19.90"), callers.get(0).result());
    assertSame(callers.get(0).result(), callers.get(1).result());
    assertSame(callers.get(0).result(), callers.get(2).result());
  }

  @Test
  void asyncFlightWithClient_aServiceThatDoesNotAnswer200FailsTheCaller() throws TimeoutException {
    SlowStore prices = new SlowStore(Duration.ZERO);
    HttpServer service = await(AsyncFlightWithClient.startPriceService(vertx, prices));
    Throwable failure = failureOf(AsyncFlightWithClient.price(flights, WebClient.create(vertx), service.actualPort(), "none"));
    assertTrue(failure.getMessage().contains("404"), failure::getMessage);
  }

  @Test
  void forgetAfterWrite_aReadAskedAfterTheForgetStartsAfreshAndSeesTheWrite() throws TimeoutException {
    SlowStore names = heldStore().put("7", "Ada");
    Future<String> before = ForgetAfterWrite.name(flights, names, "7");
    await(ForgetAfterWrite.rename(flights, names, "7", "Ada Lovelace"));
    Future<String> after = ForgetAfterWrite.name(flights, names, "7");
    names.release();
    await(Future.all(before, after));
    assertEquals(2, names.reads());
    assertEquals("Ada Lovelace", after.result());
  }

  @Test
  void forgetAfterWrite_withoutTheForgetAReadJoinsTheFlightThatBeganBeforeTheWrite() throws TimeoutException {
    SlowStore names = heldStore().put("7", "Ada");
    Future<String> before = ForgetAfterWrite.name(flights, names, "7");
    names.put("7", "Ada Lovelace");
    Future<String> after = ForgetAfterWrite.name(flights, names, "7");
    allCallsJoined();
    names.release();
    await(Future.all(before, after));
    assertEquals(1, names.reads());
    assertSame(before.result(), after.result());
  }

  @Test
  void batchedLookups_callsMadeTogetherShareOneServiceRequestAndAnUnknownUserIsNull() throws TimeoutException {
    List<JsonArray> requests = new java.util.concurrent.CopyOnWriteArrayList<>();
    await(vertx.eventBus().<JsonArray>consumer(BatchedLookups.USERS, request -> {
      requests.add(request.body());
      JsonObject byId = new JsonObject();
      request.body().stream().filter(id -> !"3".equals(id)).forEach(id -> byId.put((String) id, new JsonObject().put("id", id)));
      request.reply(byId);
    }).completion());
    List<Object> found = await(BatchedLookups.lookUp(BatchedLookups.users(vertx, flights)));
    assertEquals(new JsonObject().put("id", "1"), found.get(0));
    java.util.Map<?, ?> some = (java.util.Map<?, ?>) found.get(1);
    assertEquals(List.of("1", "2", "3"), List.copyOf(some.keySet()));
    assertSame(found.get(0), some.get("1"));
    assertEquals(new JsonObject().put("id", "2"), some.get("2"));
    assertEquals(null, some.get("3"));
    // The ids 1, 2 and 3, each once, in as many requests as batches formed (at most 10 ms apart).
    assertEquals(List.of("1", "2", "3"), requests.stream().flatMap(JsonArray::stream).sorted().toList());
  }

  @Test
  void timeoutsAndErrors_anImpatientCallerTimesOutWhileTheFlightGoesOnForThePatientOne() throws TimeoutException {
    SlowStore store = heldStore().put("report:daily", "42 orders");
    Future<String> impatient = TimeoutsAndErrors.reportWithin(flights, store, Duration.ofMillis(100));
    Future<String> patient = TimeoutsAndErrors.report(flights, store);
    allCallsJoined();
    assertInstanceOf(TimeoutException.class, failureOf(impatient));
    assertFalse(patient.isComplete());
    store.release();
    assertEquals("42 orders", await(patient));
    assertEquals(1, store.reads());
  }

  @Test
  void timeoutsAndErrors_everyCallerOfAFailingFlightGetsTheSameException() throws TimeoutException {
    SlowStore store = heldStore();
    Future<String> first = TimeoutsAndErrors.missingRow(flights, store);
    Future<String> second = TimeoutsAndErrors.missingRow(flights, store);
    allCallsJoined();
    store.release();
    Throwable failure = failureOf(first);
    assertInstanceOf(NoSuchElementException.class, failure);
    assertSame(failure, failureOf(second));
    assertEquals(1, store.reads());
  }

  @Test
  void deployAndFlightMain_printsThatThreeCallersSharedOneRead() {
    assertEquals(List.of("3 callers got '42 orders, 3 returns'; the store was read 1 time(s)"),
      linesPrintedBy(() -> DeployAndFlight.main(new String[0])));
  }

  @Test
  void asyncFlightWithClientMain_printsThatThreeCallersSharedOneHttpRequest() {
    assertEquals(List.of("3 callers got {\"sku\":\"sku-7\",\"price\":\"19.90\"}; the service was asked 1 time(s)"),
      linesPrintedBy(() -> AsyncFlightWithClient.main(new String[0])));
  }

  @Test
  void forgetAfterWriteMain_printsThatTheReadAfterTheRenameSawTheNewName() {
    assertEquals(List.of("the read asked after the rename got 'Ada Lovelace'; the store was read 2 time(s)"),
      linesPrintedBy(() -> ForgetAfterWrite.main(new String[0])));
  }

  @Test
  void timeoutsAndErrorsMain_printsTheImpatientCallersTimeoutAndTheSharedFailure() {
    List<String> lines = linesPrintedBy(() -> TimeoutsAndErrors.main(new String[0]));
    assertEquals(2, lines.size(), lines::toString);
    assertTrue(lines.get(0).startsWith("impatient caller: dev.singleflight.CallerTimeoutException"), lines.get(0));
    assertTrue(lines.get(0).endsWith("; patient caller: '42 orders, 3 returns'; reads: 1"), lines.get(0));
    assertEquals("both callers failed with the same exception: true; reads: 2", lines.get(1));
  }

  /**
   * Runs an example's {@code main} on a thread of its own and returns what it printed. Fails when it
   * has not ended within {@link #MAIN_SECONDS} (the thread is then left behind), so that a
   * regression fails the build instead of hanging it.
   */
  private static List<String> linesPrintedBy(Runnable main) {
    PrintStream original = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      assertTimeoutPreemptively(Duration.ofSeconds(MAIN_SECONDS), main::run, "the example's main did not end");
    } finally {
      System.setOut(original);
    }
    return printed.toString(StandardCharsets.UTF_8).lines().toList();
  }

  /**
   * Waits until every call made so far has joined its flight. A call reaches the verticle some time
   * after {@code flight} returns, possibly after a released read has ended its flight; but the
   * verticle takes the calls of one thread in order, so once this forget of another key is answered,
   * the calls before it have joined.
   */
  private void allCallsJoined() throws TimeoutException {
    await(flights.forget("barrier"));
  }

  /** A store whose reads wait until {@link SlowStore#release()}, or the test's time runs out. */
  private static SlowStore heldStore() {
    return new SlowStore(Duration.ofSeconds(WAIT_SECONDS));
  }

  private static <T> T await(Future<T> future) throws TimeoutException {
    return future.await(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  private static Throwable failureOf(Future<?> future) throws TimeoutException {
    await(future.otherwiseEmpty());
    assertTrue(future.failed(), () -> "expected a failure, got " + future.result());
    return future.cause();
  }
}
