package dev.singleflight.examples.demo;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stampede demo's command line: exit codes, usage, and the printed table. */
class StampedeDemoTest {

  @Test
  void runPrintsTheMachineTheTableAndTheMetersAndExitsZero() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = StampedeDemo.run(new String[] {"--requests", "40", "--ids=3", "--cold-ids", "30"}, print(out), print(err), false);
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(StampedeDemo.OK, code, () -> printed + err);
    assertTrue(printed.contains("cores"), printed);
    assertEquals(List.of("/users/:id", "yes", "40", "3"), row(printed, "/users/:id").subList(0, 4));
    assertEquals(List.of("/direct/users/:id", "no", "40", "40"), row(printed, "/direct/users/:id").subList(0, 4));
    assertTrue(printed.contains("single-flight meters: 3 calls led an execution, 37 joined one"), printed);
    assertTrue(printed.contains("cold start: 30 distinct ids at once, 2 requests each, per route"), printed);
    assertEquals(List.of("/direct/users/:id", "none", "60", "60"), row(printed, "/direct/users/:id", 1).subList(0, 4));
    assertEquals(List.of("/users/:id", "single", "flight", "60", "30"), row(printed, "/users/:id", 1).subList(0, 5));
    assertEquals(List.of("/batched/users/:id", "batch", "60"), row(printed, "/batched/users/:id").subList(0, 3));
  }

  @Test
  void traceThenPrintsTheSpansOfThreeRequestsCollapsedIntoOneExecutionAndTheLinksOfTheTwoWaits() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = StampedeDemo.run(new String[] {"--requests", "20", "--trace"}, print(out), print(err), false);
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(StampedeDemo.OK, code, () -> printed + err);
    List<String> spans = printed.lines().filter(line -> line.startsWith("'")).toList();
    List<String> executions = spans.stream().filter(line -> line.startsWith("'singleflight.execute' : ")).toList();
    assertEquals(1, executions.size(), printed);
    assertTrue(executions.get(0).contains("singleflight.waiters=3"), printed);
    assertEquals(2, spans.stream().filter(line -> line.startsWith("'singleflight.wait' : ")).count(), printed);
    assertEquals(3, spans.stream().filter(line -> line.startsWith("'GET' : ")).count(), printed);
    // "'name' : <trace id> <span id> KIND ...": each wait is linked to the execution's span.
    String executionSpan = executions.get(0).split(" ")[3];
    List<String> links = printed.lines().filter(line -> line.startsWith("link: 'singleflight.wait'")).toList();
    assertEquals(2, links.size(), printed);
    assertTrue(links.stream().allMatch(link -> link.contains("-> span " + executionSpan)), printed);
  }

  @Test
  void badCommandLinesPrintTheReasonAndTheUsageToStderrAndExitTwo() {
    String[][] badArgs = {
      {"--bogus"}, {"--requests", "0"}, {"--requests", "-5"}, {"--requests", "many"}, {"--requests"},
      {"--ids", "0"}, {"--ids", String.valueOf(UserDao.USERS + 1)}, {"--port", "70000"}, {"--serve=yes"}, {"extra"},
      {"--slow-percent", "101"}, {"--slow-ms", "0"}, {"--hedge-after", "0"}, {"--waves", "0"}};
    for (String[] args : badArgs) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code = StampedeDemo.run(args, print(out), print(err), false);
      String message = err.toString(StandardCharsets.UTF_8);
      String label = Arrays.toString(args);
      assertEquals(StampedeDemo.USAGE, code, label);
      // The reason first, naming the flag or argument at fault, then the usage.
      String reason = message.lines().findFirst().orElse("");
      assertTrue(reason.contains(args[0].split("=")[0]), label + ": " + message);
      assertTrue(message.contains(System.lineSeparator() + "Usage: StampedeDemo "), label + ": " + message);
      assertFalse(message.contains("Exception") || message.contains("\tat "), label + ": " + message);
      assertEquals("", out.toString(StandardCharsets.UTF_8), label);
    }
  }

  @Test
  void helpPrintsTheUsageAndExitsZero() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(StampedeDemo.OK, StampedeDemo.run(new String[] {"--help"}, print(out), print(err), false));
    assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: StampedeDemo "));
    assertEquals("", err.toString(StandardCharsets.UTF_8));
  }

  private static PrintStream print(ByteArrayOutputStream bytes) {
    return new PrintStream(bytes, true, StandardCharsets.UTF_8);
  }

  /** @return the cells of the first table row that starts with {@code route} */
  private static List<String> row(String printed, String route) {
    return row(printed, route, 0);
  }

  /** @return the cells of the table row that starts with {@code route}, skipping {@code skip} such rows */
  private static List<String> row(String printed, String route, int skip) {
    return printed.lines()
      .filter(line -> line.startsWith(route + " "))
      .skip(skip)
      .map(line -> List.of(line.trim().split("\\s+")))
      .findFirst()
      .orElseThrow(() -> new AssertionError("no row " + route + " in\n" + printed));
  }
}
