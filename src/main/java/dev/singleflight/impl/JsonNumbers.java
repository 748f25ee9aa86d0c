package dev.singleflight.impl;

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
}
