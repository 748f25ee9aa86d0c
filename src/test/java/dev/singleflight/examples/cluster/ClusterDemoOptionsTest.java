package dev.singleflight.examples.cluster;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing of the cluster demo's flags. */
class ClusterDemoOptionsTest {

  @Test
  void noFlagsGiveThreeNodes900RequestsAndFiveIds() {
    ClusterDemoOptions options = CommandLine.populateCommand(new ClusterDemoOptions());
    assertEquals(3, options.nodes());
    assertEquals(900, options.requests());
    assertEquals(5, options.ids());
  }

  @Test
  void valuesComeAsTheNextArgumentOrAfterAnEqualsSign() {
    ClusterDemoOptions options = CommandLine.populateCommand(new ClusterDemoOptions(), "--nodes=2", "--requests", "60", "--ids=3");
    assertEquals(2, options.nodes());
    assertEquals(60, options.requests());
    assertEquals(3, options.ids());
  }

  @Test
  void valuesOutOfBoundsAreRefusedWithTheFlagAndTheBounds() {
    ParameterException nodes = assertThrows(ParameterException.class,
      () -> CommandLine.populateCommand(new ClusterDemoOptions(), "--nodes", "6"));
    assertEquals("Invalid value for option '--nodes': 6 is not in 1..5", nodes.getMessage());
  }

  @Test
  void helpStopsTheParsing() {
    assertTrue(new CommandLine(new ClusterDemoOptions()).parseArgs("--help", "--bogus").isUsageHelpRequested());
  }
}
