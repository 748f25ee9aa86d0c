package dev.singleflight.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Turns the files of one or more runs of {@link BenchMain} into {@code results.svg} (a chart written
 * by hand, one panel per scenario), {@code RESULTS.md} (the tables and which targets are met) and
 * {@code README-section.md}.
 *
 * <p>System properties: {@code bench.runs}, the run directories, comma-separated (default
 * {@code target/bench}); {@code bench.docs}, where the files go (default {@code docs/bench}).
 * Several runs give each figure as the mean of the runs with their range, and a target counts as
 * met only when every run meets it.
 */
public final class BenchReport {

  private static final String HERD = "HerdBenchmark";
  private static final String ASYNC = "AsyncThroughputBenchmark";
  private static final String BLOCKING = "BlockingThroughputBenchmark";
  private static final String CLUSTER_HERD = "ClusterHerdBenchmark";

  /** The figures charted, one panel per scenario, in the order of the chart. */
  private static final List<Panel> PANELS = List.of(
    new Panel("1. Herd fan-out, 10 000 callers on a plain thread", "us", false, List.of(), List.of(
      series("SingleFlight", herd("thread", Herd.SINGLE_FLIGHT), true),
      series("hand-rolled ConcurrentHashMap", herd("thread", Herd.HAND_ROLLED), false),
      series("Caffeine AsyncCache", herd("thread", Herd.CAFFEINE), false))),
    new Panel("1. Herd fan-out, 10 000 callers on a Vert.x context", "us", false, List.of(), List.of(
      series("SingleFlight", herd("context", Herd.SINGLE_FLIGHT), true),
      series("hand-rolled ConcurrentHashMap", herd("context", Herd.HAND_ROLLED), false),
      series("Caffeine AsyncCache", herd("context", Herd.CAFFEINE), false))),
    new Panel("2. Memory per waiting caller, 100 000 callers on one key", "B", false, List.of(128.0, 256.0), List.of(
      series("SingleFlight, context", memory(Herd.SINGLE_FLIGHT, "context", false), true),
      series("SingleFlight, context, timeout", memory(Herd.SINGLE_FLIGHT, "context", true), true),
      series("SingleFlight, plain thread", memory(Herd.SINGLE_FLIGHT, "thread", false), true),
      series("SingleFlight, plain thread, timeout", memory(Herd.SINGLE_FLIGHT, "thread", true), true),
      series("hand-rolled, context", memory(Herd.HAND_ROLLED, "context", false), false),
      series("hand-rolled, context, timeout", memory(Herd.HAND_ROLLED, "context", true), false),
      series("hand-rolled, plain thread", memory(Herd.HAND_ROLLED, "thread", false), false),
      series("hand-rolled, plain thread, timeout", memory(Herd.HAND_ROLLED, "thread", true), false),
      series("Caffeine, plain thread", memory(Herd.CAFFEINE, "thread", false), false))),
    new Panel("3, 5. Distinct keys, async function, 1 000 outstanding", "ops/s", true, List.of(), List.of(
      series("SingleFlight, 1 instance", async("singleFlight", 1), true),
      series("SingleFlight, 2 instances", async("singleFlight", 2), true),
      series("event-bus request/reply, 1 consumer", async("eventBus", 1), false),
      series("event-bus request/reply, 2 consumers", async("eventBus", 2), false))),
    new Panel("4. Distinct keys, blocking function, 1 000 outstanding", "ops/s", true, List.of(), List.of(
      series("SingleFlight", blocking("singleFlight"), true),
      series("consumer with executeBlocking", blocking("executeBlocking"), false))),
    new Panel("3 to 5. CPU time per call, all threads of the JVM", "ns", false, List.of(), List.of(
      series("async: SingleFlight, 1 instance", cpu(async("singleFlight", 1)), true),
      series("async: SingleFlight, 2 instances", cpu(async("singleFlight", 2)), true),
      series("async: event bus, 1 consumer", cpu(async("eventBus", 1)), false),
      series("async: event bus, 2 consumers", cpu(async("eventBus", 2)), false),
      series("blocking: SingleFlight", cpu(blocking("singleFlight")), true),
      series("blocking: consumer with executeBlocking", cpu(blocking("executeBlocking")), false))),
    new Panel("6. Herd fan-out, 10 000 callers on Vert.x contexts, clustered", "us", false, List.of(), List.of(
      series("clustered, 3 nodes, callers spread evenly", clusterHerd(3), true),
      series("clustered, 1 node", clusterHerd(1), true),
      series("node-local (scenario 1)", herd("context", Herd.SINGLE_FLIGHT), true))));

