package dev.singleflight.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A private network made of Linux network namespaces with {@code ip(8)}: one namespace holding a bridge,
 * and one namespace per node, linked to the bridge by a veth pair, with an address of a random
 * {@code 10.x.y.0/24} that exists only in these namespaces. Nothing is added to the namespace the test
 * runs in. {@link #cut(int)} takes a node's end of the link down at the bridge, {@link #restore(int)}
 * brings it back; {@link #close()} deletes every namespace made. Needs root ({@code CAP_SYS_ADMIN}).
 */
final class Namespaces implements AutoCloseable {

  private final String prefix = "sf" + UUID.randomUUID().toString().substring(0, 8);
  private final String bridge = prefix + "-br";
  private final String subnet = "10." + ThreadLocalRandom.current().nextInt(1, 255) + "." + ThreadLocalRandom.current().nextInt(1, 255) + ".";
  private final List<String> made = new ArrayList<>();

  /**
   * @return why namespaces cannot be made here, or {@code null} when they can: it makes one and deletes it
   */
  static String unavailable() {
    String probe = "sfprobe" + UUID.randomUUID().toString().substring(0, 8);
    try {
      String failure = run(List.of("ip", "netns", "add", probe));
      if (failure != null) {
        return "network namespaces cannot be made here (root and ip(8) are needed): " + failure;
      }
      run(List.of("ip", "netns", "del", probe));
      return null;
    } catch (IOException e) {
      return "ip(8) cannot be run: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /** Makes the bridge's namespace and {@code nodes} node namespaces linked to it. */
  Namespaces(int nodes) throws IOException, InterruptedException {
    try {
      add(bridge);
      ip(bridge, "link", "add", "br0", "type", "bridge");
      ip(bridge, "link", "set", "br0", "up");
      for (int i = 0; i < nodes; i++) {
        String node = namespace(i);
        add(node);
        ip(bridge, "link", "add", "vn" + i, "type", "veth", "peer", "name", "eth0", "netns", node);
        ip(bridge, "link", "set", "vn" + i, "master", "br0");
        ip(bridge, "link", "set", "vn" + i, "up");
        ip(node, "addr", "add", host(i) + "/24", "dev", "eth0");
        ip(node, "link", "set", "eth0", "up");
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /** @return the name of node {@code i}'s namespace */
  String namespace(int i) {
    return prefix + "-n" + i;
  }

  /** @return node {@code i}'s address, in its namespace only */
  String host(int i) {
    return subnet + (i + 1);
  }

  /** @return the command prefix that runs a program in node {@code i}'s namespace */
  List<String> exec(int i) {
    return List.of("ip", "netns", "exec", namespace(i));
  }

  /** Cuts node {@code i} off: its link goes down at the bridge. */
  void cut(int i) throws IOException, InterruptedException {
    ip(bridge, "link", "set", "vn" + i, "down");
  }

  /** Links node {@code i} again. */
  void restore(int i) throws IOException, InterruptedException {
    ip(bridge, "link", "set", "vn" + i, "up");
  }

  private void add(String namespace) throws IOException, InterruptedException {
    check(run(List.of("ip", "netns", "add", namespace)));
    made.add(namespace);
    ip(namespace, "link", "set", "lo", "up");
  }

  private static void ip(String namespace, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("ip", "-n", namespace));
    command.addAll(List.of(args));
    check(run(command));
  }

  private static void check(String failure) {
    if (failure != null) {
      throw new IllegalStateException(failure);
    }
  }

  /** @return null when {@code command} succeeded, else the command and what it said */
  private static String run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return String.join(" ", command) + ": no answer in 30 s";
    }
    return process.exitValue() == 0 ? null : String.join(" ", command) + ": exit " + process.exitValue() + ": " + output;
  }

  /** Deletes every namespace made (their links go with them), the last made first. */
  @Override
  public void close() throws IOException, InterruptedException {
    List<String> failures = new ArrayList<>();
    for (int i = made.size() - 1; i >= 0; i--) {
      String failure = run(List.of("ip", "netns", "del", made.get(i)));
      if (failure != null) {
        failures.add(failure);
      }
    }
    made.clear();
    if (!failures.isEmpty()) {
      throw new IllegalStateException("namespaces left behind: " + failures);
    }
  }
}
