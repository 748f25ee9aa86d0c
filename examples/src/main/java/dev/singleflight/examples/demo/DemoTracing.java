package dev.singleflight.examples.demo;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.logging.LoggingSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import io.vertx.core.spi.VertxTracerFactory;
import io.vertx.tracing.opentelemetry.OpenTelemetryTracingFactory;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * DemoTracing is the OpenTelemetry SDK of the stampede demo's {@code --trace}: the Vert.x instance is
 * traced all along, but spans are recorded only while {@link #record} runs (the load phases would
 * print thousands), and printed through the SDK's logging exporter, one line per span, to the demo's
 * output; the links, which that exporter does not print, are printed after them.
 */
public final class DemoTracing {

  /** Whether new traces are recorded: spans of a trace follow its root's decision. */
  private final AtomicBoolean recording = new AtomicBoolean();
  /** The spans ended while recording. */
  private final ConcurrentLinkedQueue<SpanData> ended = new ConcurrentLinkedQueue<>();
  private final OpenTelemetrySdk openTelemetry;

  public DemoTracing() {
    Sampler onlyWhileRecording = new Sampler() {
      @Override
      public SamplingResult shouldSample(Context parent, String traceId, String name, SpanKind kind, Attributes attributes,
                                         List<LinkData> links) {
        return recording.get() ? SamplingResult.recordAndSample() : SamplingResult.drop();
      }

      @Override
      public String getDescription() {
        return "only while the demo records";
      }
    };
    SpanProcessor collect = new SpanProcessor() {
      @Override
      public void onStart(Context parent, ReadWriteSpan span) {
      }

      @Override
      public boolean isStartRequired() {
        return false;
      }

      @Override
      public void onEnd(ReadableSpan span) {
        ended.add(span.toSpanData());
      }

      @Override
      public boolean isEndRequired() {
        return true;
      }
    };
    openTelemetry = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder()
        .setSampler(Sampler.parentBased(onlyWhileRecording))
        .addSpanProcessor(SimpleSpanProcessor.create(LoggingSpanExporter.create()))
        .addSpanProcessor(collect)
        .build())
      .build();
  }

  /** @return the tracer factory of the demo's Vert.x instance */
  public VertxTracerFactory tracerFactory() {
    return new OpenTelemetryTracingFactory(openTelemetry);
  }

  /**
   * Records the traces that {@code round} starts, printing each span on {@code out} as it ends, then
   * the links between them.
   *
   * @param spans how many spans the round ends; returns once they have all ended
   * @throws IllegalStateException when they have not ended within 20 s
   */
  public void record(Runnable round, int spans, PrintStream out) throws InterruptedException {
    Logger exporterLog = Logger.getLogger(LoggingSpanExporter.class.getName());
    Handler print = new StreamHandler(out, new Formatter() {
      @Override
      public String format(LogRecord record) {
        return record.getMessage() + System.lineSeparator();
      }
    });
    boolean parentHandlers = exporterLog.getUseParentHandlers();
    exporterLog.setUseParentHandlers(false);
    exporterLog.addHandler(print);
    exporterLog.setLevel(Level.INFO);
    ended.clear();
    recording.set(true);
    try {
      round.run();
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (ended.size() < spans && System.nanoTime() - deadline < 0) {
        Thread.sleep(10);
      }
    } finally {
      recording.set(false);
      print.flush();
      exporterLog.removeHandler(print);
      exporterLog.setUseParentHandlers(parentHandlers);
    }
    if (ended.size() < spans) {
      throw new IllegalStateException("only " + ended.size() + " of the " + spans + " spans ended within 20 s");
    }
    for (SpanData span : ended) {
      for (LinkData link : span.getLinks()) {
        out.printf("link: '%s' %s (trace %s) -> span %s (trace %s)%n", span.getName(), span.getSpanId(), span.getTraceId(),
          link.getSpanContext().getSpanId(), link.getSpanContext().getTraceId());
      }
    }
  }

  /** Shuts the SDK down. */
  public void close() {
    openTelemetry.close();
  }
}
