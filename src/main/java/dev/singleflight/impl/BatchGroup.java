package dev.singleflight.impl;

import dev.singleflight.BatchLoader;
import dev.singleflight.BlockingBatchLoader;
import dev.singleflight.impl.metrics.FlightMetrics;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The batches of one verticle instance: for each batch name, the open batch that gathers the keys
 * whose flights start, and the loader calls under way.
 *
 * <p>A key of a batch is a flight of the instance's {@link FlightMap} like any other: the map decides
 * whether a call joins its key's flight or starts it (limits included), and only a call that starts
 * one reaches this group, through the {@link Execution} of {@link #member}. The execution puts the
 * key in the open batch of its name and returns the key's outcome, completed when the batch is
 * loaded. So a key is loaded once per flight whoever asks for it, and a batch is one loader call
 * that ends many flights.
 *
 * <p>Only touched on the verticle's event loop ({@link #context}). A loader's outcome, which may
 * complete on any thread, is brought back there in one task per batch, after the calls already
 * queued (they join the flights rather than start new ones).
 */
public final class BatchGroup {

  /**
   * What the batches of a name load with and when, fixed when a {@code Batch} is made.
   *
   * @param loader the asynchronous loader, or {@code null} when {@code blockingLoader} is given
   * @param blockingLoader the blocking loader, or {@code null}
   * @param maxDelay milliseconds; 0 is the end of the event-loop turn
   * @param downstream whether this is a JSON-protocol batch, named by its downstream address: such
   *                   batches are kept apart from the batches that proxies name
   */
  public record Definition(String name, BatchLoader<?> loader, BlockingBatchLoader<?> blockingLoader,
                           int maxBatchSize, long maxDelay, boolean downstream) {
  }

  private final Context context;
  private final FlightMap flights;
  /** Null when metrics are off. */
  private final FlightMetrics metrics;
  private final boolean cancelAbandoned;
  /** The open batch of each name, gathering keys; a batch leaves when it is loaded. */
  private final Map<String, Load> open = new HashMap<>();
  /** The open batches of JSON-protocol requests, by downstream address. */
  private final Map<String, Load> openDownstream = new HashMap<>();

  /**
   * @param context the verticle's context
   * @param cancelAbandoned whether a blocking load whose every key was abandoned is interrupted
   */
  public BatchGroup(Context context, FlightMap flights, FlightMetrics metrics, boolean cancelAbandoned) {
    this.context = context;
    this.flights = flights;
    this.metrics = metrics;
    this.cancelAbandoned = cancelAbandoned;
  }

  /** @return the execution of {@code key}'s flight when a call of {@code definition} starts it */
  public Execution member(String key, Definition definition) {
    return new Member(key, definition);
  }

  /**
   * A key's place in a batch, as its flight's execution. Started again (a hedge, where a verticle
   * hedges every execution it is given), it gives the same outcome: a key of a batch is loaded by its
   * batch, once.
   */
  private final class Member implements Execution {
    private final String key;
    private final Definition definition;
    private Future<Object> outcome;

    Member(String key, Definition definition) {
      this.key = key;
      this.definition = definition;
    }

    @Override
    public Future<Object> start(FlightMap flights, Flight flight) {
      if (outcome == null) {
        outcome = add(definition, key, flight);
      }
      return outcome;
    }
  }

  /** Puts {@code key} in the open batch of its name, opening one if there is none. */
  private Future<Object> add(Definition definition, String key, Flight flight) {
    Map<String, Load> byName = definition.downstream() ? openDownstream : open;
    Load load = byName.get(definition.name());
    boolean opening = load == null;
    if (opening) {
      load = new Load(definition);
      byName.put(definition.name(), load);
    }
    Promise<Object> outcome = Promise.promise();
    load.add(key, outcome);
    if (cancelAbandoned) {
      Load joined = load;
      flight.interrupter = () -> abandoned(joined, outcome);
    }
    if (load.size == definition.maxBatchSize()) {
      dispatch(load);
    } else if (opening) {
      schedule(load);
    }
    return outcome.future();
  }

  /** Loads a batch that just opened once its maxDelay has passed, unless it fills up first. */
  private void schedule(Load load) {
    if (load.definition.maxDelay() == 0) {
      // Queued behind the calls already queued for this event loop: they come in first.
      context.runOnContext(v -> dispatch(load));
    } else {
      load.timer = context.owner().setTimer(load.definition.maxDelay(), id -> {
        load.timer = -1;
        dispatch(load);
      });
    }
  }

  /**
   * Every caller of the key of {@code outcome} left, with cancelAbandoned (its flight is already
   * cancelled and out of the map): an open batch drops the key; a batch being loaded goes on while
   * other keys still have callers, and its blocking loader is interrupted once none has.
   */
  private void abandoned(Load load, Promise<Object> outcome) {
    if (!load.dispatched) {
      load.remove(outcome);
      if (load.size == 0) {
        close(load);
      }
    } else if (++load.abandoned == load.size && load.interrupter != null) {
      load.interrupter.interrupt();
    }
  }

  /** Takes an open batch out of its map and stops its timer: no key joins it any more. */
  private void close(Load load) {
    load.dispatched = true;
    if (load.timer != -1) {
      context.owner().cancelTimer(load.timer);
      load.timer = -1;
    }
    (load.definition.downstream() ? openDownstream : open).remove(load.definition.name(), load);
  }

  /**
   * Loads a batch: one loader call for its keys. Whatever the loader does (throws, returns
   * {@code null}) ends the batch's flights. Does nothing for a batch already loaded, and loads nothing
   * once the verticle is closed (its callers were failed then).
   */
  private void dispatch(Load load) {
    if (load.dispatched) {
      return;
    }
    close(load);
    if (load.size == 0 || flights.isClosed()) {
      return;
    }
    load.startNanos = metrics != null ? System.nanoTime() : 0L;
    Future<?> loaded;
    try {
      loaded = start(load, keysOf(load));
    } catch (Throwable t) {
      loaded = Future.failedFuture(t);
    }
    if (loaded == null) {
      loaded = Future.failedFuture(new NullPointerException(
        "the batch loader of '" + load.definition.name() + "' returned null instead of a Future"));
    }
    loaded.onComplete(outcome -> context.runOnContext(v -> settle(load, outcome)));
  }

  /**
   * @return the distinct keys of a batch, immutable: an array of twice their number, where a
   * {@code HashSet} would hold an entry object per key while the batch loads
   */
  private static Set<String> keysOf(Load load) {
    String[] keys = Arrays.copyOf(load.keys, load.size);
    try {
      return Set.of(keys);
    } catch (IllegalArgumentException forgottenAndAskedAgain) {
      return Set.copyOf(Arrays.asList(keys));
    }
  }

  private Future<?> start(Load load, Set<String> keys) {
    Definition definition = load.definition;
    if (definition.loader() != null) {
      return definition.loader().load(keys);
    }
    BlockingBatchLoader<?> blocking = definition.blockingLoader();
    Callable<Object> task = () -> blocking.load(keys);
    if (cancelAbandoned) {
      InterruptibleCall interruptible = new InterruptibleCall(task);
      load.interrupter = interruptible;
      task = interruptible;
    }
    return flights.executeBlocking(task);
  }

  /**
   * Ends the flights of a loaded batch: each key gets its value from the map ({@code null} when it is
   * missing), or every key the batch's failure. Counted before the callers hear of it.
   */
  private void settle(Load load, AsyncResult<?> outcome) {
    Throwable failure = outcome.failed() ? outcome.cause() : null;
    Map<?, ?> values = null;
    if (failure == null) {
      if (outcome.result() instanceof Map<?, ?> map) {
        values = map;
      } else {
        failure = new NullPointerException("the batch loader of '" + load.definition.name() + "' returned "
          + (outcome.result() == null ? "a null map" : "a " + outcome.result().getClass().getName() + ", not a map"));
      }
    }
    if (metrics != null) {
      metrics.batchEnded(load.definition.name(), load.startNanos, failure == null, load.size);
    }
    for (int i = 0; i < load.size; i++) {
      Promise<Object> key = load.outcomes[i];
      if (failure != null) {
        key.tryFail(failure);
        continue;
      }
      Object value;
      try {
        value = values.get(load.keys[i]);
      } catch (RuntimeException unreadable) {
        key.tryFail(unreadable);
        continue;
      }
      key.tryComplete(value);
    }
  }

  /**
   * One batch: open while it gathers keys, then one loader call. Its keys and their outcomes are kept
   * side by side in two arrays (a key forgotten and asked again before the load is there twice, and
   * loaded once).
   */
  private static final class Load {
    final Definition definition;
    String[] keys;
    @SuppressWarnings("unchecked")
    Promise<Object>[] outcomes;
    int size;
    /** The timer of maxDelay, or -1. */
    long timer = -1;
    /** Set once the batch stopped taking keys: loaded, or closed with no key left. */
    boolean dispatched;
    /** Keys whose every caller left during the load. */
    int abandoned;
    /** Interrupts the blocking loader, with cancelAbandoned; else {@code null}. */
    InterruptibleCall interrupter;
    long startNanos;

    @SuppressWarnings("unchecked")
    Load(Definition definition) {
      this.definition = definition;
      int capacity = Math.min(definition.maxBatchSize(), 16);
      keys = new String[capacity];
      outcomes = new Promise[capacity];
    }

    void add(String key, Promise<Object> outcome) {
      if (size == keys.length) {
        int capacity = (int) Math.min((long) definition.maxBatchSize(), 2L * size);
        keys = Arrays.copyOf(keys, capacity);
        outcomes = Arrays.copyOf(outcomes, capacity);
      }
      keys[size] = key;
      outcomes[size] = outcome;
      size++;
    }

    void remove(Promise<Object> outcome) {
      for (int i = 0; i < size; i++) {
        if (outcomes[i] == outcome) {
          System.arraycopy(keys, i + 1, keys, i, size - i - 1);
          System.arraycopy(outcomes, i + 1, outcomes, i, size - i - 1);
          size--;
          keys[size] = null;
          outcomes[size] = null;
          return;
        }
      }
    }
  }
}
