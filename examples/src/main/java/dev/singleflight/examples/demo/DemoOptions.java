package dev.singleflight.examples.demo;

/**
 * DemoOptions are the command-line flags of {@link StampedeDemo}, parsed and checked.
 *
 * @param requests concurrent requests sent to each route in the load phase
 * @param ids distinct user ids the requests ask for, round robin
 * @param serve whether to keep serving after the load phase
 * @param port the port to listen on; 0 picks a free one
 * @param help whether {@code --help} was asked for
 */
public record DemoOptions(int requests, int ids, boolean serve, int port, boolean help) {

  /** Default of {@code --requests}. */
  public static final int DEFAULT_REQUESTS = 1000;
  /** Largest {@code --requests}: each request holds its own connection, two file descriptors. */
  public static final int MAX_REQUESTS = 5000;
  /** Default of {@code --ids}. */
  public static final int DEFAULT_IDS = 5;
  /** Default of {@code --port} with {@code --serve}; without it the demo takes any free port. */
  public static final int DEFAULT_SERVE_PORT = 8080;

  /** The usage message, printed by {@code --help} and after a bad flag. */
  public static final String USAGE = String.join(System.lineSeparator(),
    "usage: StampedeDemo [--requests N] [--ids K] [--serve] [--port P] [--help]",
    "  --requests N  concurrent requests sent to each route (1.." + MAX_REQUESTS + ", default " + DEFAULT_REQUESTS + ")",
    "  --ids K       distinct user ids they ask for (1.." + UserDao.USERS + ", default " + DEFAULT_IDS + ")",
    "  --serve       keep serving after the load phase, until Ctrl-C",
    "  --port P      port on 127.0.0.1 (0..65535; default " + DEFAULT_SERVE_PORT + " with --serve, else any free port)",
    "  --help        print this message",
    "From a clone: mvn -q -Pdemo verify -Ddemo.args=\"--requests 500 --ids 3\"");

  /** A flag that is unknown, lacks its value, or has a value out of range. */
  public static final class UsageException extends Exception {

    UsageException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Parses the flags; each takes its value as the next argument or after {@code =}.
   *
   * @param args the command-line arguments
   * @return the options; when {@link #help()} is set the others are not checked
   * @throws UsageException on an unknown flag, a missing value, or a value that is not an integer in range
   */
  public static DemoOptions parse(String[] args) throws UsageException {
    int requests = DEFAULT_REQUESTS;
    int ids = DEFAULT_IDS;
    boolean serve = false;
    Integer port = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      String value = null;
      int eq = flag.indexOf('=');
      if (flag.startsWith("--") && eq > 0) {
        value = flag.substring(eq + 1);
        flag = flag.substring(0, eq);
      }
      switch (flag) {
        case "--help" -> {
          return new DemoOptions(requests, ids, serve, 0, true);
        }
        case "--serve" -> {
          if (value != null) {
            throw new UsageException("--serve takes no value");
          }
          serve = true;
        }
        case "--requests", "--ids", "--port" -> {
          if (value == null) {
            if (i + 1 == args.length) {
              throw new UsageException(flag + " needs a value");
            }
            value = args[++i];
          }
          switch (flag) {
            case "--requests" -> requests = integer(flag, value, 1, MAX_REQUESTS);
            case "--ids" -> ids = integer(flag, value, 1, UserDao.USERS);
            default -> port = integer(flag, value, 0, 65535);
          }
        }
        default -> throw new UsageException("unknown argument '" + args[i] + "'");
      }
    }
    int chosenPort = port != null ? port : serve ? DEFAULT_SERVE_PORT : 0;
    return new DemoOptions(requests, ids, serve, chosenPort, false);
  }

  private static int integer(String flag, String value, int min, int max) throws UsageException {
    int n;
    try {
      n = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new UsageException(flag + " needs an integer, got '" + value + "'");
    }
    if (n < min || n > max) {
      throw new UsageException(flag + " must be in " + min + ".." + max + ", got " + n);
    }
    return n;
  }
}
