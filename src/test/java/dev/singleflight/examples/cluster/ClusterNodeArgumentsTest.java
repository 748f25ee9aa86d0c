package dev.singleflight.examples.cluster;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Parsing of a cluster node's arguments, which the launcher writes with {@link ClusterNode.Settings#toArgs()}. */
class ClusterNodeArgumentsTest {

  @Test
  void aNodeReadsBackTheSettingsTheLauncherWrote() {
    ClusterNode.Settings settings = new ClusterNode.Settings(1, "singleflight-demo-1", List.of(5701, 5702, 5703));
    assertEquals(List.of("1", "singleflight-demo-1", "5701,5702,5703"), settings.toArgs());
    assertEquals(settings, parse(settings.toArgs().toArray(String[]::new)).settings());
  }

  @Test
  void anIndexThatNamesNoPortIsRefused() {
    ParameterException e = assertThrows(ParameterException.class, () -> parse("2", "demo", "5701,5702").settings());
    assertEquals("Invalid value for INDEX: 2 is not in 0..1, one per port in PORTS", e.getMessage());
  }

  @Test
  void missingOrMalformedArgumentsAreRefused() {
    assertThrows(ParameterException.class, () -> parse("0", "demo"));
    assertThrows(ParameterException.class, () -> parse("0", "demo", "5701,http"));
    assertThrows(ParameterException.class, () -> parse("zero", "demo", "5701"));
  }

  private static ClusterNode parse(String... args) {
    return CommandLine.populateCommand(new ClusterNode(), args);
  }
}
