package dev.singleflight.faults;

import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One {@link FaultNode} JVM as the test sees it: started with this JVM's {@code java} and class path
 * (optionally behind a command prefix, {@code ip netns exec <ns>}), driven by lines on its stdin, its
 * {@code @@} lines read from its stdout, its stderr copied to this JVM's with the prefix
 * {@code node <index>:}. The executions it announced are kept, also after it was killed.
 */
final class NodeJvm implements AutoCloseable {

  /** Seconds a node may take to start and deploy its verticle, and a report to come. */
  static final long START_SECONDS = 120;
  static final long REPORT_SECONDS = 60;

  /** Small heap, one GC thread, C1 only: several nodes start fast and share two cores. */
  private static final List<String> JVM_FLAGS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
    // What Hazelcast 5.3 asks for on Java 9 and later (the pom's hazelcast.jvm.args).
    "--add-modules", "java.se", "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens", "java.management/sun.management=ALL-UNNAMED",
    "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

  final int index;
  private final Process process;
  private final OutputStream stdin;
  private final CompletableFuture<String> ready = new CompletableFuture<>();
  /** Every {@code @@exec <key> <id>} line: key and execution id, in order. */
  final List<String[]> executions = new CopyOnWriteArrayList<>();
  /** Whether the node was sent SIGSTOP and not SIGCONT since: it cannot report. */
  volatile boolean stopped;
  private final Map<Integer, CompletableFuture<JsonObject>> reports = new ConcurrentHashMap<>();
  private final AtomicInteger nextReport = new AtomicInteger();
  private final List<Thread> readers = new ArrayList<>();

  private NodeJvm(int index, Process process) {
    this.index = index;
    this.process = process;
    this.stdin = process.getOutputStream();
  }

  /**
   * Starts a node.
   *
   * @param prefix the command the JVM runs under (e.g. {@code ip netns exec ns}), or empty
   * @param systemProperties JVM flags of the node, e.g. Hazelcast's {@code -Dhazelcast.*} properties
   * @param args the node's arguments, see {@link FaultNode}
   */
  static NodeJvm start(int index, List<String> prefix, List<String> systemProperties, List<String> args) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JVM_FLAGS);
    String logging = System.getProperty("java.util.logging.config.file");
    if (logging != null) {
      command.add("-Djava.util.logging.config.file=" + logging);
    }
    command.addAll(systemProperties);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(FaultNode.class.getName());
    command.addAll(args);
    NodeJvm node = new NodeJvm(index, new ProcessBuilder(command).start());
    node.read(node.process.getInputStream(), node::onLine);
    node.read(node.process.getErrorStream(), line -> System.err.println("node " + index + ": " + line));
    return node;
  }

  /** @return the node's cluster node id, once its verticle is deployed */
  String awaitReady() throws Exception {
    return ready.get(START_SECONDS, TimeUnit.SECONDS);
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Sends one command line. */
  synchronized void send(String command) throws IOException {
    stdin.write((command + "\n").getBytes(StandardCharsets.UTF_8));
    stdin.flush();
  }

  /** @return the node's report, see {@link FaultNode.Herd#report} */
  JsonObject report() throws Exception {
    int id = nextReport.incrementAndGet();
    CompletableFuture<JsonObject> report = new CompletableFuture<>();
    reports.put(id, report);
    send("report " + id);
    return report.get(REPORT_SECONDS, TimeUnit.SECONDS);
  }

  /** Sends {@code signal} (KILL, STOP, CONT) to the node's JVM with kill(1), and waits until kill has. */
  void signal(String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).inheritIO().start();
    if (!kill.waitFor(30, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
    }
    stopped = "STOP".equals(signal);
    if ("KILL".equals(signal)) {
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private void onLine(String line) {
    if (line.startsWith("@@ready ")) {
      ready.complete(line.substring("@@ready ".length()));
    } else if (line.startsWith("@@exec ")) {
      executions.add(line.substring("@@exec ".length()).split(" "));
    } else if (line.startsWith("@@report ")) {
      String[] parts = line.split(" ", 3);
      CompletableFuture<JsonObject> report = reports.remove(Integer.parseInt(parts[1]));
      if (report != null) {
        report.complete(new JsonObject(parts[2]));
      }
    } else {
      System.err.println("node " + index + ": " + line);
    }
  }

  private void read(InputStream in, Consumer<String> lines) {
    Thread reader = new Thread(() -> {
      try (BufferedReader lineReader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        lineReader.lines().forEach(lines);
      } catch (IOException | UncheckedIOException e) {
        // The node is gone.
      }
      IllegalStateException gone = new IllegalStateException("node " + index + " exited");
      ready.completeExceptionally(gone);
      reports.values().forEach(report -> report.completeExceptionally(gone));
    }, "fault-node-" + index + "-output");
    reader.setDaemon(true);
    readers.add(reader);
    reader.start();
  }

  /**
   * Kills the node (SIGKILL: a stopped JVM dies too) and waits until it is gone. A node whose test JVM
   * died exits on its own, as its stdin ends.
   */
  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    for (Thread reader : readers) {
      reader.join(TimeUnit.SECONDS.toMillis(10));
    }
  }
}
