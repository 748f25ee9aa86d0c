package dev.singleflight.cluster;

import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The single-flight messages that the nodes of a {@link ClusterNodes} receive, by operation (the
 * {@code singleflight-op} header: {@code join}, {@code json}, ...; a follower's join that asks again,
 * naming its flight, is {@code join-again}), key, sending node and receiving
 * node. Nodes are named by their index in the cluster. An inbound interceptor on each node records
 * a message once the node delivers it to a consumer, so a node whose verticle stopped listening
 * records nothing more.
 */
final class ClusterMessages {

  /** One message received: its operation and key, the node that sent it (-1: not named), the node that got it. */
  record Received(String op, String key, int from, int to) {
  }

  private final List<String> nodeIds = new ArrayList<>();
  private final List<Received> received = new ArrayList<>();

  private ClusterMessages() {
  }

  /** Starts recording the messages that every node of {@code cluster} receives. */
  static ClusterMessages recordOn(ClusterNodes cluster) {
    ClusterMessages messages = new ClusterMessages();
    for (int i = 0; i < cluster.nodes().size(); i++) {
      messages.nodeIds.add(cluster.nodeId(i));
    }
    for (int i = 0; i < cluster.nodes().size(); i++) {
      int to = i;
      cluster.node(i).eventBus().addInboundInterceptor((DeliveryContext<Object> delivery) -> {
        messages.record(delivery.message(), to);
        delivery.next();
      });
    }
    return messages;
  }

  private synchronized void record(Message<Object> message, int to) {
    String op = message.headers().get("singleflight-op");
    if ("join".equals(op) && message.headers().contains("singleflight-flight")) {
      // A follower asking again about the flight it joined: not a join of its own.
      op = "join-again";
    }
    if (op != null) {
      received.add(new Received(op, message.headers().get("singleflight-key"),
        nodeIds.indexOf(message.headers().get("singleflight-node")), to));
      notifyAll();
    }
  }

  /** Forgets what was recorded so far. */
  synchronized void clear() {
    received.clear();
  }

  /** Waits until at least {@code count} messages of {@code op} for {@code key} were received, in all. */
  synchronized void await(String op, String key, int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (count(op, key) < count) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        throw new AssertionError("only " + count(op, key) + " of " + count + " '" + op + "' messages for key '" + key
          + "' arrived: " + received);
      }
      wait(left);
    }
  }

  /** Waits until node {@code to} has received a message of {@code op} for {@code key} from each node of {@code from}. */
  synchronized void awaitSenders(String op, String key, int to, Set<Integer> from) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!bySender(op, key, to).keySet().containsAll(from)) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        throw new AssertionError("node " + to + " got '" + op + "' messages for key '" + key + "' from " + bySender(op, key, to).keySet()
          + " only, not from all of " + from + ": " + received);
      }
      wait(left);
    }
  }

  private long count(String op, String key) {
    return received.stream().filter(m -> m.op.equals(op) && key.equals(m.key)).count();
  }

  /** @return how many messages of {@code op} for {@code key} each node sent, by sending node */
  synchronized Map<Integer, Long> bySender(String op, String key) {
    return received.stream().filter(m -> m.op.equals(op) && key.equals(m.key))
      .collect(Collectors.groupingBy(Received::from, Collectors.counting()));
  }

  /** @return how many messages of {@code op} for {@code key} node {@code to} received, by sending node */
  synchronized Map<Integer, Long> bySender(String op, String key, int to) {
    return received.stream().filter(m -> m.op.equals(op) && key.equals(m.key) && m.to == to)
      .collect(Collectors.groupingBy(Received::from, Collectors.counting()));
  }
}
