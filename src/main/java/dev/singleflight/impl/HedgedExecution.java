package dev.singleflight.impl;

import dev.singleflight.impl.metrics.FlightMetrics;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.List;

/**
 * An {@link Execution} hedged against a slow run: when the flight has run {@code hedgeAfter} ms
 * without an outcome, the same execution starts again, and again every {@code hedgeAfter} ms, at most
 * {@code maxHedges} extra times. The first success is the flight's outcome; a failure is, only once
 * every execution started has failed (the last failure wins). Outcomes after that are dropped. When
 * one succeeds, the blocking executions still running are interrupted if the flight can interrupt
 * them (cancelAbandoned). A hedge that maxInFlight refuses is not started; a flight whose callers all
 * left is cancelled with all its executions (cancelAbandoned).
 *
 * <p>Started once per flight ({@link Execution}); only touched on the verticle's event loop, where the
 * outcomes of its executions, completed on any thread, are brought back.
 */
final class HedgedExecution implements Execution {

  /** Dropped once the outcome is decided: a proxy call holds its caller, whom a loser still running must not keep. */
  private Execution execution;
  private final long hedgeAfter;
  private final int maxHedges;
  // Made when started: a decorator that only joins a running flight costs two references.
  private Promise<Object> outcome;
  private FlightMap flights;
  private Flight flight;
  /** Per execution started, the first at 0: what interrupts it while it runs, else {@code null}. */
  private List<Runnable> interrupters;
  /** Executions started whose outcome has not arrived. */
  private int running;
  /** Hedges tried: started, or refused by maxInFlight. */
  private int tried;
  /** Executions counted in {@link FlightMap#extraExecutions(int)} by this flight. */
  private int counted;
  /** The timer of the next hedge, or -1. */
  private long timer = -1;
  /** Whether the flight's outcome is decided, by this or by the flight ending otherwise. */
  private boolean settled;

  HedgedExecution(Execution execution, long hedgeAfter, int maxHedges) {
    this.execution = execution;
    this.hedgeAfter = hedgeAfter;
    this.maxHedges = maxHedges;
  }

  @Override
  public Future<Object> start(FlightMap flights, Flight flight) {
    this.flights = flights;
    this.flight = flight;
    outcome = Promise.promise();
    interrupters = new ArrayList<>(2);
    launch();
    arm();
    return outcome.future();
  }

  /** Starts one more execution; what it throws is its outcome. */
  private void launch() {
    // A blocking execution leaves what interrupts it in the flight: each one's is kept here, and the
    // flight's cancel interrupts them all.
    flight.interrupter = null;
    Future<Object> run;
    try {
      run = execution.start(flights, flight);
    } catch (Throwable t) {
      run = Future.failedFuture(t);
    }
    int index = interrupters.size();
    interrupters.add(flight.interrupter);
    flight.interrupter = this::cancelled;
    running++;
    recount();
    run.onComplete(ar -> flights.onEventLoop(() -> ended(index, ar)));
  }

  private void arm() {
    if (!settled && tried < maxHedges) {
      timer = flights.vertx().setTimer(hedgeAfter, id -> hedge());
    }
  }

  private void hedge() {
    timer = -1;
    if (settled) {
      return;
    }
    if (flight.isDone()) {
      abandon();
      return;
    }
    tried++;
    if (flights.mayStartExecution()) {
      launch();
    }
    arm();
  }

  private void ended(int index, AsyncResult<Object> result) {
    running--;
    interrupters.set(index, null);
    if (!settled && flight.isDone()) {
      abandon();
    }
    if (settled) {
      recount();
      return;
    }
    if (result.succeeded()) {
      settle(index, result);
      interruptRunning();
    } else if (running == 0) {
      settle(-1, result);
    }
  }

  /** Decides the flight's outcome: the execution {@code winner} succeeded, or none did (-1). */
  private void settle(int winner, AsyncResult<Object> result) {
    settled = true;
    execution = null;
    cancelTimer();
    count(winner);
    recount();
    outcome.handle(result);
  }

  /** The flight ended otherwise (timed out, cancelled, closed): the hedges started lost. */
  private void abandon() {
    settled = true;
    execution = null;
    cancelTimer();
    count(-1);
    recount();
  }

  /** Counts every hedge started as won (the execution {@code winner}) or lost. */
  private void count(int winner) {
    FlightMetrics metrics = flights.metrics();
    if (metrics != null) {
      for (int hedge = 1; hedge < interrupters.size(); hedge++) {
        metrics.hedge(hedge == winner);
      }
    }
  }

  /**
   * Keeps maxInFlight's count of executions: until the flight's outcome is decided, the flight map
   * counts the flight as one execution and this the others running. After, none counts: like the
   * function of a flight that timed out, an execution that lost and still runs is no longer counted.
   * (A flight ended by maxFlightTime stops counting its hedges when the next of their outcomes
   * arrives or its hedge timer fires.)
   */
  private void recount() {
    int extra = settled ? 0 : Math.max(0, running - 1);
    flights.extraExecutions(extra - counted);
    counted = extra;
  }

  /** The flight was cancelled, its callers all gone: its executions are interrupted, its hedges lost. */
  private void cancelled() {
    interruptRunning();
    if (!settled) {
      abandon();
    }
  }

  private void interruptRunning() {
    for (Runnable interrupter : interrupters) {
      if (interrupter != null) {
        interrupter.run();
      }
    }
  }

  private void cancelTimer() {
    if (timer != -1) {
      flights.vertx().cancelTimer(timer);
      timer = -1;
    }
  }
}
