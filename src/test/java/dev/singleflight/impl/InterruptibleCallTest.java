package dev.singleflight.impl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InterruptibleCallTest {

  @Test
  void aCallInterruptedBeforeItStartsNeverRuns() {
    InterruptibleCall call = new InterruptibleCall(() -> "ran");
    call.interrupt();
    assertThrows(CancellationException.class, call::call);
  }

  @Test
  void anInterruptAfterTheCallReturnedNeverReachesTheThread() throws Exception {
    InterruptibleCall call = new InterruptibleCall(() -> "ran");
    assertEquals("ran", call.call());
    call.interrupt();
    assertFalse(Thread.currentThread().isInterrupted());
  }

  @Test
  void raceInterruptsAgainstReturnsAndNoFlagLeaksToTheNextTask() throws Exception {
    ExecutorService worker = Executors.newSingleThreadExecutor();
    try {
      for (int i = 0; i < 2_000; i++) {
        CountDownLatch running = new CountDownLatch(1);
        InterruptibleCall call = new InterruptibleCall(() -> {
          running.countDown();
          return "done";
        });
        Future<Object> result = worker.submit(call);
        running.await();
        call.interrupt();
        assertEquals("done", result.get());
        assertFalse(worker.submit(() -> Thread.currentThread().isInterrupted()).get(), "round " + i);
      }
    } finally {
      worker.shutdownNow();
    }
  }
}
