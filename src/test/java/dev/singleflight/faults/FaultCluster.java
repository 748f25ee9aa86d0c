package dev.singleflight.faults;

import dev.singleflight.impl.cluster.RendezvousHash;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.Predicate;

/**
 * The {@link NodeJvm}s of one test: a cluster of its own name. Node 0 starts first (it founds the
 * cluster); the others start together and join it. {@link #close()} ends every node still running,
 * whatever state the test left it in.
 */
final class FaultCluster implements AutoCloseable {

  /** Longest wait of a polling loop (members seen, callers answered), in seconds. */
  static final long POLL_SECONDS = 120;

  final String name = "singleflight-faults-" + UUID.randomUUID();
  private final List<String> members;
  private final IntFunction<List<String>> prefix;
  private final List<String> systemProperties;
  private final String verticleOptions;
  private final List<String> hosts;
  final List<NodeJvm> nodes = new ArrayList<>();
  final List<String> nodeIds = new ArrayList<>();

  /**
   * @param hosts the address of each node, by index (it may list nodes started later)
   * @param ports the Hazelcast port of each node, by index
   * @param prefix the command prefix of node {@code i}
   * @param systemProperties JVM flags of every node
   * @param verticleOptions the verticle's options, as JSON
   */
  FaultCluster(List<String> hosts, List<Integer> ports, IntFunction<List<String>> prefix, List<String> systemProperties,
               JsonObject verticleOptions) {
    this.hosts = hosts;
    this.members = new ArrayList<>();
    for (int i = 0; i < hosts.size(); i++) {
      members.add(hosts.get(i) + ":" + ports.get(i));
    }
    this.prefix = prefix;
    this.systemProperties = systemProperties;
    this.verticleOptions = verticleOptions.encode();
  }

  /** Starts nodes {@code 0..count-1} and waits until each sees all of them. */
  void start(int count) throws Exception {
    startNode(0).awaitReady();
    for (int i = 1; i < count; i++) {
      startNode(i);
    }
    for (NodeJvm node : nodes) {
      nodeIds.add(node.awaitReady());
    }
    awaitMembers(count);
  }

  /** Starts node {@code nodes.size()}, which joins the cluster; see {@link NodeJvm#awaitReady()}. */
  NodeJvm startNode(int index) throws Exception {
    NodeJvm node = NodeJvm.start(index, prefix.apply(index), systemProperties,
      List.of(Integer.toString(index), name, hosts.get(index), String.join(",", members), verticleOptions));
    nodes.add(node);
    return node;
  }

  NodeJvm node(int i) {
    return nodes.get(i);
  }

  /** Waits until every live node sees {@code count} members. */
  void awaitMembers(int count) throws Exception {
    awaitReports("every live node to see " + count + " members",
      reports -> reports.values().stream().allMatch(r -> r.getJsonArray("members").size() == count));
  }

  /** Starts {@code callers} callers of each of {@code keys} on node {@code node}. */
  void herd(int node, List<String> keys, int callers) throws IOException {
    nodes.get(node).send("herd " + new JsonObject().put("keys", new JsonArray(new ArrayList<>(keys))).put("callers", callers).encode());
  }

  /** Sends {@code command} ({@code release}, {@code hold}) to each of {@code nodes}. */
  void send(String command, int... nodes) throws IOException {
    for (int node : nodes) {
      this.nodes.get(node).send(command);
    }
  }

  /** @return the report of every live node that is not stopped, by index */
  Map<Integer, JsonObject> reports() throws Exception {
    Map<Integer, JsonObject> reports = new TreeMap<>();
    for (NodeJvm node : nodes) {
      if (node.isAlive() && !node.stopped) {
        reports.put(node.index, node.report());
      }
    }
    return reports;
  }

  /** Polls the reports of the live nodes until {@code done} holds, at most {@link #POLL_SECONDS}. */
  Map<Integer, JsonObject> awaitReports(String what, Predicate<Map<Integer, JsonObject>> done) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(POLL_SECONDS);
    while (true) {
      Map<Integer, JsonObject> reports = reports();
      if (done.test(reports)) {
        return reports;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited " + POLL_SECONDS + " s for " + what + "; reports: " + reports);
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  /**
   * Waits until a live node (the key's owner) has had a join for each of {@code keys} from each node of
   * {@code from}: their flights of the keys wait at the owner.
   */
  void awaitJoins(List<String> keys, List<Integer> from) throws Exception {
    awaitReports("the joins of " + from + " for " + keys.size() + " keys", reports -> {
      for (String key : keys) {
        JsonArray senders = new JsonArray();
        reports.values().forEach(report -> senders.addAll(report.getJsonObject("joins").getJsonArray(key, new JsonArray())));
        for (int node : from) {
          if (!reports.containsKey(node) || !senders.contains(reports.get(node).getString("nodeId"))) {
            return false;
          }
        }
      }
      return true;
    });
  }

  /** Waits until every key of {@code keys} has started an execution on node {@code leader}. */
  void awaitExecutions(int leader, List<String> keys) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(POLL_SECONDS);
    while (!executedKeys(leader).containsAll(keys)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("node " + leader + " started " + executedKeys(leader) + " of " + keys);
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  private List<String> executedKeys(int node) {
    return nodes.get(node).executions.stream().map(e -> e[0]).toList();
  }

  /** @return how many executions of each key every node (the killed ones too) announced */
  Map<String, Integer> executionsByKey() {
    Map<String, Integer> counts = new TreeMap<>();
    for (NodeJvm node : nodes) {
      for (String[] execution : node.executions) {
        counts.merge(execution[0], 1, Integer::sum);
      }
    }
    return counts;
  }

  /** @return the keys of {@code keys} that node {@code owner} owns among {@code among} */
  List<String> keysAmong(List<String> keys, int owner, List<Integer> among) {
    List<String> memberIds = among.stream().map(nodeIds::get).toList();
    return keys.stream().filter(key -> RendezvousHash.ownerOf(key, memberIds).equals(nodeIds.get(owner))).toList();
  }

  /** @return the first {@code count} keys {@code key-<n>} that node {@code owner} owns among {@code among} */
  List<String> keysOwnedBy(int owner, int count, List<Integer> among) {
    List<String> memberIds = among.stream().map(nodeIds::get).toList();
    List<String> keys = new ArrayList<>();
    for (int k = 0; keys.size() < count; k++) {
      String key = "key-" + k;
      if (RendezvousHash.ownerOf(key, memberIds).equals(nodeIds.get(owner))) {
        keys.add(key);
      }
    }
    return keys;
  }

  /** Kills every node still running. */
  @Override
  public void close() throws Exception {
    for (NodeJvm node : nodes) {
      node.close();
    }
  }
}
