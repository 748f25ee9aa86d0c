package dev.singleflight.examples.demo;

import dev.singleflight.examples.CommandLine;
import dev.singleflight.examples.CommandLine.Flag;
import dev.singleflight.examples.CommandLine.UsageException;

import java.util.Set;

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
    for (Flag flag : CommandLine.flags(args, Set.of("--requests", "--ids", "--port"), Set.of("--serve"))) {
      switch (flag.name()) {
        case "--help" -> {
          return new DemoOptions(requests, ids, serve, 0, true);
        }
        case "--serve" -> serve = true;
        case "--requests" -> requests = flag.integer(1, MAX_REQUESTS);
        case "--ids" -> ids = flag.integer(1, UserDao.USERS);
        default -> port = flag.integer(0, 65535);
      }
    }
    int chosenPort = port != null ? port : serve ? DEFAULT_SERVE_PORT : 0;
    return new DemoOptions(requests, ids, serve, chosenPort, false);
  }
}
