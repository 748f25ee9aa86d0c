package dev.singleflight;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OpenTelemetry is an optional dependency: without a tracer the verticle loads none of its classes.
 * Each test starts a JVM of its own ({@link ClassLoadingProbe}) that logs every class it loads
 * ({@code -Xlog:class+load}), and reads the log.
 */
class OptionalDependenciesTest {

  /** The class of the library that uses OpenTelemetry; it loads only with a tracer. */
  private static final String OPEN_TELEMETRY_USER = "dev.singleflight.impl.tracing.OpenTelemetryFlightTracing";

  @Test
  void withoutOpenTelemetryOnTheClassPathFlightsRunAndNoOpenTelemetryClassLoads() throws Exception {
    List<String> loaded = probe(entry -> !entry.contains("opentelemetry"));
    assertTrue(loaded.stream().noneMatch(name -> name.startsWith("io.opentelemetry.") || name.startsWith("io.vertx.tracing.")
      || name.startsWith(OPEN_TELEMETRY_USER)), () -> "loaded: " + loaded.stream()
      .filter(name -> name.contains("opentelemetry") || name.contains("tracing")).toList());
  }

  /**
   * With vertx-opentelemetry on the class path, Vert.x itself loads a few OpenTelemetry classes at start
   * (it instantiates every {@code VertxServiceProvider}, vertx-opentelemetry's tracer factory included,
   * whatever the options): the library adds none.
   */
  @Test
  void withOpenTelemetryOnTheClassPathButNoTracerTheLibraryLoadsNoClassThatUsesIt() throws Exception {
    List<String> loaded = probe(entry -> true);
    assertTrue(loaded.stream().noneMatch(name -> name.startsWith(OPEN_TELEMETRY_USER)), () -> "loaded: " + loaded);
  }

  /** The control: the probe does see the class when the Vert.x instance has a tracer. */
  @Test
  void withATracerTheLibraryLoadsItsOpenTelemetryClass() throws Exception {
    List<String> loaded = probe(entry -> true, "traced");
    assertTrue(loaded.contains(OPEN_TELEMETRY_USER), () -> "loaded: " + loaded.stream().filter(n -> n.startsWith("dev.")).toList());
  }

  /**
   * Runs {@link ClassLoadingProbe} with the test class path's entries that {@code keep} accepts.
   *
   * @return the names of the classes it loaded
   */
  private static List<String> probe(Predicate<String> keep, String... args) throws Exception {
    String classPath = Arrays.stream(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
        .split(File.pathSeparator))
      .filter(keep)
      .collect(Collectors.joining(File.pathSeparator));
    List<String> command = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", "-Xlog:class+load=info",
      "-cp", classPath, ClassLoadingProbe.class.getName()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(FlightTestBase.WAIT_SECONDS, TimeUnit.SECONDS), "the probe did not end");
    String log = new String(output, StandardCharsets.UTF_8);
    assertEquals(0, process.exitValue(), log);
    assertTrue(log.contains("flights done: blocking async json"), log);
    // -Xlog lines: "[0.123s][info][class,load] some.Class source: ..."
    return log.lines().filter(line -> line.contains("[class,load]"))
      .map(line -> line.substring(line.indexOf("[class,load]") + "[class,load]".length()).trim().split(" ")[0])
      .toList();
  }
}
