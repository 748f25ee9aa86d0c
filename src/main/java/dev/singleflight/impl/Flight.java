package dev.singleflight.impl;

import dev.singleflight.CallerTimeoutException;
import dev.singleflight.impl.tracing.FlightTracing;
import io.vertx.core.AsyncResult;
import io.vertx.core.Promise;

import io.netty.channel.EventLoop;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.shareddata.Shareable;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;

/**
 * One execution in flight for a key, and the callers waiting for it.
 *
 * <p>Only touched on the verticle's event loop. Each caller is its promise; the flight completes
 * every promise with the same result or failure, once, each in isolation: a caller whose handler
 * throws does not keep the others from theirs. Callers without a timeout are kept in a list; callers
 * with one only in deadline order, served by one timer per flight set for the earliest deadline, not
 * one per caller, and dropped when their timeout elapses: a caller that left costs nothing once
 * answered, the flight holds exactly the callers still waiting, and {@code maxWaiters} bounds memory,
 * not only a count. Once the flight ends it holds no caller.
 *
 * <p>The first caller is the flight's leader. With {@code copyResults}, every caller but the leader
 * gets its own copy of a {@link Shareable} result, all made here, on the verticle's event loop, before
 * any caller is served (callers on other event loops could otherwise copy what the leader changes); a
 * {@link ResultWaiter} also hears whether the outcome was shared (more than one caller served) and
 * whether it led.
 */
public final class Flight {

  final String key;
  private final FlightMap owner;
  /**
   * {@link System#nanoTime()} at start, for metrics and the age that the health check reports; 0 when
   * neither measures (no clock read on the hot path).
   */
  final long startNanos;
  /** The callers without a timeout. */
  private final ArrayList<Promise<Object>> waiters = new ArrayList<>(4);
  /** The callers with a timeout still waiting, earliest deadline first; {@code null} until the first. */
  private PriorityQueue<TimedWaiter> deadlines;
  /** Callers still waiting: the waiters and the deadlines. */
  private int waiting;
  /** The timer of the earliest caller timeout ({@link #timeoutTimerDue}), or -1. */
  private long timeoutTimer = -1;
  private long timeoutTimerDue;
  /** The timer of maxFlightTime, or -1. */
  long flightTimer = -1;
  /** The execution's span, or {@code null} when the verticle is not traced. */
  FlightTracing.ExecutionSpan span;
  /** Interrupts a blocking function, when abandoned flights are cancelled; else {@code null}. */
  Runnable interrupter;
  private boolean done;
  /**
   * The caller that started the flight, told apart when results are copied or reported; {@code null}
   * once it left, once the flight followed another node, and once the flight ended (a caller that left
   * costs nothing, even while the execution still runs).
   */
  private Promise<Object> leader;
  /** Whether a caller joined: the first one leads. */
  private boolean joined;
  /** Whether the outcome came from another node's execution, which that node's callers got too. */
  private boolean followed;

  /** A follower's copy of the result that failed: that follower fails with {@link #cause}. */
  private record CopyFailure(RuntimeException cause) {
  }

  /**
   * What the callers of an ended flight get besides its outcome, decided before any of them is served.
   *
   * @param leader the caller that started the flight, or {@code null}
   * @param shared whether more than one caller got the outcome
   * @param copies with copyResults, each follower's copy of the result (or a {@link CopyFailure}); else {@code null}
   */
  private record Delivery(Promise<Object> leader, boolean shared, Map<Promise<Object>, Object> copies) {
  }

  /** A caller that gives up at {@link #deadline}, a {@link System#nanoTime()}. */
  private record TimedWaiter(Promise<Object> promise, long deadline) {
  }

  Flight(String key, FlightMap owner, boolean measured) {
    this.key = key;
    this.owner = owner;
    this.startNanos = measured ? System.nanoTime() : 0L;
  }

  /**
   * Adds a caller to the flight.
   *
   * @param timed whether the caller gives up at {@code deadline}, a {@link System#nanoTime()}; if it
   *              is the earliest deadline, the flight's timer is set for it
   */
  void addWaiter(Promise<Object> waiter, boolean timed, long deadline) {
    if (!joined) {
      joined = true;
      leader = waiter;
    }
    waiting++;
    if (!timed) {
      waiters.add(waiter);
    } else {
      if (deadlines == null) {
        deadlines = new PriorityQueue<>((a, b) -> Long.compare(a.deadline - b.deadline, 0));
      }
      deadlines.add(new TimedWaiter(waiter, deadline));
      if (timeoutTimer == -1 || deadline - timeoutTimerDue < 0) {
        arm(deadline);
      }
    }
  }

  /** @return the execution's span, or {@code null} when the verticle is not traced */
  public FlightTracing.ExecutionSpan span() {
    return span;
  }

  /** @return the callers still waiting */
  int waiting() {
    return waiting;
  }

  boolean isDone() {
    return done;
  }

  /**
   * The flight's outcome comes from another node's execution (clustered): its callers here share it
   * with that node's callers, and none of them led.
   */
  public void followed() {
    followed = true;
    leader = null;
  }

  /**
   * Ends the flight: completes every caller still waiting with {@code outcome}, stops its timers.
   * Later calls do nothing.
   */
  void complete(AsyncResult<Object> outcome) {
    if (done) {
      return;
    }
    done = true;
    cancelTimers();
    if (span != null) {
      span.ended(outcome, waiting);
    }
    waiting = 0;
    List<Promise<Object>> served = waiters;
    if (deadlines != null && !deadlines.isEmpty()) {
      served = new ArrayList<>(waiters.size() + deadlines.size());
      served.addAll(waiters);
      for (TimedWaiter timed : deadlines) {
        served.add(timed.promise);
      }
      deadlines.clear();
    }
    Map<Promise<Object>, Object> copies = null;
    if (outcome.succeeded() && outcome.result() instanceof Shareable result && owner.copyResults()) {
      copies = copies(served, result);
    }
    Delivery delivery = new Delivery(leader, followed || served.size() > 1, copies);
    leader = null;
    fanOut(served, outcome, delivery);
    waiters.clear();
  }

