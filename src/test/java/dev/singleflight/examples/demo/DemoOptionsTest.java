package dev.singleflight.examples.demo;

import dev.singleflight.examples.CommandLine.UsageException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Parsing of the stampede demo's flags. */
class DemoOptionsTest {

  @Test
  void noFlagsGiveTheDefaultsOnAnyFreePort() throws UsageException {
    assertEquals(new DemoOptions(1000, 5, false, 0, false), DemoOptions.parse(new String[0]));
  }

  @Test
  void serveListensOn8080UnlessAPortIsGiven() throws UsageException {
    assertEquals(8080, DemoOptions.parse(new String[] {"--serve"}).port());
    assertEquals(9000, DemoOptions.parse(new String[] {"--serve", "--port", "9000"}).port());
  }

  @Test
  void valuesComeAsTheNextArgumentOrAfterAnEqualsSign() throws UsageException {
    assertEquals(new DemoOptions(300, 2, true, 0, false),
      DemoOptions.parse(new String[] {"--requests=300", "--ids", "2", "--port=0", "--serve"}));
  }
}
