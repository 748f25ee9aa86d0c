package dev.singleflight.examples.demo;

import dev.singleflight.MetricsTest;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The filter against the very records Micrometer logs when a gauge is registered twice (at WARNING the
 * first time in a JVM, at FINE afterwards: the test listens at every level).
 */
class VertxGaugeWarningFilterTest {

  @Test
  void itDropsTheReRegistrationOfAVertxGaugeAndKeepsThatOfAnyOtherGauge() throws Exception {
    List<LogRecord> records = reRegistrationRecords("vertx.http.server.active.connections", "singleflight.inflight");
    assertEquals(2, records.size(), records::toString);
    VertxGaugeWarningFilter filter = new VertxGaugeWarningFilter();
    assertFalse(filter.isLoggable(records.get(0)), records.get(0).getMessage());
    assertTrue(filter.isLoggable(records.get(1)), records.get(1).getMessage());
  }

  /** @return what Micrometer's registry logs as each of {@code names} is registered twice as a gauge */
  private static List<LogRecord> reRegistrationRecords(String... names) throws Exception {
    return MetricsTest.recordsOf("io.micrometer.core.instrument.MeterRegistry", () -> {
      MeterRegistry registry = new SimpleMeterRegistry();
      for (String name : names) {
        Gauge.builder(name, () -> 1).register(registry);
        Gauge.builder(name, () -> 2).register(registry);
      }
    });
  }
}
