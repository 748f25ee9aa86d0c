package dev.singleflight;

import io.vertx.core.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** forget(key): waiting callers keep the old flight, later callers start afresh. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForgetTest extends FlightTestBase {

  @Test
  void callersAlreadyWaitingGetTheOriginalResultAndLaterCallersStartAfresh() throws Exception {
    Gate<String> before = new Gate<>("old");
    Gate<String> after = new Gate<>("new");
    Future<String> waiting = flights.flight("k", before);
    await(flights.forget("k"));
    Future<String> fresh = flights.flight("k", after);
    barrier();
    after.release.countDown();
    assertEquals("new", await(fresh));
    before.release.countDown();
    assertEquals("old", await(waiting));
    assertEquals(1, before.runs.get());
    assertEquals(1, after.runs.get());
  }

  @Test
  void theOldFlightCompletingAfterForgetDoesNotRemoveTheNewFlight() throws Exception {
    Gate<String> old = new Gate<>("old");
    Gate<String> current = new Gate<>("new");
    Future<String> oldCall = flights.flight("k", old);
    await(flights.forget("k"));
    Future<String> newCall = flights.flight("k", current);
    old.release.countDown();
    assertEquals("old", await(oldCall));
    // Had the old flight removed the key, this caller would start a third execution.
    Gate<String> third = new Gate<>("third");
    Future<String> joiner = flights.flight("k", third);
    barrier();
    current.release.countDown();
    assertEquals("new", await(newCall));
    assertEquals("new", await(joiner));
    assertEquals(0, third.runs.get());
  }

  @Test
  void forgettingAKeyThatIsNotInFlightSucceeds() throws Exception {
    await(flights.forget("never seen"));
    assertEquals("value", await(flights.flight("never seen", () -> "value")));
  }
}
