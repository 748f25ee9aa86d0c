package dev.singleflight.impl;

import io.vertx.core.AsyncResult;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One execution in flight for a key, and the callers waiting for it.
 *
 * <p>Only touched on the verticle's event loop. Each caller is its promise; the flight completes
 * every promise with the same result or failure, once. Callers with a timeout are also kept in
 * deadline order, served by one timer per flight set for the earliest deadline, not one per caller.
 */
final class Flight {

  final String key;
  /** Null when metrics are off. */
  private final FlightMetrics metrics;
  /** {@link System#nanoTime()} at start, kept only for metrics. */
  final long startNanos;
  private final ArrayList<Promise<Object>> waiters = new ArrayList<>(4);
  /** Callers still waiting: the waiters less those whose timeout elapsed. */
  private int waiting;
  private PriorityQueue<TimedWaiter> deadlines;
  private long timerId = -1;
  private long timerDeadline;
  private boolean done;

  Flight(String key, FlightMetrics metrics) {
    this.key = key;
    this.metrics = metrics;
    this.startNanos = metrics != null ? System.nanoTime() : 0L;
  }

  /** A caller that gives up at {@link #deadline}, a {@link System#nanoTime()}. */
  private record TimedWaiter(Promise<Object> promise, long deadline) {
  }

  /**
   * Adds a caller.
   *
   * @param timed whether the caller gives up at {@code deadline}, a {@link System#nanoTime()}; if it
   *              is the earliest deadline, the flight's timer is set for it
   */
  void join(Promise<Object> waiter, boolean timed, long deadline, Vertx vertx) {
    waiters.add(waiter);
    waiting++;
    if (timed) {
      if (deadlines == null) {
        deadlines = new PriorityQueue<>((a, b) -> Long.compare(a.deadline - b.deadline, 0));
      }
      deadlines.add(new TimedWaiter(waiter, deadline));
      if (timerId == -1 || deadline - timerDeadline < 0) {
        arm(deadline, vertx);
      }
    }
  }

  /** @return the callers still waiting */
  int waiting() {
    return waiting;
  }

  boolean isDone() {
    return done;
  }

  /**
   * Completes every caller with {@code outcome}; later calls do nothing.
   *
   * @return the callers that were still waiting
   */
  int complete(AsyncResult<Object> outcome, Vertx vertx) {
    if (done) {
      return 0;
    }
    done = true;
    if (timerId != -1) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
    int served = waiting;
    waiting = 0;
    if (outcome.succeeded()) {
      Object value = outcome.result();
      for (Promise<Object> waiter : waiters) {
        waiter.tryComplete(value);
      }
    } else {
      Throwable cause = outcome.cause();
      for (Promise<Object> waiter : waiters) {
        waiter.tryFail(cause);
      }
    }
    return served;
  }

  private void arm(long deadline, Vertx vertx) {
    if (timerId != -1) {
      vertx.cancelTimer(timerId);
    }
    timerDeadline = deadline;
    long delayMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime() + 999_999));
    timerId = vertx.setTimer(delayMillis, id -> expire(vertx));
  }

  /** Fails the callers whose deadline has passed, then re-arms for the next one. */
  private void expire(Vertx vertx) {
    timerId = -1;
    if (done) {
      return;
    }
    long now = System.nanoTime();
    TimedWaiter next;
    while ((next = deadlines.peek()) != null && next.deadline - now <= 0) {
      deadlines.poll();
      if (next.promise.tryFail(timeout())) {
        waiting--;
        if (metrics != null) {
          metrics.waiterLeft();
        }
      }
    }
    if (next != null) {
      arm(next.deadline, vertx);
    }
  }

  private TimeoutException timeout() {
    return new TimeoutException("single-flight call for key '" + key + "' timed out; the flight goes on for other callers");
  }
}
