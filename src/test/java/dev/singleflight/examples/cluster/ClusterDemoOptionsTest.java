package dev.singleflight.examples.cluster;

import dev.singleflight.examples.CommandLine.UsageException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing of the cluster demo's flags. */
class ClusterDemoOptionsTest {

  @Test
  void noFlagsGiveThreeNodes900RequestsAndFiveIds() throws UsageException {
    assertEquals(new ClusterDemoOptions(3, 900, 5, false), ClusterDemoOptions.parse(new String[0]));
  }

  @Test
  void valuesComeAsTheNextArgumentOrAfterAnEqualsSign() throws UsageException {
    assertEquals(new ClusterDemoOptions(2, 60, 3, false),
      ClusterDemoOptions.parse(new String[] {"--nodes=2", "--requests", "60", "--ids=3"}));
  }

  @Test
  void helpStopsTheParsing() throws UsageException {
    assertTrue(ClusterDemoOptions.parse(new String[] {"--help", "--bogus"}).help());
  }
}
