package dev.singleflight.impl.local;

import io.netty.channel.EventLoop;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Answers the callers of keys of batches on their own contexts, many per task. A batch ends many
 * flights at once, usually each with one caller; completing each caller's promise from the verticle's
 * event loop would cost one task per caller to reach its context. Instead each caller waits in a
 * {@link Waiter}, which the flight completes like any promise; the waiter queues its outcome for the
 * event loop of the caller's context, and one task there completes every caller queued since, each
 * on its own context. One instance per proxy; thread-safe.
 */
final class BatchReplies {

  /** The relays by event loop of the callers' contexts: as many as the Vert.x instance's event loops. */
  private final ConcurrentHashMap<EventLoop, Relay> relays = new ConcurrentHashMap<>();

  /**
   * @param caller the caller's promise, made on its context
   * @return the promise that the caller's flight completes; {@code caller} itself when its context
   * is not an event loop's (a worker's), where one task per caller is the way there anyway
   */
  Promise<Object> waiter(PromiseInternal<Object> caller) {
    ContextInternal context = caller.context();
    if (context == null || !context.isEventLoopContext()) {
      return caller;
    }
    return new Waiter(caller, relays.computeIfAbsent(context.nettyEventLoop(), Relay::new));
  }

  /** A failure, told from a result that happens to be a Throwable. */
  private record Failed(Throwable cause) {
  }

  /**
   * The stand-in of a caller in its flight. Completed once, by one thread (the verticle's event loop,
   * or the caller's when its call never reached the verticle); it then passes its outcome to the
   * caller's promise through its relay. Its {@link #future()} is the caller's.
   */
  private static final class Waiter implements Promise<Object> {
    private static final Object PENDING = new Object();

    private final PromiseInternal<Object> caller;
    private final Relay relay;
    /** {@link #PENDING}, then the result, or a {@link Failed}. */
    private Object outcome = PENDING;

    Waiter(PromiseInternal<Object> caller, Relay relay) {
      this.caller = caller;
      this.relay = relay;
    }

    @Override
    public boolean tryComplete(Object result) {
      return settle(result);
    }

    @Override
    public boolean tryFail(Throwable cause) {
      return settle(new Failed(cause));
    }

    private boolean settle(Object outcome) {
      if (this.outcome != PENDING || caller.future().isComplete()) {
        return false;
      }
      this.outcome = outcome;
      relay.add(this);
      return true;
    }

    @Override
    public Future<Object> future() {
      return caller.future();
    }

    /** Completes the caller's promise; on its context, so its handlers run at once. */
    void deliver() {
      if (outcome instanceof Failed failed) {
        caller.tryFail(failed.cause);
      } else {
        caller.tryComplete(outcome);
      }
    }
  }

  /** The waiters answered for the callers of one event loop, delivered by one task at a time. */
  private static final class Relay implements Runnable {
    private final EventLoop loop;
    private final ConcurrentLinkedQueue<Waiter> answered = new ConcurrentLinkedQueue<>();
    /** Set while a task that delivers {@link #answered} is queued or running. */
    private final AtomicBoolean scheduled = new AtomicBoolean();

    Relay(EventLoop loop) {
      this.loop = loop;
    }

    void add(Waiter waiter) {
      answered.add(waiter);
      if (scheduled.compareAndSet(false, true)) {
        loop.execute(this);
      }
    }

    /**
     * Delivers up to {@link FlightServer#CALLS_PER_TASK} queued waiters, each on its caller's context,
     * then leaves the loop to its other tasks and queues itself again if waiters remain: answers coming
     * faster than the loop delivers them cannot keep it from its other work. A caller's handler that
     * throws is reported to that context, and the others are served.
     */
    @Override
    public void run() {
      Waiter waiter;
      for (int budget = FlightServer.CALLS_PER_TASK; budget > 0 && (waiter = answered.poll()) != null; budget--) {
        waiter.caller.context().emit(waiter, Waiter::deliver);
      }
      scheduled.set(false);
      // A waiter queued after the last poll found the flag still set: this task queues the next one for it.
      if (!answered.isEmpty() && scheduled.compareAndSet(false, true)) {
        loop.execute(this);
      }
    }
  }
}
