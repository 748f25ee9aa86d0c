package dev.singleflight.examples.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster stampede demo end to end: three node JVMs started from this JVM's class path, as
 * {@code mvn -Pcluster-demo verify} starts them, and its command line.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterStampedeDemoTest {

  private static final Pattern NODE_LINE = Pattern.compile("^ {2}node (\\d+): pid (\\d+), http://127\\.0\\.0\\.1:\\d+$", Pattern.MULTILINE);

  @Test
  void threeNodesRunOneQueryPerIdClusterWideOnePerIdAndNodeLocallyAndOnePerRequestWithout() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = ClusterStampedeDemo.run(new String[] {"--nodes", "3", "--requests", "60", "--ids=3"}, print(out), print(err));
    String printed = out.toString(StandardCharsets.UTF_8);
    String report = printed + err.toString(StandardCharsets.UTF_8);
    assertEquals(ClusterStampedeDemo.OK, code, report);

    // 60 requests, 20 per node, each node asked for each of the 3 ids: 3 queries in the cluster,
    // 3 per node (9) node-locally, 60 without single flight.
    assertEquals(List.of("total", "60", "3", "9", "60"), row(printed, "total"), report);
    assertEquals(List.of("expected", "3", "9", "60"), row(printed, "expected"), report);
    for (int node = 0; node < 3; node++) {
      List<String> cells = row(printed, String.valueOf(node));
      assertEquals(List.of("20", "3", "20"), List.of(cells.get(1), cells.get(3), cells.get(4)), report);
    }
    for (String route : List.of("/users/:id", "/local/users/:id", "/direct/users/:id")) {
      assertTrue(printed.contains(route + " 60/60 answered"), report);
    }

    // Every node was its own process, and none outlives the run.
    Matcher nodes = NODE_LINE.matcher(printed);
    int started = 0;
    while (nodes.find()) {
      assertEquals(started++, Integer.parseInt(nodes.group(1)), report);
      long pid = Long.parseLong(nodes.group(2));
      assertTrue(pid != ProcessHandle.current().pid(), report);
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "node pid " + pid + " is still alive");
    }
    assertEquals(3, started, report);
  }

  @Test
  void badCommandLinesPrintTheReasonAndTheUsageToStderrAndExitTwo() {
    String[][] badArgs = {
      {"--bogus"}, {"--nodes", "0"}, {"--nodes", "6"}, {"--requests", "0"}, {"--requests", "many"},
      {"--requests"}, {"--ids", "0"}, {"--ids=1001"}, {"extra"}};
    for (String[] args : badArgs) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code = ClusterStampedeDemo.run(args, print(out), print(err));
      String message = err.toString(StandardCharsets.UTF_8);
      String label = Arrays.toString(args);
      assertEquals(ClusterStampedeDemo.USAGE, code, label);
      // The reason first, naming the flag or argument at fault, then the usage.
      String reason = message.lines().findFirst().orElse("");
      assertTrue(reason.contains(args[0].split("=")[0]), label + ": " + message);
      assertTrue(message.contains(System.lineSeparator() + "Usage: ClusterStampedeDemo "), label + ": " + message);
      assertFalse(message.contains("Exception") || message.contains("\tat "), label + ": " + message);
      assertEquals("", out.toString(StandardCharsets.UTF_8), label);
    }
  }

  @Test
  void helpPrintsTheUsageAndExitsZero() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(ClusterStampedeDemo.OK, ClusterStampedeDemo.run(new String[] {"--help"}, print(out), print(err)));
    assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: ClusterStampedeDemo "));
    assertEquals("", err.toString(StandardCharsets.UTF_8));
  }

  private static PrintStream print(ByteArrayOutputStream bytes) {
    return new PrintStream(bytes, true, StandardCharsets.UTF_8);
  }

  /** @return the cells of the table row whose first cell is {@code first} */
  private static List<String> row(String printed, String first) {
    return printed.lines()
      .map(line -> List.of(line.trim().split("\\s+")))
      .filter(cells -> cells.get(0).equals(first))
      .findFirst()
      .orElseThrow(() -> new AssertionError("no row " + first + " in\n" + printed));
  }
}
