package dev.singleflight.examples;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Flags holds the one check the examples' picocli command lines need beyond picocli's own: an
 * integer flag within bounds. Picocli reports a {@link ParameterException} like its own errors: the
 * reason, then the usage, on stderr, and exit code 2.
 */
public final class Flags {

  private Flags() {
  }

  /**
   * @param spec the command (or mixin) that declares the flag, injected by picocli with {@code @Spec}
   * @param flag the flag's name, e.g. {@code --port}
   * @param value the value given
   * @param min the smallest value allowed
   * @param max the largest value allowed
   * @return {@code value}, when it is in {@code min..max}
   * @throws ParameterException when it is not
   */
  public static int inRange(CommandSpec spec, String flag, int value, int min, int max) {
    if (value < min || value > max) {
      throw new ParameterException(spec.commandLine(),
        "Invalid value for option '" + flag + "': " + value + " is not in " + min + ".." + max);
    }
    return value;
  }
}
