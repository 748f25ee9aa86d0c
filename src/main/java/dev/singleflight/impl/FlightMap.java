package dev.singleflight.impl;

import dev.singleflight.KeyTooLongException;
import dev.singleflight.SingleFlightOptions;
import dev.singleflight.VerticleStoppedException;
import dev.singleflight.impl.metrics.FlightMetrics;
import dev.singleflight.impl.tracing.FlightTracing;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.internal.ContextInternal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The verticle's map of flights: key to the one {@link Flight} running for it, and the limits of
 * {@link SingleFlightOptions} applied to calls joining it. Every way in (a proxy call, a JSON
 * request, a node of the cluster) ends in {@link #join}.
 *
 * <p>Only touched on the verticle's event loop ({@link #context}): no locks. The outcome of a flight's
 * {@link Execution} may complete on any thread; it is brought back to the event loop before the map is
 * touched.
 */
public final class FlightMap {

  /** Vert.x's internal context API: {@code inThread()} and the executor of blocking functions, ordered or not. */
  private final ContextInternal context;
  private final SingleFlightOptions options;
  /** Null when metrics are off. */
  private final FlightMetrics metrics;
  /** Null when the Vert.x instance does not trace with OpenTelemetry. */
  private final FlightTracing tracing;
  /** The dedicated pool of blocking functions, or {@code null} for the context's worker pool. */
  private final WorkerExecutor workers;
  private final Map<String, Flight> flights = new HashMap<>();
  /** Flights still running after a forget took their key: their callers wait for them too. */
  private final Set<Flight> forgotten = new HashSet<>();
  private boolean closed;
  /** Executions running beyond each flight's first: hedges ({@link HedgedExecution}), counted by maxInFlight. */
  private int extraExecutions;
  /**
   * {@link System#nanoTime()} of the first {@link #running()}, from which flights record their start
   * even without metrics; 0 before it.
   */
  private long timedSince;
  /** True while a flight's work is being started, to tell an outcome that is already there. */
  private boolean starting;

  public FlightMap(ContextInternal context, SingleFlightOptions options, FlightMetrics metrics, WorkerExecutor workers) {
    this.context = context;
    this.options = options;
    this.metrics = metrics;
    this.workers = workers;
    this.tracing = FlightTracing.create(context, options.getAddress(), options.isTraceKeys());
  }

  /**
   * Adds {@code waiter} to the flight of {@code key}, starting {@code execution} when the key is free.
   * The waiter fails at once when the verticle is closed ({@link VerticleStoppedException}), the key
   * is too long ({@link KeyTooLongException}) or a limit is reached
   * ({@link RejectedExecutionException}).
   *
   * @param timed whether the waiter gives up at {@code deadline}, a {@link System#nanoTime()}
   */
  public void join(String key, Promise<Object> waiter, boolean timed, long deadline, Execution execution) {
    assert context.inThread() : "the flight map of '" + options.getAddress() + "' touched off its event loop";
    if (closed) {
      waiter.tryFail(stopped());
      return;
    }
    if (key.length() > options.getMaxKeyLength()) {
      waiter.tryFail(new KeyTooLongException(key.length(), options.getMaxKeyLength()));
      return;
    }
    Flight flight = flights.get(key);
    if (flight != null) {
      if (options.getMaxWaiters() > 0 && flight.waiting() >= options.getMaxWaiters()) {
        waiter.tryFail(new RejectedExecutionException(
          "key '" + key + "' already has " + flight.waiting() + " waiting callers, the most maxWaiters allows"));
        return;
      }
      if (metrics != null) {
        metrics.follower();
      }
      if (flight.span != null) {
        flight.span.joined(waiter);
      }
      flight.addWaiter(waiter, timed, deadline);
      return;
    }
    // Forgotten flights still run: they count, or forget-and-call would run without bound.
    int running = flights.size() + forgotten.size() + extraExecutions;
    if (options.getMaxInFlight() > 0 && running >= options.getMaxInFlight()) {
      waiter.tryFail(new RejectedExecutionException(running + " flights are running (" + forgotten.size()
        + " of them forgotten, " + extraExecutions + " of them hedges), the most maxInFlight allows; key '" + key + "' was refused"));
      return;
    }
    if (metrics != null) {
      metrics.leader();
    }
    Flight started = new Flight(key, this, metrics != null || timedSince != 0);
    if (tracing != null) {
      started.span = tracing.executionStarted(key);
    }
    flights.put(key, started);
    started.addWaiter(waiter, timed, deadline);
    if (options.getMaxFlightTime() > 0) {
      started.flightTimer = context.owner().setTimer(options.getMaxFlightTime(), id -> {
        started.flightTimer = -1;
        started.abandon();
        end(started, Future.failedFuture(new TimeoutException("the flight of key '" + key + "' ran longer than maxFlightTime, "
          + options.getMaxFlightTime() + " ms")));
      });
    }
    // Saved and restored: an async function may call into this map (another key) while it starts.
    boolean outerStarting = starting;
    starting = true;
    try {
      start(execution, started).onComplete(outcome -> {
        if (starting || !context.inThread()) {
          // Ends in a task of its own, after the calls already queued: they were made before the
          // outcome arrived, so they join this flight rather than start another.
          context.runOnContext(v -> end(started, outcome));
        } else {
          end(started, outcome);
        }
      });
    } finally {
      starting = outerStarting;
    }
  }

  /**
   * Starts {@code execution}: whatever it throws (a downstream body without a codec, say) is its
   * outcome, so that the flight, already in the map, ends and frees its key.
   */
  private Future<Object> start(Execution execution, Flight flight) {
    try {
      return flight.span == null ? execution.start(this, flight) : flight.span.within(() -> execution.start(this, flight));
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }

  /**
   * @return {@code execution} hedged by {@link HedgedExecution} when the options set {@code hedgeAfter},
   * else {@code execution} itself
   */
  public Execution hedged(Execution execution) {
    return options.getHedgeAfter() > 0
      ? new HedgedExecution(execution, options.getHedgeAfter(), options.getMaxHedges())
      : execution;
  }

  /** @return the keys in flight now, forgotten flights excluded; a copy */
  public Set<String> inFlight() {
    assert context.inThread() : "the flight map of '" + options.getAddress() + "' touched off its event loop";
    return new HashSet<>(flights.keySet());
  }

  /** Forgets the flight of {@code key}: its waiters keep it, the next call starts a new one. */
  public void forget(String key) {
    assert context.inThread() : "the flight map of '" + options.getAddress() + "' touched off its event loop";
    if (metrics != null) {
      metrics.forget();
    }
    Flight flight = flights.remove(key);
    if (flight != null) {
      forgotten.add(flight);
    }
  }

  /**
   * Runs a blocking function on a worker thread: unordered, so that keys run in parallel. With
   * cancelAbandoned, the flight can interrupt it.
   */
  public Future<Object> executeBlocking(Flight flight, Callable<Object> fn) {
    Callable<Object> task = fn;
    if (options.isCancelAbandoned()) {
      InterruptibleCall call = new InterruptibleCall(fn);
      flight.interrupter = call::interrupt;
      task = call;
    }
    return executeBlocking(task);
  }

  /** Runs a blocking task on a worker thread (the dedicated pool, if any), unordered. */
  Future<Object> executeBlocking(Callable<Object> task) {
    if (workers != null) {
      return workers.executeBlocking(task, false);
    }
    // Traced, on the current context: the duplicate whose current span is the execution's.
    return (tracing == null ? context : ContextInternal.current()).executeBlocking(task, false);
  }

  /** @return the spans of this verticle instance, or {@code null} when it is not traced */
  public FlightTracing tracing() {
    return tracing;
  }

  /**
   * The flights running now, and how long the oldest has run.
   *
   * @param count flights running now, forgotten ones still running included
   * @param oldestStartNanos the {@link System#nanoTime()} at which the oldest of them started; meaningful
   *                         only when {@code count} is not 0
   */
  public record Running(int count, long oldestStartNanos) {
  }

  /**
   * @return the flights running now. From the first call on, every flight records its start; a flight
   * that started before it without metrics counts as started at the first call
   */
  public Running running() {
    assert context.inThread() : "the flight map of '" + options.getAddress() + "' touched off its event loop";
    if (timedSince == 0) {
      timedSince = System.nanoTime();
    }
    int count = 0;
    long oldest = 0;
    List<Flight> running = new ArrayList<>(flights.values());
    running.addAll(forgotten);
    for (Flight flight : running) {
      long start = flight.startNanos != 0 ? flight.startNanos : timedSince;
      oldest = count++ == 0 || start - oldest < 0 ? start : oldest;
    }
    return new Running(count, oldest);
  }

  /** @return whether a flight of {@code key} runs, one that a call would join */
  public boolean isRunning(String key) {
    return flights.containsKey(key);
  }

  /** @return whether {@link #close()} was called */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Fails every waiting caller with {@link #stopped()}; calls joining afterwards fail the same way.
   * Results of work still running are dropped.
   */
  public void close() {
    closed = true;
    VerticleStoppedException stopped = stopped();
    List<Flight> running = new ArrayList<>(flights.values());
    running.addAll(forgotten);
    flights.clear();
    forgotten.clear();
    for (Flight flight : running) {
      if (metrics != null) {
        metrics.flightDropped(flight.waiting());
      }
      flight.abandon();
      flight.complete(Future.failedFuture(stopped));
    }
    if (metrics != null) {
      metrics.close();
    }
  }

  /** @return the failure of a caller whose verticle is gone */
  public VerticleStoppedException stopped() {
    return new VerticleStoppedException("the SingleFlightVerticle at '" + options.getAddress() + "' was undeployed");
  }

  Vertx vertx() {
    return context.owner();
  }

  /** @return null when metrics are off */
  FlightMetrics metrics() {
    return metrics;
  }

  boolean copyResults() {
    return options.isCopyResults();
  }

  /** Runs {@code task} on the event loop: now when already there, else in a task of its own. */
  void onEventLoop(Runnable task) {
    if (context.inThread()) {
      task.run();
    } else {
      context.runOnContext(v -> task.run());
    }
  }

  /** @return whether maxInFlight lets one more execution start */
  boolean mayStartExecution() {
    return options.getMaxInFlight() == 0 || flights.size() + forgotten.size() + extraExecutions < options.getMaxInFlight();
  }

  /** Counts executions started ({@code delta} > 0) or ended beyond their flights' first one. */
  void extraExecutions(int delta) {
    extraExecutions += delta;
  }

  /** A caller of {@code flight} left (its timeout elapsed); with cancelAbandoned the last one cancels it. */
  void waiterLeft(Flight flight) {
    if (metrics != null) {
      metrics.waiterLeft();
    }
    if (flight.waiting() == 0 && options.isCancelAbandoned()) {
      if (!flights.remove(flight.key, flight)) {
        forgotten.remove(flight);
      }
      flight.cancel();
      if (metrics != null) {
        metrics.flightDropped(0);
      }
    }
  }

  /**
   * Ends {@code flight} with {@code outcome}: frees the key, unless a forget already replaced this
   * flight with a newer one (Go's golang/go#31420), and serves every caller. A flight that already
   * ended (cancelled, timed out, or closed) drops the late outcome.
   */
  private void end(Flight flight, AsyncResult<Object> outcome) {
    if (flight.isDone()) {
      return;
    }
    if (!flights.remove(flight.key, flight)) {
      forgotten.remove(flight);
    }
    if (metrics != null) {
      // Counted before the callers hear of it, so that a caller reads meters that include its flight.
      metrics.executionEnded(flight.startNanos, outcome.succeeded(), flight.waiting());
    }
    flight.complete(outcome);
  }
}
