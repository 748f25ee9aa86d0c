package dev.singleflight.impl;

import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A blocking function that can be interrupted while it runs, and only then: an interrupt never
 * reaches the worker thread after the function returned (the thread may already run other work).
 * Like {@link java.util.concurrent.FutureTask#cancel(boolean)}, in a few lines.
 */
final class InterruptibleCall implements Callable<Object> {

  private static final Object NEW = "new";
  private static final Object DONE = "done";
  private static final Object INTERRUPTING = "interrupting";
  private static final Object CANCELLED = "cancelled";

  private final Callable<Object> fn;
  /** NEW, then the running Thread, then DONE; or INTERRUPTING then CANCELLED after {@link #interrupt()}. */
  private final AtomicReference<Object> state = new AtomicReference<>(NEW);

  InterruptibleCall(Callable<Object> fn) {
    this.fn = fn;
  }

  @Override
  public Object call() throws Exception {
    Thread self = Thread.currentThread();
    if (!state.compareAndSet(NEW, self)) {
      throw new CancellationException("the flight was abandoned before its function started");
    }
    try {
      return fn.call();
    } finally {
      if (!state.compareAndSet(self, DONE)) {
        // interrupt() won the race: let it finish, then clear the flag so it cannot leak to later work.
        while (state.get() == INTERRUPTING) {
          Thread.onSpinWait();
        }
        Thread.interrupted();
      }
    }
  }

  /** Interrupts the function's thread if it is running; a function not started yet never will be. */
  void interrupt() {
    Object current = state.get();
    if (current instanceof Thread thread && state.compareAndSet(thread, INTERRUPTING)) {
      thread.interrupt();
      state.set(CANCELLED);
    } else {
      state.compareAndSet(NEW, CANCELLED);
    }
  }
}
