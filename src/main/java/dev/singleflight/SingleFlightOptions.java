package dev.singleflight;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * Options of a {@link SingleFlightVerticle}, a Vert.x data object: every field has a {@code DEFAULT_*}
 * constant, the setters are fluent, and {@link #toJson()} round-trips through
 * {@link #SingleFlightOptions(JsonObject)}, so the options can come from a deployment's {@code config()}.
 */
public class SingleFlightOptions {

  /** The default event-bus address of the verticle: {@value}. */
  public static final String DEFAULT_ADDRESS = "singleflight.flight";

  private String address;

  /** Options with every field at its default. */
  public SingleFlightOptions() {
    address = DEFAULT_ADDRESS;
  }

  /**
   * A copy of {@code other}.
   *
   * @param other the options to copy, not {@code null}
   */
  public SingleFlightOptions(SingleFlightOptions other) {
    address = other.address;
  }

  /**
   * Options read from JSON; an absent field keeps its default.
   *
   * @param json the fields as {@link #toJson()} writes them, not {@code null}
   * @throws IllegalArgumentException when a field has the wrong JSON type or an invalid value
   */
  public SingleFlightOptions(JsonObject json) {
    this();
    Object address = json.getValue("address");
    if (address != null) {
      setAddress(typed(json, "address", String.class));
    }
  }

  private static <T> T typed(JsonObject json, String field, Class<T> type) {
    Object value = json.getValue(field);
    if (!type.isInstance(value)) {
      throw new IllegalArgumentException(field + " must be a " + type.getSimpleName() + ", was " + value);
    }
    return type.cast(value);
  }

  /** @return these options as JSON, one field per option */
  public JsonObject toJson() {
    return new JsonObject().put("address", address);
  }

  /** @return the event-bus address the verticle answers at; default {@value #DEFAULT_ADDRESS} */
  public String getAddress() {
    return address;
  }

  /**
   * Sets the event-bus address the verticle answers at; proxies must be created with the same one.
   *
   * @param address a non-empty address; default {@value #DEFAULT_ADDRESS}
   * @return this, for chaining
   * @throws NullPointerException when {@code address} is {@code null}
   * @throws IllegalArgumentException when {@code address} is empty
   */
  public SingleFlightOptions setAddress(String address) {
    Objects.requireNonNull(address, "address");
    if (address.isEmpty()) {
      throw new IllegalArgumentException("address must not be empty");
    }
    this.address = address;
    return this;
  }

  @Override
  public String toString() {
    return "SingleFlightOptions" + toJson().encode();
  }
}
