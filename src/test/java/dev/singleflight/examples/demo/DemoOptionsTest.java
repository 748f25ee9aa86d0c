package dev.singleflight.examples.demo;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing of the stampede demo's flags. */
class DemoOptionsTest {

  @Test
  void noFlagsGiveTheDefaultsOnAnyFreePort() {
    DemoOptions options = parse();
    assertEquals(1000, options.requests());
    assertEquals(5, options.ids());
    assertFalse(options.serve());
    assertEquals(0, options.port());
  }

  @Test
  void serveListensOn8080UnlessAPortIsGiven() {
    assertEquals(8080, parse("--serve").port());
    assertEquals(9000, parse("--serve", "--port", "9000").port());
  }

  @Test
  void valuesComeAsTheNextArgumentOrAfterAnEqualsSign() {
    DemoOptions options = parse("--requests=300", "--ids", "2", "--port=0", "--serve");
    assertEquals(300, options.requests());
    assertEquals(2, options.ids());
    assertTrue(options.serve());
    assertEquals(0, options.port());
  }

  @Test
  void valuesOutOfBoundsAreRefusedWithTheFlagAndTheBounds() {
    ParameterException requests = assertThrows(ParameterException.class, () -> parse("--requests", "5001"));
    assertEquals("Invalid value for option '--requests': 5001 is not in 1..5000", requests.getMessage());
    ParameterException port = assertThrows(ParameterException.class, () -> parse("--port=-1"));
    assertEquals("Invalid value for option '--port': -1 is not in 0..65535", port.getMessage());
  }

  private static DemoOptions parse(String... args) {
    return CommandLine.populateCommand(new DemoOptions(), args);
  }
}
