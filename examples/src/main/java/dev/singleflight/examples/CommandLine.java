package dev.singleflight.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * CommandLine splits the flags of the demos: {@code --flag value} or {@code --flag=value} for flags
 * that take a value, {@code --flag} alone for the others, and {@code --help}, which ends the parsing
 * (what follows it is not checked).
 */
public final class CommandLine {

  /** A flag that is unknown, lacks its value, or has a value out of range. */
  public static final class UsageException extends Exception {

    /** @param message what is wrong, for the user */
    public UsageException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * One flag as given.
   *
   * @param name the flag, with its dashes
   * @param value its value, or {@code null} for a flag that takes none
   */
  public record Flag(String name, String value) {

    /**
     * @return the value as an integer in {@code min..max}
     * @throws UsageException when it is not an integer in range
     */
    public int integer(int min, int max) throws UsageException {
      int n;
      try {
        n = Integer.parseInt(value.trim());
      } catch (NumberFormatException e) {
        throw new UsageException(name + " needs an integer, got '" + value + "'");
      }
      if (n < min || n > max) {
        throw new UsageException(name + " must be in " + min + ".." + max + ", got " + n);
      }
      return n;
    }
  }

  private CommandLine() {
  }

  /**
   * Splits {@code args} into flags, up to and including {@code --help}.
   *
   * @param withValue the flags that take a value
   * @param withoutValue the flags that take none, besides {@code --help}
   * @throws UsageException on an unknown argument, a missing value, or a value given to a flag that takes none
   */
  public static List<Flag> flags(String[] args, Set<String> withValue, Set<String> withoutValue) throws UsageException {
    List<Flag> flags = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
      String value = null;
      int eq = name.indexOf('=');
      if (name.startsWith("--") && eq > 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (name.equals("--help")) {
        flags.add(new Flag(name, null));
        return flags;
      }
      if (withValue.contains(name)) {
        if (value == null) {
          if (i + 1 == args.length) {
            throw new UsageException(name + " needs a value");
          }
          value = args[++i];
        }
      } else if (withoutValue.contains(name)) {
        if (value != null) {
          throw new UsageException(name + " takes no value");
        }
      } else {
        throw new UsageException("unknown argument '" + args[i] + "'");
      }
      flags.add(new Flag(name, value));
    }
    return flags;
  }
}
