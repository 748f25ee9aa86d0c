package dev.singleflight.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.AxisSpace;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.svg.SVGGraphics2D;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.DoubleSummaryStatistics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * Turns the files of one or more runs of {@link BenchMain} into {@code results.svg} (a JFreeChart panel per scenario,
 * written by JFreeSVG) and into the tables of {@code RESULTS.md} and {@code README-section.md}, whose prose is kept by
 * hand: only what stands between a line {@code <!-- bench:NAME -->} and its {@code <!-- /bench:NAME -->} is rewritten.
 *
 * <p>System properties: {@code bench.runs}, the run directories, comma-separated (default {@code target/bench});
 * {@code bench.docs}, where the files are (default {@code docs/bench}). Several runs give each figure as the mean of
 * the runs with their range, and a target counts as met only when every run meets it.
 */
public final class BenchReport {

  /** The panels of the chart, a scenario each, and the rows of "Every measurement": figures by key, see {@link Run#read}. */
  private static final List<Panel> PANELS = List.of(
    new Panel("1. Herd fan-out, 10 000 callers on a plain thread",
      new Series("SingleFlight", "HerdBenchmark callers=thread contender=singleFlight", true),
      new Series("hand-rolled ConcurrentHashMap", "HerdBenchmark callers=thread contender=handRolled", false),
      new Series("Caffeine AsyncCache", "HerdBenchmark callers=thread contender=caffeine", false)),
    new Panel("1. Herd fan-out, 10 000 callers on a Vert.x context",
      new Series("SingleFlight", "HerdBenchmark callers=context contender=singleFlight", true),
      new Series("hand-rolled ConcurrentHashMap", "HerdBenchmark callers=context contender=handRolled", false),
      new Series("Caffeine AsyncCache", "HerdBenchmark callers=context contender=caffeine", false)),
    new Panel("2. Memory per waiting caller, 100 000 callers on one key",
      new Series("SingleFlight, context", "memory callers=context contender=singleFlight timeout=false", true),
      new Series("SingleFlight, context, timeout", "memory callers=context contender=singleFlight timeout=true", true),
      new Series("SingleFlight, plain thread", "memory callers=thread contender=singleFlight timeout=false", true),
      new Series("SingleFlight, plain thread, timeout", "memory callers=thread contender=singleFlight timeout=true", true),
      new Series("hand-rolled, context", "memory callers=context contender=handRolled timeout=false", false),
      new Series("hand-rolled, context, timeout", "memory callers=context contender=handRolled timeout=true", false),
      new Series("hand-rolled, plain thread", "memory callers=thread contender=handRolled timeout=false", false),
      new Series("hand-rolled, plain thread, timeout", "memory callers=thread contender=handRolled timeout=true", false),
      new Series("Caffeine, plain thread", "memory callers=thread contender=caffeine timeout=false", false)),
    new Panel("3, 5. Distinct keys, async function, 1 000 outstanding",
      new Series("SingleFlight, 1 instance", "AsyncThroughputBenchmark contender=singleFlight instances=1", true),
      new Series("SingleFlight, 2 instances", "AsyncThroughputBenchmark contender=singleFlight instances=2", true),
      new Series("event-bus request/reply, 1 consumer", "AsyncThroughputBenchmark contender=eventBus instances=1", false),
      new Series("event-bus request/reply, 2 consumers", "AsyncThroughputBenchmark contender=eventBus instances=2", false)),
    new Panel("4. Distinct keys, blocking function, 1 000 outstanding",
      new Series("SingleFlight", "BlockingThroughputBenchmark contender=singleFlight", true),
      new Series("consumer with executeBlocking", "BlockingThroughputBenchmark contender=executeBlocking", false)),
    new Panel("3 to 5. CPU time per call, all threads of the JVM",
      new Series("async: SingleFlight, 1 instance", "cpu AsyncThroughputBenchmark contender=singleFlight instances=1", true),
      new Series("async: SingleFlight, 2 instances", "cpu AsyncThroughputBenchmark contender=singleFlight instances=2", true),
      new Series("async: event bus, 1 consumer", "cpu AsyncThroughputBenchmark contender=eventBus instances=1", false),
      new Series("async: event bus, 2 consumers", "cpu AsyncThroughputBenchmark contender=eventBus instances=2", false),
      new Series("blocking: SingleFlight", "cpu BlockingThroughputBenchmark contender=singleFlight", true),
      new Series("blocking: consumer with executeBlocking", "cpu BlockingThroughputBenchmark contender=executeBlocking", false)),
    new Panel("6. Herd fan-out, 10 000 callers on Vert.x contexts, clustered",
      new Series("clustered, 3 nodes, callers spread evenly", "ClusterHerdBenchmark nodes=3", true),
      new Series("clustered, 1 node", "ClusterHerdBenchmark nodes=1", true),
      new Series("node-local (scenario 1)", "HerdBenchmark callers=context contender=singleFlight", true)));

