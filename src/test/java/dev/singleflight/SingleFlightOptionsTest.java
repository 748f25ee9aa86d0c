package dev.singleflight;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SingleFlightOptionsTest {

  @Test
  void defaults() {
    assertEquals("singleflight.flight", new SingleFlightOptions().getAddress());
    assertEquals(List.of(), new SingleFlightOptions().getAllowedAddresses());
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
      .setAllowedAddresses(List.of("users\\..*", "orders"));
    SingleFlightOptions read = new SingleFlightOptions(options.toJson());
    assertEquals(options.toJson(), read.toJson());
    assertEquals("users.flight", read.getAddress());
    assertEquals(List.of("users\\..*", "orders"), read.getAllowedAddresses());
  }

  @Test
  void anEmptyOrNullAddressIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions().setAddress(""));
    assertThrows(NullPointerException.class, () -> new SingleFlightOptions().setAddress(null));
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions(new JsonObject().put("address", 42)));
  }

  @Test
  void allowedAddressesMustBeValidRegularExpressions() {
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions().setAllowedAddresses(List.of("users.(")));
    assertThrows(IllegalArgumentException.class,
      () -> new SingleFlightOptions(new JsonObject().put("allowedAddresses", new JsonArray().add(1))));
    assertEquals(List.of(), new SingleFlightOptions().setAllowedAddresses(null).getAllowedAddresses());
  }
}
