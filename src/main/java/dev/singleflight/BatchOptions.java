package dev.singleflight;

import dev.singleflight.impl.JsonNumbers;
import io.vertx.codegen.annotations.DataObject;
import io.vertx.codegen.json.annotations.JsonGen;
import io.vertx.core.json.JsonObject;


/**
 * Options of a {@link Batch}, a Vert.x {@link DataObject} like {@link SingleFlightOptions}: when an
 * open batch is loaded. The JSON field of each option is its name: {@code maxBatchSize},
 * {@code maxDelay}.
 *
 * <p>The JSON converter, {@code BatchOptionsConverter}, is generated at build time by vertx-codegen;
 * the JSON constructor first checks each field itself: a value that is not a whole number in its
 * range fails with an {@link IllegalArgumentException} naming the field and the value.
 */
@DataObject
@JsonGen(publicConverter = false)
public class BatchOptions {

  /** By default a batch is loaded once it holds {@value} keys. */
  public static final int DEFAULT_MAX_BATCH_SIZE = 100;
  /** By default a batch is loaded at the end of the event-loop turn in which its first key came: {@value} ms. */
  public static final long DEFAULT_MAX_DELAY = 0;

  private int maxBatchSize;
  private long maxDelay;

  /** Options with every field at its default. */
  public BatchOptions() {
    maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
    maxDelay = DEFAULT_MAX_DELAY;
  }

  /**
   * A copy of {@code other}.
   *
   * @param other the options to copy, not {@code null}
   */
  public BatchOptions(BatchOptions other) {
    maxBatchSize = other.maxBatchSize;
    maxDelay = other.maxDelay;
  }

  /**
   * Options read from JSON; an absent or {@code null} field keeps its default, an unknown one is ignored.
   *
   * @param json the fields as {@link #toJson()} writes them, not {@code null}
   * @throws IllegalArgumentException when a field is not a whole number in its range
   */
  public BatchOptions(JsonObject json) {
    this();
    JsonNumbers.checkWhole(json, "maxBatchSize", 1, Integer.MAX_VALUE);
    JsonNumbers.checkWhole(json, "maxDelay", 0, Long.MAX_VALUE);
    BatchOptionsConverter.fromJson(json, this);
  }

  /** @return these options as JSON, one field per option */
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    BatchOptionsConverter.toJson(this, json);
    return json;
  }

  /** @return the most keys one loader call gets; default {@value #DEFAULT_MAX_BATCH_SIZE} */
  public int getMaxBatchSize() {
    return maxBatchSize;
  }

  /**
   * Sets the most keys of one batch: a batch is loaded as soon as it holds that many.
   *
   * @param maxBatchSize at least 1; default {@value #DEFAULT_MAX_BATCH_SIZE}
   * @return this, for chaining
   * @throws IllegalArgumentException when below 1
   */
  public BatchOptions setMaxBatchSize(int maxBatchSize) {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be at least 1, was " + maxBatchSize);
    }
    this.maxBatchSize = maxBatchSize;
    return this;
  }

  /** @return how long a batch gathers keys after its first, in milliseconds; default {@value #DEFAULT_MAX_DELAY} */
  public long getMaxDelay() {
    return maxDelay;
  }

  /**
   * Sets how long an open batch gathers keys: it is loaded {@code maxDelay} ms after its first key
   * came, unless it filled up before. 0 loads it at the end of the event-loop turn in which its first
   * key came, once the calls already queued for the verticle are in: calls made together share a
   * batch, and none waits for a timer.
   *
   * @param maxDelay milliseconds, not negative; default {@value #DEFAULT_MAX_DELAY}
   * @return this, for chaining
   * @throws IllegalArgumentException when negative
   */
  public BatchOptions setMaxDelay(long maxDelay) {
    if (maxDelay < 0) {
      throw new IllegalArgumentException("maxDelay must not be negative, was " + maxDelay);
    }
    this.maxDelay = maxDelay;
    return this;
  }

  @Override
  public String toString() {
    return "BatchOptions" + toJson().encode();
  }
}
