package dev.singleflight.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.svg.SVGGraphics2D;

import java.awt.Color;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;
import static java.util.stream.Collectors.groupingBy;
import static java.util.stream.Collectors.joining;
import static java.util.stream.Collectors.toList;

/**
 * Turns a run of {@link BenchMain} (system property {@code bench.run}, default {@code target/bench}) into the files of
 * {@code bench.docs} (default {@code docs/bench}): {@code results.svg}, a JFreeChart panel a benchmark; the tables of
 * {@code RESULTS.md} and of the README (two levels up) between their lines {@code <!-- bench:NAME -->} and
 * {@code <!-- /bench:NAME -->} (the prose is kept by hand), the main one from the rows and targets of {@code targets.tsv}.
 */
public final class BenchReport {

  /** A figure in its unit, and how "Every measurement" gives it (with JMH's error or a note). */
  private record Measure(double value, String unit, String text) { }

  private final JsonObject run;
  /** Every figure of the run by key (see the constructor), in the order of the keys. */
  private final Map<String, Measure> figures = new TreeMap<>();

  public static void main(String[] args) throws IOException {
    BenchReport report = new BenchReport(Path.of(System.getProperty("bench.run", "target/bench")));
    Path docs = Path.of(System.getProperty("bench.docs", "docs/bench"));
    String table = report.table(Files.readAllLines(docs.resolve("targets.tsv")));
    Files.writeString(docs.resolve("results.svg"), report.svg());
    String runs = String.format("- Machine: %s\n- Run: %s to %s, %s mode, commit %s, load average (1, 5, 15 min) %s before, %s after\n",
      report.machine(), report.run.getString("started"), report.run.getString("finished"), report.run.getBoolean("quick") ? "quick" : "full",
      report.run.getString("commit"), report.run.getString("loadAverageBefore"), report.run.getString("loadAverageAfter"));
    rewrite(docs.resolve("RESULTS.md"), Map.of("runs", runs, "targets", table, "measurements", report.measurements()));
    rewrite(docs.resolve("../../README.md"), Map.of("measured", "Measured on " + report.machine() + ", "
      + report.run.getString("started").substring(0, 10) + ":\n\n![benchmark chart](docs/bench/results.svg)\n\n" + table));
    System.out.println("Wrote results.svg, RESULTS.md and README.md in " + docs.toAbsolutePath());
  }

  /** Reads a run's figures, each by a key: "HerdBenchmark callers=thread contender=singleFlight", "cpu " and such, "memory ...". */
  private BenchReport(Path dir) throws IOException {
    run = new JsonObject(Files.readString(dir.resolve("run.json")));
    for (JsonObject result : objects(dir.resolve("results.json"))) {
      String[] names = result.getString("benchmark").split("\\.");
      JsonObject params = result.getJsonObject("params", new JsonObject()), metric = result.getJsonObject("primaryMetric");
      String key = names[names.length - 2] + params.fieldNames().stream().sorted().map(name -> " " + name + "=" + params.getString(name))
        .collect(joining());
      double score = metric.getDouble("score"), error = metric.getDouble("scoreError");
      if (result.getString("mode").equals("ss")) {
        int shots = metric.getJsonArray("rawData").stream().mapToInt(fork -> ((JsonArray) fork).size()).sum();
        add(key, metric.getJsonObject("scorePercentiles").getDouble("50.0"), "µs",
          " (median of the shots; " + shots + " shots, mean " + number(score) + " ± " + number(error) + ")");
      } else if (result.getString("mode").equals("sample")) {
        for (String p : List.of("50", "99")) {
          add(key + " p" + p, metric.getJsonObject("scorePercentiles").getDouble(p + ".0"), "µs", " (sampled; mean " + number(score) + ")");
        }
      } else {
        add(key, score, "ops/s", " ± " + format(error, "ops/s"));
      }
      JsonObject cpu = result.getJsonObject("secondaryMetrics", new JsonObject());
      if (cpu.containsKey("cpuNanos")) {
        double calls = cpu.getJsonObject("calls").getDouble("score");
        add("cpu " + key, cpu.getJsonObject("cpuNanos").getDouble("score") / calls, "ns", " (over " + number(calls) + " calls)");
      }
    }
    for (JsonObject row : objects(dir.resolve("memory.json"))) {
      add("memory callers=" + row.getString("callers") + " contender=" + row.getString("contender") + " timeout=" + row.getBoolean("timeout"),
        row.getDouble("bytesPerCaller"), "B", " (left after the callers were served: " + row.getLong("leftAfterServedBytes") + " B in all)");
    }
  }

  private void add(String key, double value, String unit, String note) {
    figures.put(key, new Measure(value, unit, format(value, unit) + note));
  }

  /** @return the objects of a file that holds a JSON array, none if there is no such file */
  private static List<JsonObject> objects(Path file) throws IOException {
    return Files.exists(file) ? new JsonArray(Files.readString(file)).stream().map(JsonObject.class::cast).toList() : List.of();
  }

