package dev.singleflight;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SingleFlightOptionsTest {

  @Test
  void defaults() {
    assertEquals("singleflight.flight", new SingleFlightOptions().getAddress());
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
    SingleFlightOptions options = new SingleFlightOptions().setAddress("users.flight");
    assertEquals(options.toJson(), new SingleFlightOptions(options.toJson()).toJson());
    assertEquals("users.flight", new SingleFlightOptions(options.toJson()).getAddress());
  }

  @Test
  void anEmptyOrNullAddressIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions().setAddress(""));
    assertThrows(NullPointerException.class, () -> new SingleFlightOptions().setAddress(null));
    assertThrows(IllegalArgumentException.class, () -> new SingleFlightOptions(new JsonObject().put("address", 42)));
  }
}
