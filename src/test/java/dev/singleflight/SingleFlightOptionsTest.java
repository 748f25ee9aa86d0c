package dev.singleflight;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SingleFlightOptionsTest {

  @Test
  void defaults() {
    assertEquals("singleflight.flight", new SingleFlightOptions().getAddress());
    SingleFlightOptions defaults = new SingleFlightOptions();
    assertEquals(List.of(), defaults.getAllowedAddresses());
    assertEquals(0, defaults.getMaxFlightTime());
    assertFalse(defaults.isCancelAbandoned());
    assertEquals(0, defaults.getMaxInFlight());
    assertEquals(0, defaults.getMaxWaiters());
    assertEquals(4096, defaults.getMaxKeyLength());
    assertEquals(300_000, defaults.getMaxTimeout());
    assertEquals("default", defaults.getMetricsRegistryName());
    assertNull(defaults.getWorkerPoolName());
    assertEquals(20, defaults.getWorkerPoolSize());
    assertFalse(defaults.isClustered());
    assertEquals(0, defaults.getHedgeAfter());
    assertEquals(1, defaults.getMaxHedges());
    assertFalse(defaults.isCopyResults());
    assertEquals(SingleFlightOptions.DEFAULT_ADDRESS, new SingleFlightOptions(new JsonObject()).getAddress());
  }

  @Test
  void theCopyIsIndependentOfTheOriginal() {
    SingleFlightOptions original = new SingleFlightOptions().setAddress("a");
    SingleFlightOptions copy = new SingleFlightOptions(original);
    original.setAddress("b");
    assertEquals("a", copy.getAddress());
  }

  @Test
  void jsonRoundTrips() {
    SingleFlightOptions options = new SingleFlightOptions()
      .setAddress("users.flight")
      .setAllowedAddresses(List.of("users\\..*", "orders"))
      .setMaxFlightTime(5_000)
      .setCancelAbandoned(true)
      .setMaxInFlight(100)
      .setMaxWaiters(1_000)
      .setMaxKeyLength(256)
      .setMaxTimeout(60_000)
      .setMetricsRegistryName("app")
      .setWorkerPoolName("lookups")
      .setWorkerPoolSize(8)
      .setClustered(true)
      .setHedgeAfter(50)
      .setMaxHedges(2)
      .setCopyResults(true);
    SingleFlightOptions read = new SingleFlightOptions(options.toJson());
    assertEquals(options.toJson(), read.toJson());
    assertEquals("users.flight", read.getAddress());
    assertEquals(List.of("users\\..*", "orders"), read.getAllowedAddresses());
    assertEquals(5_000, read.getMaxFlightTime());
    assertTrue(read.isCancelAbandoned());
    assertEquals(100, read.getMaxInFlight());
    assertEquals(1_000, read.getMaxWaiters());
    assertEquals(256, read.getMaxKeyLength());
    assertEquals(60_000, read.getMaxTimeout());
    assertEquals("app", read.getMetricsRegistryName());
    assertEquals("lookups", read.getWorkerPoolName());
    assertEquals(8, read.getWorkerPoolSize());
    assertTrue(read.isClustered());
    assertEquals(50, read.getHedgeAfter());
    assertEquals(2, read.getMaxHedges());
    assertTrue(read.isCopyResults());
    assertEquals(options.toJson(), new SingleFlightOptions(options).toJson());
  }

  @Test
  void anEmptyOrNullAddressIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions().setAddress(""));
    assertThrows(NullPointerException.class, () -> new SingleFlightOptions().setAddress(null));
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions(new JsonObject().put("address", 42)));
  }

  @Test
  void limitsOutOfRangeAreRejected() {
    SingleFlightOptions options = new SingleFlightOptions();
    assertThrows(IllegalArgumentException.class, () -> options.setMaxFlightTime(-1));
    assertThrows(IllegalArgumentException.class, () -> options.setMaxInFlight(-1));
    assertThrows(IllegalArgumentException.class, () -> options.setMaxWaiters(-1));
    assertThrows(IllegalArgumentException.class, () -> options.setMaxKeyLength(0));
    assertThrows(IllegalArgumentException.class, () -> options.setWorkerPoolSize(0));
    assertThrows(IllegalArgumentException.class, () -> options.setWorkerPoolName(""));
    assertThrows(IllegalArgumentException.class, () -> options.setMaxTimeout(0));
    assertThrows(IllegalArgumentException.class, () -> options.setMaxTimeout(SingleFlightOptions.MAX_TIMEOUT_LIMIT + 1));
    assertThrows(IllegalArgumentException.class, () -> options.setHedgeAfter(-1));
    assertThrows(IllegalArgumentException.class, () -> options.setMaxHedges(0));
    assertThrows(IllegalArgumentException.class, () -> options.setMaxHedges(SingleFlightOptions.MAX_HEDGES_LIMIT + 1));
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions(new JsonObject().put("cancelAbandoned", "yes")));
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions(new JsonObject().put("maxWaiters", "many")));
  }

  @Test
  void allowedAddressesMustBeValidRegularExpressions() {
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions().setAllowedAddresses(List.of("users.(")));
    assertThrows(IllegalArgumentException.class,
      () -> new SingleFlightOptions(new JsonObject().put("allowedAddresses", new JsonArray().add(1))));
    assertEquals(List.of(), new SingleFlightOptions().setAllowedAddresses(null).getAllowedAddresses());
  }

  /** Each value is out of its field's range, not whole, or of the wrong JSON type: none may be truncated. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "maxInFlight | 4294967297",
    "maxInFlight | 2147483648",
    "maxInFlight | 1.5",
    "maxInFlight | -1",
    "maxWaiters | 1e19",
    "maxWaiters | 18446744073709551617",
    "maxKeyLength | 0",
    "maxKeyLength | 4294967296",
    "workerPoolSize | 0.999",
    "workerPoolSize | 4294967297",
    "maxFlightTime | 9223372036854775808",
    "maxFlightTime | -0.5",
    "maxFlightTime | 1e300",
    "maxTimeout | 0",
    "maxTimeout | 2147483648",
    "maxTimeout | \"30000\"",
    "cancelAbandoned | 1",
    "clustered | \"true\"",
    "address | 7",
    "workerPoolName | []",
    "hedgeAfter | -1",
    "hedgeAfter | 0.5",
    "hedgeAfter | 9223372036854775808",
    "maxHedges | 0",
    "maxHedges | 101",
    "maxHedges | 4294967297",
    "copyResults | \"yes\""})
  void aValueOutOfRangeOrOfTheWrongTypeFailsNamingTheFieldAndTheValue(String field, String value) {
    JsonObject json = new JsonObject("{\"" + field + "\":" + value + "}");
    IllegalArgumentException failure = assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions(json));
    assertTrue(failure.getMessage().contains(field), failure.getMessage());
    String shown = String.valueOf(json.getValue(field));
    assertTrue(failure.getMessage().contains(shown), failure.getMessage() + " does not show " + shown);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "maxInFlight | 2147483647 | 2147483647",
    "maxInFlight | 3.0 | 3",
    "maxWaiters | 1e3 | 1000",
    "maxFlightTime | 9223372036854775807 | 9223372036854775807",
    "maxTimeout | 2147483647 | 2147483647",
    "hedgeAfter | 9223372036854775807 | 9223372036854775807",
    "maxHedges | 100 | 100"})
  void aWholeValueInRangeIsTakenExactly(String field, String value, long expected) {
    JsonObject read = new SingleFlightOptions(new JsonObject("{\"" + field + "\":" + value + "}")).toJson();
    assertEquals(expected, ((Number) read.getValue(field)).longValue());
  }

  /**
   * The generated converter reads every property it finds on the class; the JSON constructor must check
   * each of them before it does. A property added without a check fails here: no JSON type fits them all.
   */
  @Test
  void everyFieldOfTheJsonIsCheckedBeforeTheConverterReadsIt() {
    JsonObject every = new SingleFlightOptions().setWorkerPoolName("pool").toJson();
    assertEquals(16, every.size(), every.encode());
    for (String field : every.fieldNames()) {
      JsonObject json = new JsonObject().put(field, new JsonObject().put("not", "an option value"));
      IllegalArgumentException failure = assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions(json), field);
      assertTrue(failure.getMessage().startsWith(field + " "), failure.getMessage());
    }
  }

  @Test
  void aNullFieldKeepsItsDefaultAndAnUnknownOneIsIgnored() {
    JsonObject json = new JsonObject().putNull("address").putNull("maxInFlight").putNull("allowedAddresses")
      .putNull("workerPoolName").put("noSuchOption", 4294967297L);
    assertEquals(new SingleFlightOptions().toJson(), new SingleFlightOptions(json).toJson());
  }

  @Test
  void aConfigBuiltFromJavaCollectionsIsRead() {
    JsonObject json = new JsonObject(Map.of("allowedAddresses", List.of("users\\..*"), "maxInFlight", 7L));
    SingleFlightOptions read = new SingleFlightOptions(json);
    assertEquals(List.of("users\\..*"), read.getAllowedAddresses());
    assertEquals(7, read.getMaxInFlight());
    assertThrows(IllegalArgumentException.class,
      () -> new SingleFlightOptions(new JsonObject(Map.of("allowedAddresses", Arrays.asList("a", null)))));
  }

  @Test
  void theSettersStillCheckWhatTheJsonTypeCannot() {
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions(new JsonObject().put("address", "")));
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions(new JsonObject().put("workerPoolName", "")));
    assertThrows(IllegalArgumentException.class,
      () -> new SingleFlightOptions(new JsonObject().put("allowedAddresses", new JsonArray().add("users.("))));
  }

  @Test
  void aConfigOutOfRangeFailsTheDeploymentNamingTheFieldAndTheValue() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Future<String> deployment = vertx.deployVerticle(new SingleFlightVerticle(),
        new DeploymentOptions().setConfig(new JsonObject().put("maxInFlight", 4294967297L)));
      Throwable failure = assertThrows(IllegalArgumentException.class, () -> FlightTestBase.await(deployment));
      assertTrue(failure.getMessage().contains("maxInFlight") && failure.getMessage().contains("4294967297"), failure.getMessage());
    } finally {
      FlightTestBase.await(vertx.close());
    }
  }

  @Test
  void traceKeysIsOffByDefaultRoundTripsAndMustBeABoolean() {
    assertFalse(new SingleFlightOptions().isTraceKeys());
    assertFalse(SingleFlightOptions.DEFAULT_TRACE_KEYS);
    SingleFlightOptions on = new SingleFlightOptions().setTraceKeys(true);
    assertEquals(true, on.toJson().getValue("traceKeys"));
    assertTrue(new SingleFlightOptions(on.toJson()).isTraceKeys());
    assertTrue(new SingleFlightOptions(on).isTraceKeys());
    IllegalArgumentException failure = assertThrows(IllegalArgumentException.class,
      () -> new SingleFlightOptions(new JsonObject().put("traceKeys", "yes")));
    assertTrue(failure.getMessage().contains("traceKeys") && failure.getMessage().contains("yes"), failure.getMessage());
  }
}