  /** The scenarios against their targets, the rows of the main table. */
  private static final List<Line> LINES = List.of(
    new Line("1. Herd fan-out, callers on a plain thread", "us",
      herd("thread", Herd.SINGLE_FLIGHT), herd("thread", Herd.HAND_ROLLED), "hand-rolled", Target.ratioAtMost(3)),
    new Line("1. Herd fan-out, callers on a Vert.x context", "us",
      herd("context", Herd.SINGLE_FLIGHT), herd("context", Herd.HAND_ROLLED), "hand-rolled", Target.ratioAtMost(3)),
    new Line("2. Memory per waiting caller, no timeout, callers on a Vert.x context", "B",
      memory(Herd.SINGLE_FLIGHT, "context", false), memory(Herd.HAND_ROLLED, "context", false), "hand-rolled",
      Target.valueAtMost(128)),
    new Line("2. Memory per waiting caller, timeout, callers on a Vert.x context", "B",
      memory(Herd.SINGLE_FLIGHT, "context", true), memory(Herd.HAND_ROLLED, "context", true), "hand-rolled",
      Target.valueAtMost(256)),
    new Line("2. Memory per waiting caller, no timeout, callers on a plain thread", "B",
      memory(Herd.SINGLE_FLIGHT, "thread", false), memory(Herd.HAND_ROLLED, "thread", false), "hand-rolled",
      Target.valueAtMost(128)),
    new Line("2. Memory per waiting caller, timeout, callers on a plain thread", "B",
      memory(Herd.SINGLE_FLIGHT, "thread", true), memory(Herd.HAND_ROLLED, "thread", true), "hand-rolled",
      Target.valueAtMost(256)),
    new Line("3. Distinct keys, async function", "ops/s",
      async("singleFlight", 1), async("eventBus", 1), "event-bus request/reply", Target.ratioAtLeast(1.0)),
    new Line("4. Distinct keys, blocking function", "ops/s",
      blocking("singleFlight"), blocking("executeBlocking"), "consumer with executeBlocking", Target.ratioAtLeast(0.9)),
    new Line("5. Scenario 3 with 2 instances (baseline: 1 instance)", "ops/s",
      async("singleFlight", 2), async("singleFlight", 1), "SingleFlight, 1 instance", Target.ratioAbove(1.0)),
    new Line("5. (context) event bus with 2 consumers (baseline: 1)", "ops/s",
      async("eventBus", 2), async("eventBus", 1), "event bus, 1 consumer", null),
    new Line("6. Herd fan-out over 3 clustered nodes (baseline: the herd on 1 node)", "us",
      clusterHerd(3), clusterHerd(1), "1 node", null),
    new Line("6. (context) clustered on 1 node (baseline: node-local, scenario 1)", "us",
      clusterHerd(1), herd("context", Herd.SINGLE_FLIGHT), "node-local", null));

  private BenchReport() {
  }

  public static void main(String[] args) throws IOException {
    Path docs = Path.of(System.getProperty("bench.docs", "docs/bench"));
    List<Run> runs = new ArrayList<>();
    for (String dir : System.getProperty("bench.runs", "target/bench").split(",")) {
      runs.add(Run.read(Path.of(dir.trim())));
    }
    Files.createDirectories(docs);
    Files.writeString(docs.resolve("results.svg"), svg(runs));
    String table = table(runs);
    Files.writeString(docs.resolve("RESULTS.md"), results(runs, table));
    Files.writeString(docs.resolve("README-section.md"), readmeSection(runs, table));
    System.out.println("Wrote results.svg, RESULTS.md and README-section.md to " + docs.toAbsolutePath());
  }

  // ---- the figures ----------------------------------------------------------------------------

  /** One figure of a run, by its key: see {@link Run#read}. */
  private record Figure(String key, String how) {
    Measure of(Run run) {
      Measure measure = run.measures.get(key);
      if (measure == null) {
        throw new IllegalStateException("run " + run.dir + " has no " + key);
      }
      return measure;
    }
  }