  /** @return the main table: a row a line of targets.tsv after its header (scenario, figure, baseline, its figure, target) */
  private String table(List<String> targets) {
    return "| Scenario | SingleFlight | Baseline | Ratio | Target | Met? |\n| --- | ---: | ---: | ---: | --- | --- |\n"
      + targets.stream().skip(1).map(line -> line.split("\t")).map(cell -> {
        Measure mine = requireNonNull(figures.get(cell[1]), cell[1]), base = requireNonNull(figures.get(cell[3]), cell[3]);
        double ratio = mine.value() / base.value();
        return "| " + String.join(" | ", cell[0], format(mine.value(), mine.unit()), cell[2] + ": " + format(base.value(), base.unit()),
          format(ratio, "x"), cell[4], verdict(cell[4].split(" "), ratio, mine.value())) + " |\n";
      }).collect(joining());
  }

  /** @return "met", "not met" or, with no target, "—"; a target bounds the ratio ("≤ 3.00x", "> 1.00x (grows)") or the figure */
  private static String verdict(String[] target, double ratio, double figure) {
    double value = target.length > 1 && target[1].endsWith("x") ? ratio : figure;
    double bound = target.length > 1 ? Double.parseDouble(target[1].replace("x", "")) : Double.NaN;
    return target.length < 2 ? "—" : (target[0].equals("≤") ? value <= bound : target[0].equals("≥") ? value >= bound : value > bound)
      ? "met" : "not met";
  }

  private String measurements() {
    return "| Figure | Measured |\n| --- | ---: |\n" + figures.entrySet().stream()
      .map(figure -> "| " + figure.getKey() + " | " + figure.getValue().text() + " |\n").collect(joining());
  }

  private String machine() {
    return run.getInteger("cores") + " cores (" + run.getString("cpu") + "), " + run.getLong("memoryGiB") + " GiB, "
      + run.getString("jvm") + ", " + run.getString("os");
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

  /** @return the chart: a panel a benchmark (the first word of a figure's key), a bar a figure, blue for the library's */
  private String svg() {
    Map<String, List<String>> panels = figures.keySet().stream().collect(groupingBy(key -> key.split(" ")[0], TreeMap::new, toList()));
    int height = 30 + panels.values().stream().mapToInt(keys -> 60 + 20 * keys.size()).sum(), y = 30;
    SVGGraphics2D svg = new SVGGraphics2D(1000, height);
    svg.setGeomDoubleConverter(value -> String.format(Locale.ROOT, "%.1f", value));
    svg.drawString("vertx-singleflight benchmarks, commit " + run.getString("commit") + ", " + run.getString("started").substring(0, 10)
      + ", " + run.getInteger("cores") + " cores; blue: vertx-singleflight, grey: baselines", 10, 20);
    Function<String, String> label = key -> key.substring(key.indexOf(' ') + 1).replace("contender=", "").replace("Benchmark", "");
    for (Map.Entry<String, List<String>> panel : panels.entrySet()) {
      DefaultCategoryDataset bars = new DefaultCategoryDataset();
      bars.addValue(null, "library", label.apply(panel.getValue().get(0))); // the library's row first: blue
      for (String key : panel.getValue()) {
        boolean library = !key.matches(".*contender=(handRolled|caffeine|eventBus|executeBlocking|dataLoader).*");
        bars.addValue(figures.get(key).value(), library ? "library" : "baseline", label.apply(key));
      }
      String unit = figures.get(panel.getValue().get(0)).unit();
      JFreeChart chart = ChartFactory.createStackedBarChart(panel.getKey() + " (" + unit + (unit.equals("ops/s") ? ", higher" : ", lower")
        + " is better)", null, null, bars,
        PlotOrientation.HORIZONTAL, false, false, false);
      CategoryPlot plot = chart.getCategoryPlot();
      plot.getRenderer().setSeriesPaint(0, new Color(0x2f6db5));
      plot.getRenderer().setSeriesPaint(1, new Color(0xa0a0a0));
      plot.getRenderer().setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("#,##0.#")));
      plot.getRenderer().setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3, TextAnchor.CENTER_LEFT));
      plot.getRenderer().setDefaultItemLabelsVisible(true);
      plot.getDomainAxis().setMaximumCategoryLabelWidthRatio(0.4f);
      plot.getRangeAxis().setUpperMargin(0.2);
      plot.setBackgroundPaint(Color.WHITE);
      chart.draw(svg, new Rectangle(0, y, 1000, 60 + 20 * panel.getValue().size()));
      y += 60 + 20 * panel.getValue().size();
    }
    return svg.getSVGDocument();
  }

  /** @return {@code value} and its unit: "505 µs", "29.6 B", "2.70 M/s", "704 k/s", "3.84x" */
  private static String format(double value, String unit) {
    return switch (unit) {
      case "ops/s" -> value >= 1e6 ? String.format(Locale.ROOT, "%.2f M/s", value / 1e6) : String.format(Locale.ROOT, "%.0f k/s", value / 1e3);
      case "x" -> String.format(Locale.ROOT, "%.2fx", value);
      default -> number(value) + " " + unit;
    };
  }

  /** Three significant digits at most, no exponent. */
  private static String number(double value) {
    return String.format(Locale.ROOT, Math.abs(value) >= 100 ? "%.0f" : Math.abs(value) >= 10 ? "%.1f" : "%.2f", value);
  }
}