  /** The scenarios against their targets, the rows of the main table; a figure by its key, see {@link Run#read}. */
  private static final List<Line> LINES = List.of(
    new Line("1. Herd fan-out, callers on a plain thread", "HerdBenchmark callers=thread contender=singleFlight",
      "hand-rolled", "HerdBenchmark callers=thread contender=handRolled", "≤ 3.00x"),
    new Line("1. Herd fan-out, callers on a Vert.x context", "HerdBenchmark callers=context contender=singleFlight",
      "hand-rolled", "HerdBenchmark callers=context contender=handRolled", "≤ 3.00x"),
    new Line("2. Memory per waiting caller, no timeout, callers on a Vert.x context", "memory callers=context "
      + "contender=singleFlight timeout=false", "hand-rolled", "memory callers=context contender=handRolled timeout=false", "≤ 128 B"),
    new Line("2. Memory per waiting caller, timeout, callers on a Vert.x context", "memory callers=context "
      + "contender=singleFlight timeout=true", "hand-rolled", "memory callers=context contender=handRolled timeout=true", "≤ 256 B"),
    new Line("2. Memory per waiting caller, no timeout, callers on a plain thread", "memory callers=thread "
      + "contender=singleFlight timeout=false", "hand-rolled", "memory callers=thread contender=handRolled timeout=false", "≤ 128 B"),
    new Line("2. Memory per waiting caller, timeout, callers on a plain thread", "memory callers=thread "
      + "contender=singleFlight timeout=true", "hand-rolled", "memory callers=thread contender=handRolled timeout=true", "≤ 256 B"),
    new Line("3. Distinct keys, async function", "AsyncThroughputBenchmark contender=singleFlight instances=1",
      "event-bus request/reply", "AsyncThroughputBenchmark contender=eventBus instances=1", "≥ 1.00x"),
    new Line("4. Distinct keys, blocking function", "BlockingThroughputBenchmark contender=singleFlight",
      "consumer with executeBlocking", "BlockingThroughputBenchmark contender=executeBlocking", "≥ 0.90x"),
    new Line("5. Scenario 3 with 2 instances (baseline: 1 instance)", "AsyncThroughputBenchmark contender=singleFlight "
      + "instances=2", "SingleFlight, 1 instance", "AsyncThroughputBenchmark contender=singleFlight instances=1", "> 1.00x (grows)"),
    new Line("5. (context) event bus with 2 consumers (baseline: 1)", "AsyncThroughputBenchmark contender=eventBus instances=2",
      "event bus, 1 consumer", "AsyncThroughputBenchmark contender=eventBus instances=1", null),
    new Line("6. Herd fan-out over 3 clustered nodes (baseline: the herd on 1 node)", "ClusterHerdBenchmark nodes=3",
      "1 node", "ClusterHerdBenchmark nodes=1", null),
    new Line("6. (context) clustered on 1 node (baseline: node-local, scenario 1)", "ClusterHerdBenchmark nodes=1",
      "node-local", "HerdBenchmark callers=context contender=singleFlight", null));

  private BenchReport() {
  }

  public static void main(String[] args) throws IOException {
    Path docs = Path.of(System.getProperty("bench.docs", "docs/bench"));
    List<Run> runs = new ArrayList<>();
    for (String dir : System.getProperty("bench.runs", "target/bench").split(",")) {
      runs.add(Run.read(Path.of(dir.trim())));
    }
    Files.writeString(docs.resolve("results.svg"), svg(runs));
    rewrite(docs.resolve("RESULTS.md"), Map.of("runs", runList(runs), "targets", table(runs), "measurements", measurements(runs)));
    rewrite(docs.resolve("README-section.md"), Map.of("measured", "Measured on " + machine(runs) + ", " + dates(runs) + ", "
      + runs.size() + (runs.size() == 1 ? " run" : " runs") + " (mean, and the range of the runs in parentheses):\n\n"
      + "![benchmark chart](docs/bench/results.svg)\n\n" + table(runs)));
    System.out.println("Wrote results.svg, RESULTS.md and README-section.md in " + docs.toAbsolutePath());
  }

  // ---- the runs -------------------------------------------------------------------------------

