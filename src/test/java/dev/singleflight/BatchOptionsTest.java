package dev.singleflight;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BatchOptions, a data object: defaults, copy, JSON both ways, and every invalid value refused with its field named. */
class BatchOptionsTest {

  @Test
  void theDefaultsAreOneHundredKeysAndTheEndOfTheEventLoopTurn() {
    BatchOptions options = new BatchOptions();
    assertEquals(100, options.getMaxBatchSize());
    assertEquals(0, options.getMaxDelay());
    assertEquals(new JsonObject().put("maxBatchSize", 100).put("maxDelay", 0L), options.toJson());
  }

  @Test
  void theCopyAndTheJsonRoundTripKeepEveryField() {
    BatchOptions options = new BatchOptions().setMaxBatchSize(7).setMaxDelay(250);
    BatchOptions copy = new BatchOptions(options);
    assertEquals(options.toJson(), copy.toJson());
    BatchOptions read = new BatchOptions(options.toJson());
    assertEquals(7, read.getMaxBatchSize());
    assertEquals(250, read.getMaxDelay());
    assertEquals(options.toJson(), new BatchOptions(new JsonObject()).setMaxBatchSize(7).setMaxDelay(250).toJson());
  }

  @Test
  void theSettersRefuseValuesOutOfRange() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new BatchOptions().setMaxBatchSize(0)).getMessage().contains("maxBatchSize"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new BatchOptions().setMaxDelay(-1)).getMessage().contains("maxDelay"));
  }

  @Test
  void theJsonConstructorRefusesWrongTypesFractionsAndValuesOutOfRangeNamingTheField() {
    for (JsonObject invalid : new JsonObject[] {
      new JsonObject().put("maxBatchSize", 0),
      new JsonObject().put("maxBatchSize", 4294967297L),
      new JsonObject().put("maxBatchSize", 1.5),
      new JsonObject().put("maxBatchSize", "100"),
      new JsonObject().put("maxDelay", -1),
      new JsonObject().put("maxDelay", true)}) {
      String field = invalid.fieldNames().iterator().next();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BatchOptions(invalid), invalid::encode);
      assertTrue(e.getMessage().contains(field) && e.getMessage().contains(String.valueOf(invalid.getValue(field))), e.getMessage());
    }
  }
}
