package dev.singleflight.examples.bridge;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bridge example's command line. A good one serves until the JVM stops, so these runs give it a
 * port already taken: the start fails and {@code run} returns, which shows the port was read.
 */
class BridgeCommandLineTest {

  @Test
  void thePortComesAsTheNextArgumentOrAfterAnEqualsSign() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      String port = String.valueOf(taken.getLocalPort());
      for (String[] args : new String[][] {{"--port", port}, {"--port=" + port}}) {
        Run run = run(args);
        String label = Arrays.toString(args);
        assertEquals(BridgeExample.FAILED, run.code(), label + ": " + run.err());
        assertTrue(run.err().startsWith("error: ") && run.err().contains("Address already in use"), label + ": " + run.err());
        assertEquals("", run.out(), label);
      }
    }
  }

  @Test
  void badCommandLinesPrintTheReasonAndTheUsageToStderrAndExitTwo() {
    String[][] badArgs = {{"--port", "70000"}, {"--port=-1"}, {"--port", "http"}, {"--port"}, {"--bogus"}, {"9000"}};
    for (String[] args : badArgs) {
      Run run = run(args);
      String label = Arrays.toString(args);
      assertEquals(BridgeExample.USAGE, run.code(), label);
      String reason = run.err().lines().findFirst().orElse("");
      assertTrue(reason.contains(args[0].split("=")[0]), label + ": " + run.err());
      assertTrue(run.err().contains(System.lineSeparator() + "Usage: BridgeExample "), label + ": " + run.err());
      assertFalse(run.err().contains("Exception") || run.err().contains("\tat "), label + ": " + run.err());
      assertEquals("", run.out(), label);
    }
  }

  @Test
  void helpPrintsTheUsageAndExitsZero() {
    Run run = run("--help");
    assertEquals(0, run.code());
    assertTrue(run.out().startsWith("Usage: BridgeExample "), run.out());
    assertEquals("", run.err());
  }

  private record Run(int code, String out, String err) {
  }

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = BridgeExample.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
