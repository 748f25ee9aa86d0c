package dev.singleflight;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

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
    assertNull(defaults.getWorkerPoolName());
    assertEquals(20, defaults.getWorkerPoolSize());
    assertFalse(defaults.isClustered());
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
      .setWorkerPoolName("lookups")
      .setWorkerPoolSize(8)
      .setClustered(true);
    SingleFlightOptions read = new SingleFlightOptions(options.toJson());
    assertEquals(options.toJson(), read.toJson());
    assertEquals("users.flight", read.getAddress());
    assertEquals(List.of("users\\..*", "orders"), read.getAllowedAddresses());
    assertEquals(5_000, read.getMaxFlightTime());
    assertTrue(read.isCancelAbandoned());
    assertEquals(100, read.getMaxInFlight());
    assertEquals(1_000, read.getMaxWaiters());
    assertEquals(256, read.getMaxKeyLength());
    assertEquals("lookups", read.getWorkerPoolName());
    assertEquals(8, read.getWorkerPoolSize());
    assertTrue(read.isClustered());
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
}
