package dev.singleflight.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Runs the benchmarks: scenario 2 ({@link MemoryScenario}) in a JVM of its own, then the JMH
 * benchmarks, and writes into {@code bench.out} (default {@code target/bench}):
 * {@code results.json} (JMH's JSON), {@code memory.json}, and {@code run.json} (machine, date, mode).
 *
 * <p>System properties: {@code bench.quick=true} for a run of a few minutes (one fork, fewer and
 * shorter iterations); {@code bench.include}, a regex that picks scenarios by class name (default
 * all); {@code bench.prof}, a JMH profiler with its options, such as {@code jfr:dir=target/jfr}.
 */
public final class BenchMain {

  /** The options of every JMH fork: a fixed heap, so that the heap's resizing is not measured. */
  static final String[] JMH_JVM_OPTIONS = {"-Xms2g", "-Xmx2g"};

  private BenchMain() {
  }

  public static void main(String[] args) throws Exception {
    boolean quick = Boolean.getBoolean("bench.quick");
    Path out = Path.of(System.getProperty("bench.out", "target/bench"));
    Pattern include = Pattern.compile(System.getProperty("bench.include", ".*"));
    String profiler = System.getProperty("bench.prof", "");
    Files.createDirectories(out);

    JsonObject run = machine().put("quick", quick).put("started", now()).put("loadAverageBefore", loadAverage())
      .put("jmhJvmOptions", new JsonArray(List.of((Object[]) JMH_JVM_OPTIONS)))
      .put("memoryJvmOptions", new JsonArray(List.of((Object[]) MemoryScenario.JVM_OPTIONS)));

    if (include.matcher(MemoryScenario.class.getSimpleName()).find()) {
      runMemoryScenario(out.resolve("memory.json"));
    }
    List<RunResult> results = new ArrayList<>();
    for (Class<?> benchmark : List.of(HerdBenchmark.class, AsyncThroughputBenchmark.class, BlockingThroughputBenchmark.class,
        ClusterHerdBenchmark.class, HedgedHerdBenchmark.class, BatchThroughputBenchmark.class)) {
      if (include.matcher(benchmark.getSimpleName()).find()) {
        results.addAll(new Runner(options(benchmark, quick, profiler).build()).run());
      }
    }
    try (PrintStream json = new PrintStream(Files.newOutputStream(out.resolve("results.json")), false, StandardCharsets.UTF_8)) {
      ResultFormatFactory.getInstance(ResultFormatType.JSON, json).writeOut(results);
    }
    run.put("finished", now()).put("loadAverageAfter", loadAverage());
    Files.writeString(out.resolve("run.json"), run.encodePrettily());
    System.out.println("Results in " + out.toAbsolutePath());
  }

  /**
   * Iterations: the herds are one shot per iteration (their callers are parked before each) and need
   * many to warm up; the throughput scenarios run for a fixed time per iteration (their JIT warm-up
   * takes a few hundred thousand calls).
   */
  private static ChainedOptionsBuilder options(Class<?> benchmark, boolean quick, String profiler) {
    ChainedOptionsBuilder options = new OptionsBuilder()
      .include("^" + Pattern.quote(benchmark.getName()) + "\\.")
      .jvmArgs(JMH_JVM_OPTIONS)
      .shouldFailOnError(true)
      .forks(quick ? 1 : 2);
    if (benchmark == HerdBenchmark.class || benchmark == ClusterHerdBenchmark.class) {
      options.warmupIterations(quick ? 100 : 200).measurementIterations(quick ? 50 : 100);
    } else {
      TimeValue time = TimeValue.seconds(quick ? 1 : 2);
      options.warmupIterations(quick ? 5 : 6).warmupTime(time).measurementIterations(quick ? 5 : 6).measurementTime(time);
    }
    if (!profiler.isEmpty()) {
      int colon = profiler.indexOf(':');
      if (colon < 0) {
        options.addProfiler(profiler);
      } else {
        options.addProfiler(profiler.substring(0, colon), profiler.substring(colon + 1));
      }
    }
    return options;
  }

  private static void runMemoryScenario(Path file) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(MemoryScenario.JVM_OPTIONS));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), MemoryScenario.class.getName(), file.toString()));
    Process process = new ProcessBuilder(command).inheritIO().start();
    if (process.waitFor() != 0) {
      throw new IllegalStateException("the memory scenario failed, exit code " + process.exitValue());
    }
  }

  /** @return what the results ran on: cores, memory, CPU, JVM, OS, and the commit measured */
  private static JsonObject machine() {
    com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    return new JsonObject()
      .put("cores", Runtime.getRuntime().availableProcessors())
      .put("memoryGiB", Math.round(os.getTotalMemorySize() / (1024.0 * 1024 * 1024)))
      .put("cpu", cpuModel())
      .put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"))
      .put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"))
      .put("commit", command("git", "rev-parse", "--short", "HEAD")
        + (command("git", "status", "--porcelain", "--untracked-files=no").isEmpty() ? "" : "+uncommitted changes"));
  }

  private static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
        .filter(line -> line.startsWith("model name"))
        .map(line -> line.substring(line.indexOf(':') + 1).trim())
        .findFirst().orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** @return the 1, 5 and 15 minute load averages, where the OS tells them */
  private static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** @return what the command printed, trimmed, or "unknown" when it failed */
  private static String command(String... command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return process.waitFor() == 0 ? output : "unknown";
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }
}