  /** A figure of a run in its unit; {@code error} is JMH's 99.9% error, NaN where there is none. */
  private record Measure(double value, double error, String unit, String note) {

    @Override
    public String toString() {
      return format(value, unit) + (Double.isNaN(error) ? "" : " ± " + format(error, unit)) + (note.isEmpty() ? "" : " (" + note + ")");
    }
  }

  /**
   * The figures of one run of {@link BenchMain} by key: a JMH benchmark's class and its parameters
   * ("HerdBenchmark callers=thread contender=singleFlight"), "cpu " and that for a throughput's CPU time per call, or
   * "memory" and the parameters of a row of scenario 2.
   */
  private record Run(Path dir, JsonObject info, Map<String, Measure> measures) {

    static Run read(Path dir) throws IOException {
      Map<String, Measure> measures = new LinkedHashMap<>();
      for (JsonObject result : objects(dir.resolve("results.json"))) {
        String[] names = result.getString("benchmark").split("\\.");
        JsonObject params = result.getJsonObject("params", new JsonObject());
        String key = names[names.length - 2] + params.fieldNames().stream().sorted()
          .map(name -> " " + name + "=" + params.getString(name)).collect(Collectors.joining());
        JsonObject metric = result.getJsonObject("primaryMetric");
        JsonArray forks = metric.getJsonArray("rawData");
        measures.put(key, result.getString("mode").equals("ss")
          ? new Measure(metric.getJsonObject("scorePercentiles").getDouble("50.0"), Double.NaN, "µs", "median of the shots; "
            + forks.size() * forks.getJsonArray(0).size() + " shots, mean " + number(metric.getDouble("score")) + " ± "
            + number(metric.getDouble("scoreError")))
          : new Measure(metric.getDouble("score"), metric.getDouble("scoreError"), "ops/s", ""));
        JsonObject cpu = result.getJsonObject("secondaryMetrics", new JsonObject());
        if (cpu.containsKey("cpuNanos")) {
          double calls = cpu.getJsonObject("calls").getDouble("score");
          measures.put("cpu " + key, new Measure(cpu.getJsonObject("cpuNanos").getDouble("score") / calls, Double.NaN, "ns",
            "over " + number(calls) + " calls"));
        }
      }
      for (JsonObject row : objects(dir.resolve("memory.json"))) {
        measures.put("memory callers=" + row.getString("callers") + " contender=" + row.getString("contender") + " timeout="
          + row.getBoolean("timeout"), new Measure(row.getDouble("bytesPerCaller"), Double.NaN, "B",
          "left after the callers were served: " + row.getLong("leftAfterServedBytes") + " B in all"));
      }
      return new Run(dir, new JsonObject(Files.readString(dir.resolve("run.json"))), measures);
    }

    /** @return the objects of a file that holds a JSON array, none if there is no such file */
    private static List<JsonObject> objects(Path file) throws IOException {
      return Files.exists(file) ? new JsonArray(Files.readString(file)).stream().map(JsonObject.class::cast).toList() : List.of();
    }

    Measure measure(String key) {
      if (!measures.containsKey(key)) {
        throw new IllegalStateException("run " + dir + " has no " + key);
      }
      return measures.get(key);
    }
  }

  /** @return the mean of a figure over the runs and, if there are several, the least and the greatest in parentheses */
  private static String spread(List<Run> runs, ToDoubleFunction<Run> figure, String unit) {
    DoubleSummaryStatistics stats = runs.stream().mapToDouble(figure).summaryStatistics();
    return format(stats.getAverage(), unit) + (runs.size() == 1 ? "" : " (" + amount(stats.getMin(), unit, stats.getAverage())
      + "–" + amount(stats.getMax(), unit, stats.getAverage()) + ")");
  }

  private static String spread(List<Run> runs, String key) {
    return spread(runs, run -> run.measure(key).value, runs.get(0).measure(key).unit);
  }

  // ---- the tables -----------------------------------------------------------------------------

  /** A row of the main table: the library's figure, its baseline's, and a target such as "≤ 3.00x" or "≤ 128 B", or null. */
  private record Line(String scenario, String mine, String baseName, String base, String target) {

    double ratio(Run run) {
      return run.measure(mine).value / run.measure(base).value;
    }

    /** @return whether the target bounds the ratio to the baseline ("≤ 3.00x") rather than the library's value ("≤ 128 B") */
    boolean onRatio() {
      return target.split(" ")[1].endsWith("x");
    }

    double bound() {
      return Double.parseDouble(target.split(" ")[1].replace("x", ""));
    }

