package dev.singleflight;

import dev.singleflight.impl.JsonNumbers;
import io.vertx.codegen.annotations.DataObject;
import io.vertx.codegen.json.annotations.JsonGen;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Options of a {@link SingleFlightVerticle}, a Vert.x {@link DataObject}: every field has a {@code DEFAULT_*}
 * constant, the setters are fluent, and {@link #toJson()} round-trips through
 * {@link #SingleFlightOptions(JsonObject)}, so the options can come from a deployment's {@code config()}.
 * The JSON field of each option is its name: {@code address}, {@code allowedAddresses},
 * {@code maxFlightTime}, {@code cancelAbandoned}, {@code maxInFlight}, {@code maxWaiters},
 * {@code maxKeyLength}, {@code maxTimeout}, {@code workerPoolName}, {@code workerPoolSize},
 * {@code clustered}, {@code metricsRegistryName}, {@code traceKeys}, {@code hedgeAfter}, {@code maxHedges},
 * {@code copyResults}, {@code clusterRequestTimeout}.
 *
 * <p>The JSON converter, {@code SingleFlightOptionsConverter}, is generated at build time by vertx-codegen
 * from the getters and setters ({@link JsonGen}, package-private methods); it is not kept in the sources
 * but in {@code target/generated-sources/annotations}. It reads numbers with {@code intValue()}/{@code longValue()} and skips a value of the wrong type, so the
 * JSON constructor first checks every field itself: a value of the wrong JSON type, not a whole number
 * where one is expected, or out of its range fails with an {@link IllegalArgumentException} naming the
 * field and the value; nothing is truncated or ignored.
 */
@DataObject
@JsonGen(publicConverter = false)
public class SingleFlightOptions {

  /** The default event-bus address of the verticle: {@value}. */
  public static final String DEFAULT_ADDRESS = "singleflight.flight";
  /** By default JSON-protocol flights may name any downstream address: an empty list. */
  public static final List<String> DEFAULT_ALLOWED_ADDRESSES = List.of();
  /** By default a flight may run for ever: {@value} (off). */
  public static final long DEFAULT_MAX_FLIGHT_TIME = 0;
  /** By default a flight whose callers all left goes on and can still be joined: {@value}. */
  public static final boolean DEFAULT_CANCEL_ABANDONED = false;
  /** By default the number of keys in flight is unlimited: {@value}. */
  public static final int DEFAULT_MAX_IN_FLIGHT = 0;
  /** By default the number of callers of one key is unlimited: {@value}. */
  public static final int DEFAULT_MAX_WAITERS = 0;
  /** The default longest key, in chars: {@value}. */
  public static final int DEFAULT_MAX_KEY_LENGTH = 4096;
  /** The default cap of a JSON-protocol flight's downstream timeout, in milliseconds: {@value} (5 minutes). */
  public static final long DEFAULT_MAX_TIMEOUT = 300_000;
  /** The largest {@code maxTimeout} accepted, in milliseconds: {@value} (about 24.8 days). */
  public static final long MAX_TIMEOUT_LIMIT = Integer.MAX_VALUE;
  /** By default blocking functions run on the Vert.x worker pool: {@code null}, no dedicated pool. */
  public static final String DEFAULT_WORKER_POOL_NAME = null;
  /** The default size of a dedicated worker pool: {@value}, as Vert.x's own. */
  public static final int DEFAULT_WORKER_POOL_SIZE = VertxOptions.DEFAULT_WORKER_POOL_SIZE;
  /** By default the verticle collapses calls of its own node only, even on a clustered Vert.x: {@value}. */
  public static final boolean DEFAULT_CLUSTERED = false;
  /** The default name of the Micrometer registry the meters go to: {@value}, vertx-micrometer-metrics' default. */
  public static final String DEFAULT_METRICS_REGISTRY_NAME = "default";
  /** By default spans record a hash of each key, not the key: {@value}. */
  public static final boolean DEFAULT_TRACE_KEYS = false;
  /** By default flights are not hedged: {@value} (off). */
  public static final long DEFAULT_HEDGE_AFTER = 0;
  /** By default a hedged flight starts at most {@value} extra execution. */
  public static final int DEFAULT_MAX_HEDGES = 1;
  /** The largest {@code maxHedges} accepted: {@value}. */
  public static final int MAX_HEDGES_LIMIT = 100;
  /** By default every caller of a flight gets the very same result instance: {@value}. */
  public static final boolean DEFAULT_COPY_RESULTS = false;
  /** The default bound of each clustered exchange with a key's owner, in milliseconds: {@value}. */
  public static final long DEFAULT_CLUSTER_REQUEST_TIMEOUT = 10_000;
  /** The smallest {@code clusterRequestTimeout} accepted, in milliseconds: {@value}; nodes renew and ask again at fractions of it. */
  public static final long MIN_CLUSTER_REQUEST_TIMEOUT = 100;

  private String address;
  private List<String> allowedAddresses;
  private long maxFlightTime;
  private boolean cancelAbandoned;
  private int maxInFlight;
  private int maxWaiters;
  private int maxKeyLength;
  private long maxTimeout;
  private String workerPoolName;
  private int workerPoolSize;
  private boolean clustered;
  private String metricsRegistryName;
  private boolean traceKeys;
  private long hedgeAfter;
  private int maxHedges;
  private boolean copyResults;
  private long clusterRequestTimeout;

  /** Options with every field at its default. */
  public SingleFlightOptions() {
    address = DEFAULT_ADDRESS;
    allowedAddresses = DEFAULT_ALLOWED_ADDRESSES;
    maxFlightTime = DEFAULT_MAX_FLIGHT_TIME;
    cancelAbandoned = DEFAULT_CANCEL_ABANDONED;
    maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    maxWaiters = DEFAULT_MAX_WAITERS;
    maxKeyLength = DEFAULT_MAX_KEY_LENGTH;
    maxTimeout = DEFAULT_MAX_TIMEOUT;
    workerPoolName = DEFAULT_WORKER_POOL_NAME;
    workerPoolSize = DEFAULT_WORKER_POOL_SIZE;
    clustered = DEFAULT_CLUSTERED;
    metricsRegistryName = DEFAULT_METRICS_REGISTRY_NAME;
    traceKeys = DEFAULT_TRACE_KEYS;
    hedgeAfter = DEFAULT_HEDGE_AFTER;
    maxHedges = DEFAULT_MAX_HEDGES;
    copyResults = DEFAULT_COPY_RESULTS;
    clusterRequestTimeout = DEFAULT_CLUSTER_REQUEST_TIMEOUT;
  }

  /**
   * A copy of {@code other}.
   *
   * @param other the options to copy, not {@code null}
   */
  public SingleFlightOptions(SingleFlightOptions other) {
    address = other.address;
    allowedAddresses = other.allowedAddresses;
    maxFlightTime = other.maxFlightTime;
    cancelAbandoned = other.cancelAbandoned;
    maxInFlight = other.maxInFlight;
    maxWaiters = other.maxWaiters;
    maxKeyLength = other.maxKeyLength;
    maxTimeout = other.maxTimeout;
    workerPoolName = other.workerPoolName;
    workerPoolSize = other.workerPoolSize;
    clustered = other.clustered;
    metricsRegistryName = other.metricsRegistryName;
    traceKeys = other.traceKeys;
    hedgeAfter = other.hedgeAfter;
    maxHedges = other.maxHedges;
    copyResults = other.copyResults;
    clusterRequestTimeout = other.clusterRequestTimeout;
  }

  /**
   * Options read from JSON; an absent or {@code null} field keeps its default, an unknown one is ignored.
   *
   * @param json the fields as {@link #toJson()} writes them, not {@code null}
   * @throws IllegalArgumentException when a field has the wrong JSON type or an invalid value
   */
  public SingleFlightOptions(JsonObject json) {
    this();
    SingleFlightOptionsConverter.fromJson(checked(json), this);
  }

  /**
   * Checks, field by field, what the generated converter would take on trust: the JSON type, and for
   * numbers that they are whole and in the range of the setter (so that {@code intValue()} cannot wrap
   * 4294967297 to 1). The setters check the rest (an empty address, an invalid regular expression).
   *
   * @return {@code json}, whose every known field is {@code null} or valid
   * @throws IllegalArgumentException naming the first invalid field and its value
   */
  private static JsonObject checked(JsonObject json) {
    typed(json, "address", String.class);
    strings(json, "allowedAddresses");
    JsonNumbers.checkWhole(json, "maxFlightTime", 0, Long.MAX_VALUE);
    typed(json, "cancelAbandoned", Boolean.class);
    JsonNumbers.checkWhole(json, "maxInFlight", 0, Integer.MAX_VALUE);
    JsonNumbers.checkWhole(json, "maxWaiters", 0, Integer.MAX_VALUE);
    JsonNumbers.checkWhole(json, "maxKeyLength", 1, Integer.MAX_VALUE);
    JsonNumbers.checkWhole(json, "maxTimeout", 1, MAX_TIMEOUT_LIMIT);
    typed(json, "workerPoolName", String.class);
    JsonNumbers.checkWhole(json, "workerPoolSize", 1, Integer.MAX_VALUE);
    typed(json, "clustered", Boolean.class);
    typed(json, "metricsRegistryName", String.class);
    typed(json, "traceKeys", Boolean.class);
    JsonNumbers.checkWhole(json, "hedgeAfter", 0, Long.MAX_VALUE);
    JsonNumbers.checkWhole(json, "maxHedges", 1, MAX_HEDGES_LIMIT);
    typed(json, "copyResults", Boolean.class);
    JsonNumbers.checkWhole(json, "clusterRequestTimeout", MIN_CLUSTER_REQUEST_TIMEOUT, MAX_TIMEOUT_LIMIT);
    return json;
  }

  /** @throws IllegalArgumentException when the field is set to something other than a {@code type} */
  private static void typed(JsonObject json, String field, Class<?> type) {
    Object value = json.getValue(field);
    if (value != null && !type.isInstance(value)) {
      throw new IllegalArgumentException(field + " must be a " + type.getSimpleName() + ", was " + value);
    }
  }

  /** @throws IllegalArgumentException when the field is set to something other than an array of strings */
  private static void strings(JsonObject json, String field) {
    typed(json, field, JsonArray.class);
    JsonArray array = json.getJsonArray(field);
    if (array != null) {
      for (Object entry : array) {
        if (!(entry instanceof String)) {
          throw new IllegalArgumentException(field + " must hold strings, had " + entry);
        }
      }
    }
  }

  private static long notNegative(String field, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(field + " must not be negative, was " + value);
    }
    return value;
  }

  /** @return these options as JSON, one field per option ({@code workerPoolName} only when set) */
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    SingleFlightOptionsConverter.toJson(this, json);
    return json;
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

  /** @return the longest a flight may run, in milliseconds; 0 (the default) is no limit */
  public long getMaxFlightTime() {
    return maxFlightTime;
  }

  /**
   * Limits how long a flight may run. A flight still running after {@code maxFlightTime}
   * milliseconds fails all its callers with a {@link java.util.concurrent.TimeoutException} (504 in
   * the JSON protocol) and frees its key; the function's late result is dropped. The function itself
   * is not stopped.
   *
   * @param maxFlightTime milliseconds, 0 (the default) for no limit
   * @return this, for chaining
   * @throws IllegalArgumentException when negative
   */
  public SingleFlightOptions setMaxFlightTime(long maxFlightTime) {
    this.maxFlightTime = notNegative("maxFlightTime", maxFlightTime);
    return this;
  }

  /** @return whether a flight whose callers all left is cancelled; default {@value #DEFAULT_CANCEL_ABANDONED} */
  public boolean isCancelAbandoned() {
    return cancelAbandoned;
  }

  /**
   * When {@code true}, a flight whose callers have all left (their timeouts elapsed) is cancelled at
   * once: its key is freed, so the next caller starts a fresh execution and never joins the
   * cancelled one, and a blocking function's thread is interrupted. When {@code false} (the default)
   * the flight goes on and later callers join it.
   *
   * @param cancelAbandoned whether to cancel abandoned flights
   * @return this, for chaining
   */
  public SingleFlightOptions setCancelAbandoned(boolean cancelAbandoned) {
    this.cancelAbandoned = cancelAbandoned;
    return this;
  }

  /** @return the most flights running at once, forgotten ones included; 0 (the default) is unlimited */
  public int getMaxInFlight() {
    return maxInFlight;
  }

  /**
   * Limits the flights running at once: those of keys in flight, and those that were forgotten but
   * still run (so that forget-and-call cannot start executions without bound). A call that would
   * start one more flight fails at once with a {@link java.util.concurrent.RejectedExecutionException}
   * (503 in the JSON protocol); calls joining a running flight are not affected.
   *
   * @param maxInFlight flights, 0 (the default) for no limit
   * @return this, for chaining
   * @throws IllegalArgumentException when negative
   */
  public SingleFlightOptions setMaxInFlight(int maxInFlight) {
    this.maxInFlight = (int) notNegative("maxInFlight", maxInFlight);
    return this;
  }

  /** @return the most callers waiting for one key, the leader included; 0 (the default) is unlimited */
  public int getMaxWaiters() {
    return maxWaiters;
  }

  /**
   * Limits the callers waiting for one flight, its leader included. One more call for the key fails
   * at once with a {@link java.util.concurrent.RejectedExecutionException} (503 in the JSON protocol).
   *
   * @param maxWaiters callers, 0 (the default) for no limit
   * @return this, for chaining
   * @throws IllegalArgumentException when negative
   */
  public SingleFlightOptions setMaxWaiters(int maxWaiters) {
    this.maxWaiters = (int) notNegative("maxWaiters", maxWaiters);
    return this;
  }

  /** @return the longest key accepted, in chars; default {@value #DEFAULT_MAX_KEY_LENGTH} */
  public int getMaxKeyLength() {
    return maxKeyLength;
  }

  /**
   * Limits the length of keys. A call with a longer key fails with an
   * {@link IllegalArgumentException} (400 in the JSON protocol).
   *
   * @param maxKeyLength chars, at least 1; default {@value #DEFAULT_MAX_KEY_LENGTH}
   * @return this, for chaining
   * @throws IllegalArgumentException when less than 1
   */
  public SingleFlightOptions setMaxKeyLength(int maxKeyLength) {
    if (maxKeyLength < 1) {
      throw new IllegalArgumentException("maxKeyLength must be at least 1, was " + maxKeyLength);
    }
    this.maxKeyLength = maxKeyLength;
    return this;
  }

  /**
   * @return the longest downstream timeout a JSON-protocol flight may ask for, in milliseconds;
   * default {@value #DEFAULT_MAX_TIMEOUT}
   */
  public long getMaxTimeout() {
    return maxTimeout;
  }

  /**
   * Caps the downstream timeout of JSON-protocol flights: a request's {@code timeout} above it (up to
   * the largest JSON number) is taken as {@code maxTimeout}, and so is the 30 000 ms default when it
   * is larger. A requester cannot hold a flight and its key longer than this; clustered, the node that
   * forwards a JSON flight to its owner waits at most this plus 30 s.
   *
   * @param maxTimeout milliseconds, from 1 to {@value #MAX_TIMEOUT_LIMIT}; default {@value #DEFAULT_MAX_TIMEOUT}
   * @return this, for chaining
   * @throws IllegalArgumentException when out of that range
   */
  public SingleFlightOptions setMaxTimeout(long maxTimeout) {
    if (maxTimeout < 1 || maxTimeout > MAX_TIMEOUT_LIMIT) {
      throw new IllegalArgumentException("maxTimeout must be from 1 to " + MAX_TIMEOUT_LIMIT + " ms, was " + maxTimeout);
    }
    this.maxTimeout = maxTimeout;
    return this;
  }

  /** @return the name of the dedicated worker pool of blocking functions; {@code null} (the default) for none */
  public String getWorkerPoolName() {
    return workerPoolName;
  }

  /**
   * Runs blocking functions on a dedicated, named worker pool (a Vert.x shared worker executor of
   * {@link #getWorkerPoolSize()} threads, named after the pool) instead of the Vert.x worker pool, so
   * that a stampede of slow functions cannot starve the application's own blocking work.
   *
   * @param workerPoolName a non-empty name, or {@code null} (the default) for the Vert.x worker pool
   * @return this, for chaining
   * @throws IllegalArgumentException when empty
   */
  public SingleFlightOptions setWorkerPoolName(String workerPoolName) {
    if (workerPoolName != null && workerPoolName.isEmpty()) {
      throw new IllegalArgumentException("workerPoolName must not be empty");
    }
    this.workerPoolName = workerPoolName;
    return this;
  }

  /** @return the threads of the dedicated worker pool; default {@value #DEFAULT_WORKER_POOL_SIZE} */
  public int getWorkerPoolSize() {
    return workerPoolSize;
  }

  /**
   * Sets the threads of the dedicated worker pool; used only with {@link #setWorkerPoolName(String)}.
   *
   * @param workerPoolSize threads, at least 1; default {@value #DEFAULT_WORKER_POOL_SIZE}
   * @return this, for chaining
   * @throws IllegalArgumentException when less than 1
   */
  public SingleFlightOptions setWorkerPoolSize(int workerPoolSize) {
    if (workerPoolSize < 1) {
      throw new IllegalArgumentException("workerPoolSize must be at least 1, was " + workerPoolSize);
    }
    this.workerPoolSize = workerPoolSize;
    return this;
  }

  /** @return whether calls are collapsed across the cluster; default {@value #DEFAULT_CLUSTERED} */
  public boolean isClustered() {
    return clustered;
  }

  /**
   * Collapses calls across the whole cluster, when the Vert.x instance is clustered: each key has one
   * owner node (a rendezvous hash of the key over the members), JSON-protocol flights run on the
   * owner, and proxy flights run on one node that the owner grants the lead. Deploy the verticle at
   * the same address, with one instance, on every node. On a Vert.x that is not clustered the
   * option changes nothing. See the README for what crosses nodes and what happens when a node
   * leaves.
   *
   * @param clustered whether to collapse across the cluster; default {@value #DEFAULT_CLUSTERED}
   * @return this, for chaining
   */
  public SingleFlightOptions setClustered(boolean clustered) {
    this.clustered = clustered;
    return this;
  }

  /**
   * @return the name of the Micrometer registry the verticle's meters go to; default
   * {@value #DEFAULT_METRICS_REGISTRY_NAME}
   */
  public String getMetricsRegistryName() {
    return metricsRegistryName;
  }

  /**
   * Names the Micrometer registry the verticle's meters go to: the {@code registryName} of the
   * Vert.x instance's {@code MicrometerMetricsOptions}, which vertx-micrometer-metrics looks up with
   * {@code BackendRegistries.getNow(name)}. Set it when that name is not the default; with metrics on
   * and no registry of this name, the verticle registers no meter and logs a warning once.
   *
   * @param metricsRegistryName a non-empty name; default {@value #DEFAULT_METRICS_REGISTRY_NAME}
   * @return this, for chaining
   * @throws NullPointerException when {@code null}
   * @throws IllegalArgumentException when empty
   */
  public SingleFlightOptions setMetricsRegistryName(String metricsRegistryName) {
    Objects.requireNonNull(metricsRegistryName, "metricsRegistryName");
    if (metricsRegistryName.isEmpty()) {
      throw new IllegalArgumentException("metricsRegistryName must not be empty");
    }
    this.metricsRegistryName = metricsRegistryName;
    return this;
  }

  /** @return whether spans record each flight's key; default {@value #DEFAULT_TRACE_KEYS} */
  public boolean isTraceKeys() {
    return traceKeys;
  }

  /**
   * Decides what the verticle's spans say of a key, when the Vert.x instance traces with OpenTelemetry
   * (see the README's Tracing section). Keys may be sensitive ({@code session:<token>}): by default a
   * span records only {@code singleflight.key.hash}, the first 16 hexadecimal digits of the SHA-256 of
   * the key's UTF-8 bytes, the same on every node and in every run. With {@code true} it also records
   * the key itself, as {@code singleflight.key}. Without a tracer the option changes nothing.
   *
   * @param traceKeys whether spans record the key itself; default {@value #DEFAULT_TRACE_KEYS}
   * @return this, for chaining
   */
  public SingleFlightOptions setTraceKeys(boolean traceKeys) {
    this.traceKeys = traceKeys;
    return this;
  }

  /** @return how long a flight runs before it is hedged, in milliseconds; 0 (the default) is never */
  public long getHedgeAfter() {
    return hedgeAfter;
  }

  /**
   * Hedges slow flights: when a flight has run {@code hedgeAfter} milliseconds without an outcome,
   * another execution of the same function starts (for a JSON-protocol flight, another downstream
   * request), and again every {@code hedgeAfter} until {@link #getMaxHedges()} extra executions have
   * started. The first execution to succeed completes every caller and the others' outcomes are
   * dropped; the flight fails only once every execution started has failed, with the last failure.
   * An execution that failed before a hedge started is not retried: the flight fails at once.
   * Clustered, the node that leads a proxy flight hedges it, and the owner of a JSON flight's key.
   * Each hedge is one more execution for {@link #getMaxInFlight()}. With {@link #isCancelAbandoned()},
   * the blocking executions still running when another succeeded are interrupted.
   *
   * @param hedgeAfter milliseconds, 0 (the default) for no hedging
   * @return this, for chaining
   * @throws IllegalArgumentException when negative
   */
  public SingleFlightOptions setHedgeAfter(long hedgeAfter) {
    this.hedgeAfter = notNegative("hedgeAfter", hedgeAfter);
    return this;
  }

  /** @return the most extra executions a hedged flight starts; default {@value #DEFAULT_MAX_HEDGES} */
  public int getMaxHedges() {
    return maxHedges;
  }

  /**
   * Limits the extra executions of a hedged flight ({@link #setHedgeAfter(long)}); used only when
   * {@code hedgeAfter} is set.
   *
   * @param maxHedges extra executions per flight, from 1 to {@value #MAX_HEDGES_LIMIT}; default
   *                  {@value #DEFAULT_MAX_HEDGES}
   * @return this, for chaining
   * @throws IllegalArgumentException when out of that range
   */
  public SingleFlightOptions setMaxHedges(int maxHedges) {
    if (maxHedges < 1 || maxHedges > MAX_HEDGES_LIMIT) {
      throw new IllegalArgumentException("maxHedges must be from 1 to " + MAX_HEDGES_LIMIT + ", was " + maxHedges);
    }
    this.maxHedges = maxHedges;
    return this;
  }

  /**
   * @return whether the callers of a flight but its leader get their own copy of a mutable result;
   * default {@value #DEFAULT_COPY_RESULTS}
   */
  public boolean isCopyResults() {
    return copyResults;
  }

  /**
   * When {@code true}, every caller of a flight but the one that started it gets its own copy of a
   * {@link io.vertx.core.json.JsonObject}, {@link io.vertx.core.json.JsonArray} or
   * {@link io.vertx.core.buffer.Buffer} result, and of any {@link io.vertx.core.shareddata.Shareable}
   * through its {@code copy()}; other results are shared as they are. The copies are made on the
   * verticle's event loop, one per caller: see the README ("What callers share") for the cost.
   * When {@code false} (the default) every caller gets the very same instance.
   *
   * @param copyResults whether to copy mutable results for the callers that did not start the flight
   * @return this, for chaining
   */
  public SingleFlightOptions setCopyResults(boolean copyResults) {
    this.copyResults = copyResults;
    return this;
  }

  /**
   * @return how long a clustered node waits for any one answer of a key's owner, in milliseconds;
   * default {@value #DEFAULT_CLUSTER_REQUEST_TIMEOUT}
   */
  public long getClusterRequestTimeout() {
    return clusterRequestTimeout;
  }

  /**
   * Bounds every exchange of a clustered node with the owner of a key, and the owner's trust in a
   * leader. A node waiting on a flight at the owner asks again every half of it; when the owner does
   * not answer within it (frozen, cut off), the flight's callers on that node fail with a
   * {@link java.util.concurrent.TimeoutException} naming the owner (a leader keeps running and its own
   * callers still get its value). The leader of a flight tells the owner it still runs every third of
   * it; an owner that did not hear from a leader for this long takes the leader as lost and hands the
   * flight to a waiting node, which runs its function again. Used only with {@link #setClustered(boolean)}.
   *
   * @param clusterRequestTimeout milliseconds, from {@value #MIN_CLUSTER_REQUEST_TIMEOUT} to {@value #MAX_TIMEOUT_LIMIT}; default
   * {@value #DEFAULT_CLUSTER_REQUEST_TIMEOUT}
   * @return this, for chaining
   * @throws IllegalArgumentException when out of that range
   */
  public SingleFlightOptions setClusterRequestTimeout(long clusterRequestTimeout) {
    if (clusterRequestTimeout < MIN_CLUSTER_REQUEST_TIMEOUT || clusterRequestTimeout > MAX_TIMEOUT_LIMIT) {
      throw new IllegalArgumentException("clusterRequestTimeout must be from " + MIN_CLUSTER_REQUEST_TIMEOUT + " to "
        + MAX_TIMEOUT_LIMIT + " ms, was " + clusterRequestTimeout);
    }
    this.clusterRequestTimeout = clusterRequestTimeout;
    return this;
  }

  @Override
  public String toString() {
    return "SingleFlightOptions" + toJson().encode();
  }
}
