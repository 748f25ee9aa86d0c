package dev.singleflight.examples.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * NodeProcess is one {@link ClusterNode} JVM as the launcher sees it: started with this JVM's own
 * {@code java} and the demo's class path, its stdout read for the line that says it is ready, its
 * stderr copied to the launcher's log line by line, prefixed with {@code node <index>:}. Closing it
 * closes the node's stdin, which makes the node exit; a node still running after
 * {@link #EXIT_SECONDS} is killed.
 */
public final class NodeProcess implements AutoCloseable {

  /** How long a node may take to exit once its stdin is closed, in seconds. */
  static final long EXIT_SECONDS = 10;
  /**
   * The nodes' JVM flags: a small heap, one GC thread, and C1 only, so that several of them start
   * fast and share two cores well.
   */
  static final List<String> JVM_FLAGS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  /** The system property that gives the nodes' class path, when this JVM's own is not theirs. */
  static final String CLASS_PATH_PROPERTY = "cluster-demo.classpath";

  private final int index;
  private final Process process;
  private final CompletableFuture<Integer> ready = new CompletableFuture<>();
  private final List<Thread> readers = new ArrayList<>();

  private NodeProcess(int index, Process process) {
    this.index = index;
    this.process = process;
  }

  /**
   * Starts a node.
   *
   * @param settings what the node is told
   * @param log where the node's stderr goes
   * @return the running node; {@link #ready()} completes once it serves
   * @throws IOException when the JVM cannot be started
   */
  static NodeProcess start(ClusterNode.Settings settings, PrintStream log) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JVM_FLAGS);
    command.add("-cp");
    command.add(classPath());
    command.add(ClusterNode.class.getName());
    command.addAll(settings.toArgs());
    NodeProcess node = new NodeProcess(settings.index(), new ProcessBuilder(command).start());
    String prefix = "node " + settings.index() + ": ";
    node.read(node.process.getInputStream(), line -> {
      if (!node.onLine(line)) {
        log.println(prefix + line);
      }
    });
    node.read(node.process.getErrorStream(), line -> log.println(prefix + line));
    return node;
  }

  /**
   * @return the class path of the nodes: the system property {@value #CLASS_PATH_PROPERTY} where
   * the launcher runs inside Maven ({@code mvn -Pcluster-demo verify} sets it), else this JVM's own
   * (a test under Surefire, or a plain {@code java -cp})
   */
  static String classPath() {
    return System.getProperty(CLASS_PATH_PROPERTY, System.getProperty("java.class.path"));
  }

  /** @return {@code count} distinct free ports of 127.0.0.1, for the nodes' Hazelcast members */
  public static List<Integer> freePorts(int count) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      List<Integer> ports = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        sockets.add(socket);
        ports.add(socket.getLocalPort());
      }
      return ports;
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }

  /** @return the node's index */
  int index() {
    return index;
  }

  /** @return the node's process id */
  long pid() {
    return process.pid();
  }

  /** @return a future of the node's HTTP port, completed once it serves; failed if it exits first */
  CompletableFuture<Integer> ready() {
    return ready;
  }

  /** Kills the node at once; for a shutdown hook. */
  void kill() {
    process.destroyForcibly();
  }

  /**
   * Closes the node's stdin and waits until it has exited and its output has been read: at most
   * {@link #EXIT_SECONDS}, then it is killed.
   */
  @Override
  public void close() throws InterruptedException {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // The node is gone already.
    }
    if (!process.waitFor(EXIT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
    for (Thread reader : readers) {
      reader.join();
    }
  }

  /** @return whether {@code line}, from the node's stdout, was the line that says it is ready */
  private boolean onLine(String line) {
    if (line.startsWith("ready ")) {
      ready.complete(Integer.parseInt(line.substring("ready ".length()).trim()));
      return true;
    }
    return false;
  }

  /** Reads {@code in} line by line on a thread of its own; at its end, a node that never got ready has failed. */
  private void read(InputStream in, Consumer<String> lines) {
    Thread reader = new Thread(() -> {
      try (BufferedReader lineReader = new BufferedReader(new InputStreamReader(in, Charset.defaultCharset()))) {
        lineReader.lines().forEach(lines);
      } catch (IOException | UncheckedIOException e) {
        // The stream broke: the node is gone.
      }
      if (!ready.isDone()) {
        IllegalStateException gone = new IllegalStateException("node " + index + " exited with code " + exitCode()
          + " before it was ready");
        ready.completeExceptionally(gone);
      }
    }, "node-" + index + "-output");
    reader.setDaemon(true);
    readers.add(reader);
    reader.start();
  }

  /**
   * Waits until the node has exited; after {@link #close()} it has.
   *
   * @return its exit code, or -1 when interrupted
   */
  int exitCode() {
    try {
      return process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