    /** @return "met", "not met" or "met in k of n runs" */
    String verdict(List<Run> runs) {
      String relation = target.split(" ")[0];
      long met = runs.stream().mapToDouble(run -> onRatio() ? ratio(run) : run.measure(mine).value)
        .filter(value -> relation.equals("≤") ? value <= bound() : relation.equals("≥") ? value >= bound() : value > bound()).count();
      return met == runs.size() ? "met" : met == 0 ? "not met" : "met in " + met + " of " + runs.size() + " runs";
    }
  }

  private static String table(List<Run> runs) {
    return "| Scenario | SingleFlight | Baseline | Ratio | Target | Met? |\n| --- | ---: | ---: | ---: | --- | --- |\n"
      + LINES.stream().map(line -> "| " + String.join(" | ", line.scenario, spread(runs, line.mine), line.baseName + ": "
        + spread(runs, line.base), spread(runs, line::ratio, "x"), line.target == null ? "—" : line.target,
        line.target == null ? "—" : line.verdict(runs)) + " |\n").collect(Collectors.joining());
  }

  private static String measurements(List<Run> runs) {
    StringBuilder md = new StringBuilder("| Scenario | Contender |");
    for (int i = 1; i <= runs.size(); i++) {
      md.append(" Run ").append(i).append(" |");
    }
    md.append("\n| --- | --- |").append(" ---: |".repeat(runs.size())).append('\n');
    for (Panel panel : PANELS) {
      for (Series series : panel.series) {
        md.append("| ").append(panel.title).append(" | ").append(series.label).append(" | ")
          .append(runs.stream().map(run -> run.measure(series.key).toString()).collect(Collectors.joining(" | "))).append(" |\n");
      }
    }
    return md.toString();
  }