  private static Figure herd(String callers, String contender) {
    return new Figure(HERD + " callers=" + callers + " contender=" + contender, "median of the shots");
  }

  private static Figure clusterHerd(int nodes) {
    return new Figure(CLUSTER_HERD + " nodes=" + nodes, "median of the shots");
  }

  private static Figure memory(String contender, String callers, boolean timeout) {
    return new Figure("memory contender=" + contender + " callers=" + callers + " timeout=" + timeout, "");
  }

  private static Figure async(String contender, int instances) {
    return new Figure(ASYNC + " contender=" + contender + " instances=" + instances, "");
  }

  private static Figure blocking(String contender) {
    return new Figure(BLOCKING + " contender=" + contender, "");
  }

  /** The CPU time per call of a throughput figure ({@link CpuCounters}). */
  private static Figure cpu(Figure throughput) {
    return new Figure("cpu " + throughput.key, "");
  }

  /** A measured value; {@code error} is JMH's 99.9% error, NaN where there is none. */
  private record Measure(double value, double error, String note) {
  }

  /** The files of one run of {@link BenchMain}. */
  private record Run(Path dir, JsonObject info, Map<String, Measure> measures) {

    static Run read(Path dir) throws IOException {
      Map<String, Measure> measures = new LinkedHashMap<>();
      for (Object item : new JsonArray(Files.readString(dir.resolve("results.json")))) {
        JsonObject result = (JsonObject) item;
        String benchmark = result.getString("benchmark");
        String name = benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1, benchmark.lastIndexOf('.'));
        JsonObject params = result.getJsonObject("params", new JsonObject());
        String key = name + params.fieldNames().stream().sorted().map(p -> " " + p + "=" + params.getString(p)).collect(Collectors.joining());
        JsonObject metric = result.getJsonObject("primaryMetric");
        if (result.getString("mode").equals("ss")) {
          int shots = metric.getJsonArray("rawData").getJsonArray(0).size() * metric.getJsonArray("rawData").size();
          measures.put(key, new Measure(metric.getJsonObject("scorePercentiles").getDouble("50.0"), Double.NaN,
            shots + " shots, mean " + number(metric.getDouble("score")) + " ± " + number(metric.getDouble("scoreError"))));
        } else {
          measures.put(key, new Measure(metric.getDouble("score"), metric.getDouble("scoreError"), ""));
        }
        JsonObject secondary = result.getJsonObject("secondaryMetrics", new JsonObject());
        if (secondary.containsKey("cpuNanos")) {
          double calls = secondary.getJsonObject("calls").getDouble("score");
          measures.put("cpu " + key, new Measure(secondary.getJsonObject("cpuNanos").getDouble("score") / calls, Double.NaN,
            "over " + number(calls) + " calls"));
        }
      }
      Path memory = dir.resolve("memory.json");
      if (Files.exists(memory)) {
        for (Object item : new JsonArray(Files.readString(memory))) {
          JsonObject row = (JsonObject) item;
          measures.put("memory contender=" + row.getString("contender") + " callers=" + row.getString("callers")
              + " timeout=" + row.getBoolean("timeout"),
            new Measure(row.getDouble("bytesPerCaller"), Double.NaN,
              "left after the callers were served: " + row.getLong("leftAfterServedBytes") + " B in all"));
        }
      }
      return new Run(dir, new JsonObject(Files.readString(dir.resolve("run.json"))), measures);
    }
  }

  /** The mean of a figure over the runs, its least and greatest. */
  private record Spread(double mean, double min, double max, int runs) {

    static Spread of(List<Run> runs, Function<Run, Double> figure) {
      double sum = 0;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (Run run : runs) {
        double value = figure.apply(run);
        sum += value;
        min = Math.min(min, value);
        max = Math.max(max, value);
      }
      return new Spread(sum / runs.size(), min, max, runs.size());
    }

    /** @return the mean with its unit, then the least and the greatest run in the same unit */
    String format(String unit) {
      String mean = value(this.mean, unit);
      return runs == 1 ? mean : mean + " (" + amount(min, unit, this.mean) + "–" + amount(max, unit, this.mean) + ")";
    }
  }

  // ---- targets --------------------------------------------------------------------------------

  /** What a scenario must reach: a bound on its ratio to the baseline, or on its own value. */
  private record Target(String text, boolean onRatio, boolean atMost, boolean strict, double bound) {

    static Target ratioAtMost(double bound) {
      return new Target("≤ " + ratio(bound), true, true, false, bound);
    }

    static Target ratioAtLeast(double bound) {
      return new Target("≥ " + ratio(bound), true, false, false, bound);
    }

    static Target ratioAbove(double bound) {
      return new Target("> " + ratio(bound) + " (grows)", true, false, true, bound);
    }

    static Target valueAtMost(double bound) {
      return new Target("≤ " + number(bound) + " B", false, true, false, bound);
    }

    boolean met(double value, double ratio) {
      double measured = onRatio ? ratio : value;
      if (atMost) {
        return strict ? measured < bound : measured <= bound;
      }
      return strict ? measured > bound : measured >= bound;
    }
  }

  /** A row of the main table: the library's figure, its baseline's, and the target. */
  private record Line(String scenario, String unit, Figure mine, Figure base, String baseName, Target target) {

    double ratio(Run run) {
      return mine.of(run).value / base.of(run).value;
    }

    /** @return "met", "not met" or "met in k of n runs"; null without a target */
    String verdict(List<Run> runs) {
      if (target == null) {
        return null;
      }
      long met = runs.stream().filter(run -> target.met(mine.of(run).value, ratio(run))).count();
      return met == runs.size() ? "met" : met == 0 ? "not met" : "met in " + met + " of " + runs.size() + " runs";
    }
  }

  // ---- markdown -------------------------------------------------------------------------------

  private static String table(List<Run> runs) {
    StringBuilder md = new StringBuilder();
    md.append("| Scenario | SingleFlight | Baseline | Ratio | Target | Met? |\n");
    md.append("| --- | ---: | ---: | ---: | --- | --- |\n");
    for (Line line : LINES) {
      md.append("| ").append(line.scenario)
        .append(" | ").append(Spread.of(runs, run -> line.mine.of(run).value).format(line.unit))
        .append(" | ").append(line.baseName).append(": ").append(Spread.of(runs, run -> line.base.of(run).value).format(line.unit))
        .append(" | ").append(Spread.of(runs, line::ratio).format("x"))
        .append(" | ").append(line.target == null ? "—" : line.target.text)
        .append(" | ").append(line.target == null ? "—" : line.verdict(runs))
        .append(" |\n");
    }
    return md.toString();
  }

  private static String verdicts(List<Run> runs) {
    StringBuilder md = new StringBuilder();
    for (Line line : LINES) {
      if (line.target == null) {
        continue;
      }
      String measured = line.target.onRatio
        ? Spread.of(runs, line::ratio).format("x") + " the " + line.baseName
        : Spread.of(runs, run -> line.mine.of(run).value).format(line.unit);
      md.append("- **").append(line.verdict(runs)).append("**: ").append(line.scenario).append(" — ")
        .append(measured).append("; target ").append(line.target.text).append(".\n");
    }
    return md.toString();
  }

  private static String details(List<Run> runs) {
    StringBuilder md = new StringBuilder();
    md.append("| Scenario | Contender |");
    for (int i = 1; i <= runs.size(); i++) {
      md.append(" Run ").append(i).append(" |");
    }
    md.append("\n| --- | --- |").append(" ---: |".repeat(runs.size())).append('\n');
    for (Panel panel : PANELS) {
      for (Series series : panel.series) {
        md.append("| ").append(panel.title).append(" | ").append(series.label).append(" |");
        for (Run run : runs) {
          Measure measure = series.figure.of(run);
          md.append(' ').append(value(measure.value, panel.unit));
          if (!Double.isNaN(measure.error)) {
            md.append(" ± ").append(value(measure.error, panel.unit));
          }
          if (!series.figure.how.isEmpty()) {
            md.append(" (").append(series.figure.how).append("; ").append(measure.note).append(')');
          } else if (!measure.note.isEmpty()) {
            md.append(" (").append(measure.note).append(')');
          }
          md.append(" |");
        }
        md.append('\n');
      }
    }
    return md.toString();
  }

  private static String machine(List<Run> runs) {
    JsonObject first = runs.get(0).info;
    return first.getInteger("cores") + " cores (" + first.getString("cpu") + "), " + first.getLong("memoryGiB") + " GiB, "
      + first.getString("jvm") + ", " + first.getString("os");
  }

  private static String dates(List<Run> runs) {
    return runs.stream().map(run -> run.info.getString("started").substring(0, 10)).distinct().collect(Collectors.joining(", "));
  }

  private static String commits(List<Run> runs) {
    return runs.stream().map(run -> run.info.getString("commit")).distinct().collect(Collectors.joining(", "));
  }

  private static String results(List<Run> runs, String table) {
    StringBuilder md = new StringBuilder();
    md.append("# Benchmark results\n\n");
    md.append("Generated by `BenchReport` from ").append(runs.size()).append(runs.size() == 1 ? " run" : " runs")
      .append(" of `BenchMain` (see [README-section.md](README-section.md) for the commands).\n\n");
    md.append("- Machine: ").append(machine(runs)).append('\n');
    md.append("- Date: ").append(dates(runs)).append('\n');
    md.append("- Runs:\n");
    for (int i = 0; i < runs.size(); i++) {
      JsonObject info = runs.get(i).info;
      md.append("  - run ").append(i + 1).append(": ").append(info.getString("started")).append(" to ").append(info.getString("finished"))
        .append(info.getBoolean("quick") ? ", quick mode" : ", full mode")
        .append(", commit ").append(info.getString("commit"))
        .append(", load average (1, 5, 15 min) ").append(info.getString("loadAverageBefore")).append(" before, ")
        .append(info.getString("loadAverageAfter")).append(" after\n");
    }
    md.append("\nThe machine is shared: other builds ran on its two cores at the same time, so absolute figures vary from run to run; ")
      .append("ratios of figures from the same run vary less. With several runs, each figure is the mean of the runs and, ")
      .append("in parentheses, the least and greatest of them; a target is met only when every run meets it.\n\n");
    md.append("![benchmark chart](results.svg)\n\n");
    md.append("## The scenarios against their targets\n\n").append(table).append('\n');
    md.append(verdicts(runs)).append('\n');
    md.append("Where the time and memory go, and what would change in the library: [ANALYSIS.md](ANALYSIS.md).\n\n");
    md.append("## How it is measured\n\n");
    md.append("""
      - Herd fan-out (scenario 1, `HerdBenchmark`): 10 000 callers wait on one key whose function returns a future that the
        benchmark completes; the score is the time from completing it until the last caller's listener ran, one shot per
        iteration, the callers parked before it. The figure is the median of the shots (the mean, with JMH's error, is in the
        table below: a garbage collection or the other tenant of the machine in a shot moves the mean a lot). Callers on a
        plain thread: the calls are made on the benchmark's thread; the baselines' listeners then run on the thread that
        completes the function. Callers on a Vert.x context: the calls are made on one event-loop context and each value
        must reach it; the baselines hop with `Future.fromCompletionStage(future, context)`.
      - Memory (scenario 2, `MemoryScenario`, in its own JVM with the serial collector): the heap that survives a full
        collection with 100 000 callers parked, less the heap before, per caller. Every caller's only listener is one
        shared object. Timeout: `flightAsync(key, fn, Duration)` of 10 minutes; the baseline's is
        `future.copy().orTimeout(...)`.
      - Throughput (scenarios 3 to 5, `AsyncThroughputBenchmark`, `BlockingThroughputBenchmark`): calls with a key of
        their own, 1 000 outstanding from two caller contexts (a new call as soon as one completes), in batches of 20 000;
        the score is calls per second. The CPU time that the JVM used in those iterations, divided by the calls, is
        the CPU time per call: it moves less than calls per second when other processes share the cores. Baseline
        (c) is `eventBus().request` to a consumer that replies at once, (d) a consumer that runs the same
        `Callable` with `executeBlocking(fn, false)` and replies. `instances` is the instance count of the
        deployment, of `SingleFlightVerticle` or of the consumer's verticle.
      - Herd over a cluster (scenario 6, `ClusterHerdBenchmark`): as scenario 1 with callers on Vert.x contexts, but
        the `SingleFlightVerticle`s have `clustered=true` and run on the nodes of a real Hazelcast cluster in the
        benchmark's JVM (TCP-IP join on 127.0.0.1, as the cluster tests start it). `nodes=3`: the 10 000 callers are
        spread evenly over 3 nodes, one event-loop context each; the node that leads runs the function and reports to
        the key's owner (one of the 3, by the key's hash), which answers the other two nodes, and each node answers its
        callers. `nodes=1`: the same herd on a cluster of one node. Before each shot every node's join waits at the
        owner and the function was called; each iteration checks that it ran exactly once in the cluster. The three
        nodes share the machine's 2 cores, so this is the cost of the cluster's messages and encoding, not a network's.
      - Vert.x runs with its default options (2 × cores event loops, 20 worker threads).

      """);
    md.append("## Every measurement\n\n").append(details(runs));
    return md.toString();
  }

  private static String readmeSection(List<Run> runs, String table) {
    return """
      ## Benchmarks

      JMH benchmarks of the six scenarios of `docs/bench/RESULTS.md`, with their baselines (a hand-rolled
      `ConcurrentHashMap` of futures, Caffeine's `AsyncCache`, a raw event-bus request/reply, a consumer with
      `executeBlocking`, and for the clustered herd the same herd on one node). Run them, from the project's directory:

      ```
      mvn -B -Pbench test-compile exec:exec@run                      # about 7 minutes on 2 cores
      mvn -B -Pbench test-compile exec:exec@run -Dbench.quick=true   # about 2 minutes, wider error
      ```

      Results go to `target/bench/`: `results.json` from JMH, `memory.json`, `run.json` (machine, date, commit).
      `-Dbench.include=Herd` picks scenarios by class name, `-Dbench.out=DIR` writes elsewhere, and
      `-Dbench.prof=jfr:dir=target/jfr` adds a JMH profiler (here JFR, a recording per benchmark). Then draw the
      chart and write the tables into `docs/bench/`, from one or more runs:

      ```
      mvn -B -Pbench test-compile exec:exec@chart                    # from target/bench
      mvn -B -Pbench test-compile exec:exec@chart -Dbench.runs=docs/bench/data/current
      ```

      The second command remakes the committed files from the run kept in `docs/bench/data/current`
      (`docs/bench/data/after` is the run [docs/bench/ANALYSIS.md](docs/bench/ANALYSIS.md) speaks of, made before
      scenario 6 existed; the three runs in `docs/bench/data/run-*` were made before the fan-out and plain-thread
      changes that it proposed). The default build (`mvn test`) neither compiles nor runs any of this. A new
      scenario is a JMH class in `src/jmh/java/dev/singleflight/bench`, listed in `BenchMain`, with its figures
      added to the panels and lines of `BenchReport`.

      """ + "Measured on " + machine(runs) + ", " + dates(runs) + ", " + runs.size() + (runs.size() == 1 ? " run" : " runs")
      + " (mean, and the range of the runs in parentheses):\n\n"
      + "![benchmark chart](docs/bench/results.svg)\n\n"
      + table
      + "\nDetails, method and analysis: [docs/bench/RESULTS.md](docs/bench/RESULTS.md), "
      + "[docs/bench/ANALYSIS.md](docs/bench/ANALYSIS.md).\n";
  }

  // ---- the chart ------------------------------------------------------------------------------

  /** A panel of the chart: one scenario, its bars in one unit, and vertical marks (targets). */
  private record Panel(String title, String unit, boolean higherIsBetter, List<Double> marks, List<Series> series) {
  }

  /** A bar: a figure, drawn in the library's colour or the baselines'. */
  private record Series(String label, Figure figure, boolean library) {
  }

  private static Series series(String label, Figure figure, boolean library) {
    return new Series(label, figure, library);
  }

  private static final int WIDTH = 960;
  private static final int LABEL_RIGHT = 300;
  private static final int BAR_LEFT = 310;
  private static final int BAR_WIDTH = 430;
  private static final int BAR_HEIGHT = 16;
  private static final int BAR_STEP = 22;

  private static String svg(List<Run> runs) {
    StringBuilder body = new StringBuilder();
    int y = 96;
    for (Panel panel : PANELS) {
      body.append(text(10, y, 15, "bold", "#000", "start", panel.title));
      y += 18;
      body.append(text(10, y, 12, "normal", "#555", "start",
        unitName(panel.unit) + ", " + (panel.higherIsBetter ? "higher is better" : "lower is better")
          + (runs.size() > 1 ? "; bar: mean of " + runs.size() + " runs, ticks: each run" : "")));
      y += 10;
      double max = 0;
      for (Series series : panel.series) {
        for (Run run : runs) {
          max = Math.max(max, series.figure.of(run).value);
        }
      }
      for (double mark : panel.marks) {
        max = Math.max(max, mark);
      }
      int top = y;
      for (Series series : panel.series) {
        Spread spread = Spread.of(runs, run -> series.figure.of(run).value);
        double length = spread.mean / max * BAR_WIDTH;
        body.append(text(LABEL_RIGHT, y + 12, 12, "normal", "#000", "end", series.label));
        body.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n",
          BAR_LEFT, y, length, BAR_HEIGHT, series.library ? "#2f6db5" : "#a0a0a0"));
        if (runs.size() > 1) {
          for (Run run : runs) {
            double x = BAR_LEFT + series.figure.of(run).value / max * BAR_WIDTH;
            body.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\" stroke-width=\"1.5\"/>%n",
              x, y - 2, x, y + BAR_HEIGHT + 2));
          }
        }
        double right = BAR_LEFT + spread.max / max * BAR_WIDTH;
        body.append(text((int) right + 6, y + 12, 12, "normal", "#000", "start", spread.format(panel.unit)));
        y += BAR_STEP;
      }
      for (double mark : panel.marks) {
        double x = BAR_LEFT + mark / max * BAR_WIDTH;
        body.append(String.format(Locale.ROOT,
          "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/>%n", x, top - 4, x, y));
        body.append(text((int) x, y + 10, 11, "normal", "#c0392b", "middle", "target " + value(mark, panel.unit)));
        y += 12;
      }
      y += 26;
    }
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\">%n",
      WIDTH, y, WIDTH, y));
    svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>%n", WIDTH, y));
    svg.append(text(10, 24, 18, "bold", "#000", "start", "vertx-singleflight benchmarks, " + dates(runs)));
    svg.append(text(10, 44, 12, "normal", "#333", "start", machine(runs)));
    svg.append(text(10, 60, 12, "normal", "#333", "start", runs.size() + (runs.size() == 1 ? " run" : " runs")
      + (runs.get(0).info.getBoolean("quick") ? " in quick mode" : "") + ", commit " + commits(runs)
      + "; blue: vertx-singleflight, grey: baselines"));
    svg.append(body);
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static String text(int x, int y, int size, String weight, String colour, String anchor, String content) {
    return String.format(Locale.ROOT,
      "<text x=\"%d\" y=\"%d\" font-size=\"%d\" font-weight=\"%s\" fill=\"%s\" text-anchor=\"%s\">%s</text>%n",
      x, y, size, weight, colour, anchor, escape(content));
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  // ---- numbers --------------------------------------------------------------------------------

  private static String unitName(String unit) {
    return switch (unit) {
      case "us" -> "microseconds until the last caller has the value";
      case "B" -> "bytes per waiting caller";
      case "ops/s" -> "calls per second";
      case "ns" -> "nanoseconds of CPU per call";
      default -> unit;
    };
  }

  /** Formats {@code value} in {@code unit}: "us", "B", "ns", "ops/s", or "x" for a ratio. */
  private static String value(double value, String unit) {
    return amount(value, unit, value) + suffix(unit, value);
  }

  /** @return {@code value} without its unit, scaled as {@code reference} would be (k/s or M/s) */
  private static String amount(double value, String unit, double reference) {
    return switch (unit) {
      case "ops/s" -> reference >= 1e6
        ? String.format(Locale.ROOT, "%.2f", value / 1e6)
        : String.format(Locale.ROOT, "%.0f", value / 1e3);
      case "x" -> String.format(Locale.ROOT, "%.2f", value);
      default -> number(value);
    };
  }

  private static String suffix(String unit, double reference) {
    return switch (unit) {
      case "us" -> " µs";
      case "ops/s" -> reference >= 1e6 ? " M/s" : " k/s";
      case "x" -> "x";
      default -> " " + unit;
    };
  }

  private static String ratio(double ratio) {
    return String.format(Locale.ROOT, "%.2fx", ratio);
  }

  /** Three significant digits at most, no exponent. */
  private static String number(double value) {
    double magnitude = Math.abs(value);
    String format = magnitude >= 100 ? "%.0f" : magnitude >= 10 ? "%.1f" : "%.2f";
    return String.format(Locale.ROOT, format, value);
  }
}
