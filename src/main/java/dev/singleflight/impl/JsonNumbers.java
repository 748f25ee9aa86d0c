package dev.singleflight.impl;

import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;

/** Reads whole numbers from JSON values without truncating them, whatever Java type the parser chose. */
public final class JsonNumbers {

  private JsonNumbers() {
  }

  /**
   * @param value a JSON value: an {@code Integer}, {@code Long}, {@code Double}, {@code BigInteger}...
   * @return the value when it is a finite whole number (1.0 and 1e3 are; 1.5, NaN and strings are not),
   * else {@code null}
   */
  public static BigDecimal whole(Object value) {
    if (!(value instanceof Number number)) {
      return null;
    }
    BigDecimal decimal;
    try {
      decimal = new BigDecimal(number.toString());
    } catch (NumberFormatException notFinite) {
      return null;
    }
    return decimal.signum() == 0 || decimal.stripTrailingZeros().scale() <= 0 ? decimal : null;
  }

  /**
   * Checks a field of options read from JSON before a generated converter casts it (which would
   * truncate 4294967297 to 1).
   *
   * @throws IllegalArgumentException naming the field and the value when the field is set to anything
   * but a JSON number that is a whole number from {@code min} to {@code max}
   */
  public static void checkWhole(JsonObject json, String field, long min, long max) {
    Object value = json.getValue(field);
    if (value == null) {
      return;
    }
    BigDecimal number = whole(value);
    if (number == null || number.compareTo(BigDecimal.valueOf(min)) < 0 || number.compareTo(BigDecimal.valueOf(max)) > 0) {
      throw new IllegalArgumentException(field + " must be a whole number from " + min + " to " + max + ", was " + value);
    }
  }
}