  /**
   * Completes every waiter with {@code outcome} on its own context. Waiters on event-loop contexts
   * are served with one task per event loop, entering each of their contexts once, not one task per
   * waiter: a herd of 10 000 callers of two verticles costs two tasks.
   */
  private static void fanOut(List<Promise<Object>> waiters, AsyncResult<Object> outcome, Delivery delivery) {
    if (waiters.size() == 1) {
      settle(waiters.get(0), outcome, delivery);
      return;
    }
    // Vert.x's internal API: a promise's context and its event loop, which no public API tells.
    Map<EventLoop, Map<ContextInternal, List<Promise<Object>>>> byEventLoop = null;
    // Waiters of one context mostly come in a row: the last context's list saves two look-ups.
    ContextInternal lastContext = null;
    List<Promise<Object>> lastList = null;
    for (Promise<Object> waiter : waiters) {
      ContextInternal context = waiter instanceof PromiseInternal<Object> promise ? promise.context() : null;
      if (context != null && context == lastContext) {
        lastList.add(waiter);
        continue;
      }
      if (context == null || !context.isEventLoopContext()) {
        settle(waiter, outcome, delivery);
        continue;
      }
      if (byEventLoop == null) {
        byEventLoop = new IdentityHashMap<>();
      }
      lastContext = context;
      lastList = byEventLoop.computeIfAbsent(context.nettyEventLoop(), loop -> new IdentityHashMap<>())
        .computeIfAbsent(context, c -> new ArrayList<>());
      lastList.add(waiter);
    }
    if (byEventLoop == null) {
      return;
    }
    byEventLoop.forEach((loop, byContext) -> {
      Runnable serve = () -> byContext.forEach((context, promises) -> context.emit(promises, onContext -> {
        for (Promise<Object> promise : onContext) {
          settle(promise, outcome, delivery);
        }
      }));
      if (loop.inEventLoop()) {
        serve.run();
      } else {
        loop.execute(serve);
      }
    });
  }

  /**
   * Completes one waiter. A handler of the waiter that throws (one that replies to a JSON requester
   * runs right here) is reported to the current context, and the other waiters are still served.
   */
  private static void settle(Promise<Object> waiter, AsyncResult<Object> outcome, Delivery delivery) {
    try {
      if (outcome.succeeded()) {
        deliver(waiter, outcome.result(), delivery);
      } else {
        waiter.tryFail(outcome.cause());
      }
    } catch (Throwable t) {
      ContextInternal current = ContextInternal.current();
      if (current != null) {
        current.reportException(t);
      }
    }
  }

  /** @return a copy of {@code result} for every waiter but the leader, or the failure of its copy */
  private Map<Promise<Object>, Object> copies(List<Promise<Object>> waiters, Shareable result) {
    Map<Promise<Object>, Object> made = new IdentityHashMap<>(waiters.size() * 2);
    for (Promise<Object> waiter : waiters) {
      if (waiter != leader) {
        try {
          made.put(waiter, result.copy());
        } catch (RuntimeException cannotCopy) {
          made.put(waiter, new CopyFailure(cannotCopy));
        }
      }
    }
    return made;
  }

  /** Completes one waiter with {@code value}, or with its own copy of it; a copy that failed fails this waiter only. */
  private static void deliver(Promise<Object> waiter, Object value, Delivery delivery) {
    boolean leads = waiter == delivery.leader;
    Object delivered = delivery.copies == null || leads ? value : delivery.copies.get(waiter);
    if (delivered instanceof CopyFailure failure) {
      waiter.tryFail(failure.cause);
      return;
    }
    if (waiter instanceof ResultWaiter result) {
      result.tryComplete(delivered, delivery.shared, leads);
    } else {
      waiter.tryComplete(delivered);
    }
  }

  /** Ends a flight that nobody waits for any more: interrupts its blocking function, if any. */
  void cancel() {
    done = true;
    leader = null;
    cancelTimers();
    if (span != null) {
      span.cancelled();
    }
    waiters.clear();
    if (deadlines != null) {
      deadlines.clear();
    }
    if (interrupter != null) {
      interrupter.run();
    }
  }

  private void cancelTimers() {
    if (timeoutTimer != -1) {
      owner.vertx().cancelTimer(timeoutTimer);
      timeoutTimer = -1;
    }
    if (flightTimer != -1) {
      owner.vertx().cancelTimer(flightTimer);
      flightTimer = -1;
    }
  }

  private void arm(long deadline) {
    if (timeoutTimer != -1) {
      owner.vertx().cancelTimer(timeoutTimer);
    }
    timeoutTimerDue = deadline;
    long delayMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime() + 999_999));
    timeoutTimer = owner.vertx().setTimer(delayMillis, id -> expire());
  }

  /** Fails the callers whose deadline has passed, then re-arms for the next one. */
  private void expire() {
    timeoutTimer = -1;
    if (done) {
      return;
    }
    long now = System.nanoTime();
    TimedWaiter next;
    while ((next = deadlines.peek()) != null && next.deadline - now <= 0) {
      deadlines.poll();
      if (next.promise == leader) {
        leader = null;
      }
      if (!next.promise.future().isComplete()) {
        waiting--;
        owner.waiterLeft(this);
        next.promise.fail(new CallerTimeoutException(key));
      }
    }
    if (next != null && !done) {
      arm(next.deadline);
    }
  }
}
