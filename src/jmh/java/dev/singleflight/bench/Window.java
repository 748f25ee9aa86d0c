package dev.singleflight.bench;

import io.vertx.core.Completable;
import io.vertx.core.Context;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Drives the throughput scenarios: {@link #run(int)} makes a batch of calls, each with a key of its
 * own, from several caller contexts, keeping a fixed number outstanding (a new call starts as soon
 * as one completes), and returns when all completed.
 */
final class Window {

  private final List<Lane> lanes = new ArrayList<>();
  private final int outstanding;
  private final Function<String, Future<?>> call;

  /**
   * @param contexts where the calls are made, each its share of the batch and of the window
   * @param outstanding the calls kept outstanding over all contexts
   * @param call makes one call for a key, on the current context
   */
  Window(List<Context> contexts, int outstanding, Function<String, Future<?>> call) {
    this.outstanding = outstanding;
    this.call = call;
    for (int i = 0; i < contexts.size(); i++) {
      lanes.add(new Lane(contexts.get(i), "lane" + i + "-"));
    }
  }

  /** Makes {@code calls} calls and waits until they all completed; throws when one failed. */
  void run(int calls) {
    CountDownLatch done = new CountDownLatch(lanes.size());
    for (int i = 0; i < lanes.size(); i++) {
      int share = calls / lanes.size() + (i < calls % lanes.size() ? 1 : 0);
      int window = outstanding / lanes.size() + (i < outstanding % lanes.size() ? 1 : 0);
      lanes.get(i).start(share, window, done);
    }
    try {
      if (!done.await(1, TimeUnit.MINUTES)) {
        throw new IllegalStateException("a batch of " + calls + " calls took over a minute");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    for (Lane lane : lanes) {
      if (lane.failure != null) {
        throw new IllegalStateException("a call failed", lane.failure);
      }
    }
  }

  /** The calls of one context. Its counters are only touched on that context. */
  private final class Lane implements Completable<Object> {

    private final Context context;
    private final String prefix;
    /** Numbers the keys of this lane, over all batches, so that no two calls share one. */
    private long nextKey;
    private int quota;
    private int issued;
    private int completed;
    private CountDownLatch done;
    private volatile Throwable failure;

    Lane(Context context, String prefix) {
      this.context = context;
      this.prefix = prefix;
    }

    void start(int quota, int window, CountDownLatch done) {
      context.runOnContext(v -> {
        this.quota = quota;
        this.issued = 0;
        this.completed = 0;
        this.done = done;
        for (int i = 0; i < Math.min(window, quota); i++) {
          issue();
        }
        if (quota == 0) {
          done.countDown();
        }
      });
    }

    private void issue() {
      issued++;
      call.apply(prefix + nextKey++).onComplete(this);
    }

    @Override
    public void complete(Object result, Throwable cause) {
      if (cause != null) {
        failure = cause;
      }
      completed++;
      if (issued < quota) {
        issue();
      } else if (completed == quota) {
        done.countDown();
      }
    }
  }
}
