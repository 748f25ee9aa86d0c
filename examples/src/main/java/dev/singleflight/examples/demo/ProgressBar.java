package dev.singleflight.examples.demo;

import java.io.PrintStream;

/**
 * ProgressBar shows how many requests of a load phase were answered: on a terminal a bar redrawn in
 * place, {@code \r/users/:id  [#####     ] 512/1000}; elsewhere only one line once the phase is done.
 * Used by one thread.
 */
final class ProgressBar {

  private static final int WIDTH = 30;

  private final PrintStream out;
  private final boolean terminal;
  private final String label;
  private final int total;

  ProgressBar(PrintStream out, boolean terminal, String label, int total) {
    this.out = out;
    this.terminal = terminal;
    this.label = label;
    this.total = total;
  }

  /** Redraws the bar with {@code done} of the total answered; nothing when not on a terminal. */
  void show(int done) {
    if (terminal) {
      int filled = (int) ((long) WIDTH * done / total);
      out.print("\r" + String.format("%-18s", label) + " [" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] " + done + "/" + total);
      out.flush();
    }
  }

  /** Draws the full bar and ends its line. */
  void finish() {
    if (terminal) {
      show(total);
      out.println();
    } else {
      out.println(label + " " + total + "/" + total + " answered");
    }
  }
}
