package dev.singleflight.examples.demo;

import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * VertxGaugeWarningFilter drops one known, harmless warning and nothing else. Micrometer (since
 * 1.13.9) warns once per JVM when a gauge is registered again under an id it already holds;
 * vertx-micrometer-metrics 5.0.7 does that on purpose for Vert.x's own gauges, once per connection or
 * consumer ({@code vertx.http.server.active.connections} at the demo's second connection,
 * {@code vertx.eventbus.handlers}, ...), to share one counter between them: the gauges stay right.
 * Both projects track it (vert-x3/vertx-micrometer-metrics#259, micrometer-metrics/micrometer#6931),
 * unfixed in every release so far. The filter drops that warning for meters named {@code vertx.*}
 * only: a gauge of any other name registered twice, such as the library's {@code singleflight.*},
 * still shows.
 *
 * <p>The demo installs it on the logger that reports it; the tests name it as their console
 * handler's filter in {@code src/test/resources/logging.properties}.
 */
public final class VertxGaugeWarningFilter implements Filter {

  /** The logger of Micrometer's gauge re-registration warning. Held so that the filter sticks. */
  private static final Logger METER_REGISTRY = Logger.getLogger("io.micrometer.core.instrument.MeterRegistry");

  /** Installs the filter on the logger of Micrometer's meter registries. */
  static void install() {
    METER_REGISTRY.setFilter(new VertxGaugeWarningFilter());
  }

  @Override
  public boolean isLoggable(LogRecord record) {
    String message = record.getMessage();
    return message == null || !message.startsWith("This Gauge has been already registered (MeterId{name='vertx.");
  }
}
