package dev.singleflight.examples;

import dev.singleflight.SingleFlight;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each example does what it says. The stores are held (their reads wait until the test releases
 * them), and released only once the calls have joined their flights, so calls made before the
 * release overlap with the flight whatever the machine's timing.
 */
class ExamplesTest {

  private static final long WAIT_SECONDS = 20;

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
  void everyExampleMainRunsToItsEnd() {
    DeployAndFlight.main(new String[0]);
    AsyncFlightWithClient.main(new String[0]);
    ForgetAfterWrite.main(new String[0]);
    TimeoutsAndErrors.main(new String[0]);
  }

  /** A store whose reads wait until {@link SlowStore#release()}, or the test's time runs out. */
  /**
   * Waits until every call made so far has joined its flight. A call reaches the verticle some time
   * after {@code flight} returns, possibly after a released read has ended its flight; but the
   * verticle takes the calls of one thread in order, so once this forget of another key is answered,
   * the calls before it have joined.
   */
  private void allCallsJoined() throws TimeoutException {
    await(flights.forget("barrier"));
  }

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
