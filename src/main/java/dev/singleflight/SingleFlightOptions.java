package dev.singleflight;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Options of a {@link SingleFlightVerticle}, a Vert.x data object: every field has a {@code DEFAULT_*}
 * constant, the setters are fluent, and {@link #toJson()} round-trips through
 * {@link #SingleFlightOptions(JsonObject)}, so the options can come from a deployment's {@code config()}.
 */
public class SingleFlightOptions {

  /** The default event-bus address of the verticle: {@value}. */
  public static final String DEFAULT_ADDRESS = "singleflight.flight";

  /** By default JSON-protocol flights may name any downstream address: an empty list. */
  public static final List<String> DEFAULT_ALLOWED_ADDRESSES = List.of();

  private String address;
  private List<String> allowedAddresses;

  /** Options with every field at its default. */
  public SingleFlightOptions() {
    address = DEFAULT_ADDRESS;
    allowedAddresses = DEFAULT_ALLOWED_ADDRESSES;
  }

  /**
   * A copy of {@code other}.
   *
   * @param other the options to copy, not {@code null}
   */
  public SingleFlightOptions(SingleFlightOptions other) {
    address = other.address;
    allowedAddresses = other.allowedAddresses;
  }

  /**
   * Options read from JSON; an absent field keeps its default.
   *
   * @param json the fields as {@link #toJson()} writes them, not {@code null}
   * @throws IllegalArgumentException when a field has the wrong JSON type or an invalid value
   */
  public SingleFlightOptions(JsonObject json) {
    this();
    if (json.getValue("address") != null) {
      setAddress(typed(json, "address", String.class));
    }
    if (json.getValue("allowedAddresses") != null) {
      List<String> allowed = new ArrayList<>();
      for (Object entry : typed(json, "allowedAddresses", JsonArray.class)) {
        if (!(entry instanceof String pattern)) {
          throw new IllegalArgumentException("allowedAddresses must hold strings, had " + entry);
        }
        allowed.add(pattern);
      }
      setAllowedAddresses(allowed);
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
    return new JsonObject()
      .put("address", address)
      .put("allowedAddresses", new JsonArray(new ArrayList<>(allowedAddresses)));
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

  /**
   * @return the regular expressions that a JSON-protocol flight's downstream address must match;
   * empty (the default) allows every address
   */
  public List<String> getAllowedAddresses() {
    return allowedAddresses;
  }

  /**
   * Restricts the downstream addresses that JSON-protocol flights may name. Each entry is a Java
   * regular expression matched against the whole address; a flight naming an address that matches
   * none fails with 403 and nothing is sent downstream. Without it the verticle forwards to any
   * address a requester gives, so set it whenever untrusted clients (a bridge) can reach the verticle.
   *
   * @param allowedAddresses the patterns, copied; {@code null} or empty (the default) allows every
   *                         address
   * @return this, for chaining
   * @throws IllegalArgumentException when an entry is {@code null} or not a valid regular expression
   */
  public SingleFlightOptions setAllowedAddresses(List<String> allowedAddresses) {
    List<String> copy = new ArrayList<>();
    if (allowedAddresses != null) {
      for (String pattern : allowedAddresses) {
        if (pattern == null) {
          throw new IllegalArgumentException("allowedAddresses must not hold null");
        }
        try {
          Pattern.compile(pattern);
        } catch (PatternSyntaxException e) {
          throw new IllegalArgumentException("allowedAddresses holds an invalid regular expression: " + pattern, e);
        }
        copy.add(pattern);
      }
    }
    this.allowedAddresses = List.copyOf(copy);
    return this;
  }

  @Override
  public String toString() {
    return "SingleFlightOptions" + toJson().encode();
  }
}