  private static String runList(List<Run> runs) {
    StringBuilder md = new StringBuilder("- Machine: " + machine(runs) + "\n- Date: " + dates(runs) + "\n- Runs:\n");
    for (int i = 0; i < runs.size(); i++) {
      JsonObject info = runs.get(i).info;
      md.append(String.format("  - run %d: %s to %s, %s mode, commit %s, load average (1, 5, 15 min) %s before, %s after\n", i + 1,
        info.getString("started"), info.getString("finished"), info.getBoolean("quick") ? "quick" : "full", info.getString("commit"),
        info.getString("loadAverageBefore"), info.getString("loadAverageAfter")));
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

  /** Replaces what stands between the lines {@code <!-- bench:NAME -->} and {@code <!-- /bench:NAME -->} of a file. */
  private static void rewrite(Path file, Map<String, String> parts) throws IOException {
    String text = Files.readString(file);
    for (Map.Entry<String, String> part : parts.entrySet()) {
      int start = text.indexOf("<!-- bench:" + part.getKey() + " -->\n");
      int end = text.indexOf("<!-- /bench:" + part.getKey() + " -->", start);
      if (start < 0 || end < 0) {
        throw new IllegalStateException(file + " has no part bench:" + part.getKey());
      }
      text = text.substring(0, text.indexOf('\n', start) + 1) + "\n" + part.getValue() + "\n" + text.substring(end);
    }
    Files.writeString(file, text);
  }

  // ---- the chart ------------------------------------------------------------------------------

  /** A panel of the chart: a scenario's figures, in one unit. */
  private record Panel(String title, Series... series) {

    int height() {
      return 64 + 22 * series.length;
    }
  }

  /** A bar of the chart: a figure, the library's (blue) or a baseline's (grey). */
  private record Series(String label, String key, boolean library) {
  }

  /** How the chart names each unit. */
  private static final Map<String, String> UNITS = Map.of("µs", "microseconds until the last caller has the value, lower is better",
    "B", "bytes per waiting caller, lower is better", "ops/s", "calls per second, higher is better",
    "ns", "nanoseconds of CPU per call, lower is better");

  private static String svg(List<Run> runs) {
    int height = 50 + PANELS.stream().mapToInt(Panel::height).sum();
    SVGGraphics2D svg = new SVGGraphics2D(1000, height);
    svg.setDefsKeyPrefix("bench");
    svg.setGeomDoubleConverter(value -> String.format(Locale.ROOT, "%.1f", value));
    svg.setBackground(Color.WHITE);
    svg.clearRect(0, 0, 1000, height);
    svg.setPaint(Color.BLACK);
    svg.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    svg.drawString("vertx-singleflight benchmarks, " + dates(runs) + ", " + runs.size() + (runs.size() == 1 ? " run" : " runs")
      + ", commit " + runs.stream().map(run -> run.info.getString("commit")).distinct().collect(Collectors.joining(", ")), 10, 20);
    svg.drawString(machine(runs) + "; blue: vertx-singleflight, grey: baselines", 10, 38);
    int y = 50;
    for (Panel panel : PANELS) {
      chart(panel, runs).draw(svg, new Rectangle(0, y, 1000, panel.height()));
      y += panel.height();
    }
    return svg.getSVGDocument();
  }

  private static JFreeChart chart(Panel panel, List<Run> runs) {
    DefaultCategoryDataset means = new DefaultCategoryDataset();
    for (Series series : panel.series) {
      means.addValue(runs.stream().mapToDouble(run -> run.measure(series.key).value).average().orElseThrow(), "mean", series.label);
    }
    JFreeChart chart = ChartFactory.createBarChart(panel.title, null, null, means, PlotOrientation.HORIZONTAL, false, false, false);
    chart.addSubtitle(new TextTitle(UNITS.get(runs.get(0).measure(panel.series[0].key).unit)));
    CategoryPlot plot = chart.getCategoryPlot();
    BarRenderer bars = new BarRenderer() {
      @Override
      public Paint getItemPaint(int row, int column) {
        return panel.series[column].library ? new Color(0x2f6db5) : new Color(0xa0a0a0);
      }
    };
    bars.setDefaultPositiveItemLabelPosition(plot.getRenderer().getDefaultPositiveItemLabelPosition());
    bars.setDefaultItemLabelsVisible(true);
    bars.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator() {
      @Override
      public String generateLabel(CategoryDataset dataset, int row, int column) {
        return spread(runs, panel.series[column].key);
      }
    });
    plot.setRenderer(bars);
    LINES.stream().filter(line -> line.target != null && !line.onRatio())
      .filter(line -> Arrays.stream(panel.series).anyMatch(series -> series.key.equals(line.mine)))
      .collect(Collectors.toMap(Line::target, Line::bound, (same, target) -> same))
      .forEach((target, bound) -> plot.addRangeMarker(targetLine(target, bound), Layer.BACKGROUND));
    AxisSpace labels = new AxisSpace();
    labels.setLeft(260);
    plot.setFixedDomainAxisSpace(labels);
    plot.getRangeAxis().setVisible(false);
    plot.getDomainAxis().setTickMarksVisible(false);
    plot.getRangeAxis().setUpperMargin(runs.size() == 1 ? 0.15 : 0.4);
    THEME.apply(chart);
    plot.setRangeGridlinesVisible(false);
    plot.setOutlineVisible(false);
    return chart;
  }

  /** A dashed red line at a target on the library's own figures, such as "≤ 128 B". */
  private static ValueMarker targetLine(String target, double bound) {
    ValueMarker line = new ValueMarker(bound, Color.RED, new BasicStroke(1, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {4, 3}, 0));
    line.setLabel("target " + target);
    line.setLabelPaint(Color.RED);
    line.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    line.setLabelBackgroundColor(Color.WHITE);
    line.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
    line.setLabelTextAnchor(TextAnchor.TOP_LEFT);
    return line;
  }

  /** The look of every panel: JFreeChart's own, in fonts that every SVG viewer has, on white. */
  private static final StandardChartTheme THEME = new StandardChartTheme("bench");

  static {
    THEME.setExtraLargeFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    THEME.setLargeFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    THEME.setRegularFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    THEME.setPlotBackgroundPaint(Color.WHITE);
  }

  // ---- numbers --------------------------------------------------------------------------------

  /** @return {@code value} and its unit: "505 µs", "29.6 B", "2.70 M/s", "704 k/s", "3.84x" */
  private static String format(double value, String unit) {
    return amount(value, unit, value) + switch (unit) {
      case "ops/s" -> value >= 1e6 ? " M/s" : " k/s";
      case "x" -> "x";
      default -> " " + unit;
    };
  }

  /** @return {@code value} without its unit, scaled as {@code reference} would be (k/s or M/s) */
  private static String amount(double value, String unit, double reference) {
    return switch (unit) {
      case "ops/s" -> String.format(Locale.ROOT, reference >= 1e6 ? "%.2f" : "%.0f", value / (reference >= 1e6 ? 1e6 : 1e3));
      case "x" -> String.format(Locale.ROOT, "%.2f", value);
      default -> number(value);
    };
  }

  /** Three significant digits at most, no exponent. */
  private static String number(double value) {
    return String.format(Locale.ROOT, Math.abs(value) >= 100 ? "%.0f" : Math.abs(value) >= 10 ? "%.1f" : "%.2f", value);
  }
}
