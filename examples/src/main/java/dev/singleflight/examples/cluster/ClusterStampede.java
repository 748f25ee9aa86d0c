package dev.singleflight.examples.cluster;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * ClusterStampede is the running cluster demo, seen from the launcher: N {@link ClusterNode} JVMs
 * that form one cluster on 127.0.0.1, and the load phase that sends a stampede of requests to each
 * route, spread over the nodes.
 *
 * <p>Request {@code i} of a phase goes to node {@code i % N} and asks for user
 * {@code 1 + (i / N) % K}: every node is asked for every id once there are at least N × K requests.
 *
 * <p>Its methods block: call them from a plain thread such as {@code main}, never from an event loop.
 */
final class ClusterStampede implements AutoCloseable {

  /** How long one request of a load phase may take before it counts as failed. */
  private static final long REQUEST_TIMEOUT_MILLIS = 60_000;
  /** How long the launcher waits for a stampede to arrive before it opens the gates all the same. */
  private static final long ARRIVAL_LIMIT_SECONDS = 20;
  /** How often the launcher asks the nodes what has arrived, while it waits. */
  private static final long POLL_MILLIS = 10;

  /** The user routes of the nodes, in the order of the load phase: the clustered one first, before any message went to an owner. */
  enum Route {
    /** Collapsed across the cluster: one query per id. */
    CLUSTERED(NodeServer.CLUSTERED, "cluster-wide"),
    /** Collapsed on each node alone: one query per id and node. */
    LOCAL(NodeServer.LOCAL, "node-local"),
    /** Not collapsed: one query per request. */
    DIRECT(NodeServer.DIRECT, "none");

    private final String path;
    private final String singleFlight;

    Route(String path, String singleFlight) {
      this.path = path;
      this.singleFlight = singleFlight;
    }

    /** @return the path before the id, e.g. {@code /users/} */
    String path() {
      return path;
    }

    /** @return the route as a pattern, e.g. {@code /users/:id} */
    String pattern() {
      return path + ":id";
    }

    /** @return how it collapses lookups: {@code cluster-wide}, {@code node-local} or {@code none} */
    String singleFlight() {
      return singleFlight;
    }

    /** @return the queries a phase of {@code requests} requests for {@code ids} ids over {@code nodes} nodes runs */
    int expectedQueries(int requests, int nodes, int ids) {
      return switch (this) {
        case CLUSTERED -> Math.min(ids, (requests + nodes - 1) / nodes);
        case LOCAL -> pairs(requests, nodes, ids);
        case DIRECT -> requests;
      };
    }
  }

  /**
   * What one load phase measured.
   *
   * @param route the route
   * @param failed the requests not answered 200 with a user
   * @param queries the database queries the phase ran on each node, by node index
   * @param gathered whether every request (and, clustered, every node's join) arrived before the gates opened
   */
  record Phase(Route route, int failed, int[] queries, boolean gathered) {

    /** @return the queries of all nodes together */
    int totalQueries() {
      int total = 0;
      for (int q : queries) {
        total += q;
      }
      return total;
    }
  }

  /**
   * A started node.
   *
   * @param process its JVM
   * @param port its HTTP port on 127.0.0.1
   */
  record Node(NodeProcess process, int port) {
  }

  private final Vertx vertx;
  private final List<NodeProcess> processes;
  private final List<Node> nodes;
  private final WebClient control;
  private final Thread killer;

  private ClusterStampede(Vertx vertx, List<NodeProcess> processes, List<Node> nodes, Thread killer) {
    this.vertx = vertx;
    this.processes = processes;
    this.nodes = nodes;
    this.killer = killer;
    this.control = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1"));
  }

  /**
   * Starts {@code count} nodes at once and waits until they form one cluster and serve. If this JVM
   * ends before {@link #close()}, a shutdown hook kills the nodes; each node also exits by itself when
   * this JVM is gone.
   *
   * @param count the nodes
   * @param log where the nodes' stderr goes
   * @return the running cluster
   * @throws Exception when a node fails to start or the cluster does not form in time
   */
  static ClusterStampede start(int count, PrintStream log) throws Exception {
    List<Integer> ports = NodeProcess.freePorts(count);
    String clusterName = "singleflight-demo-" + UUID.randomUUID();
    List<NodeProcess> processes = new CopyOnWriteArrayList<>();
    Thread killer = new Thread(() -> processes.forEach(NodeProcess::kill), "kill-cluster-nodes");
    Runtime.getRuntime().addShutdownHook(killer);
    // Made while the nodes start, to be ready when they are.
    Vertx vertx = Vertx.vertx();
    try {
      for (int i = 0; i < count; i++) {
        processes.add(NodeProcess.start(new ClusterNode.Settings(i, clusterName, ports), log));
      }
      List<Node> nodes = new ArrayList<>();
      for (NodeProcess process : processes) {
        nodes.add(new Node(process, ready(process)));
      }
      return new ClusterStampede(vertx, processes, nodes, killer);
    } catch (Exception | Error e) {
      vertx.close();
      stop(processes, killer);
      throw e;
    }
  }

  /** @return the nodes, by index */
  List<Node> nodes() {
    return nodes;
  }

  /**
   * Sends a stampede of {@code requests} concurrent requests to each route in turn, spread over the
   * nodes, asking for {@code ids} distinct users.
   *
   * @param requests the requests per route
   * @param ids the distinct ids asked for
   * @param progress where each route's line goes once it is answered
   * @param log where warnings go
   * @return one phase per route, in the order of {@link Route}
   * @throws Exception when interrupted or the load itself fails
   */
  List<Phase> load(int requests, int ids, PrintStream progress, PrintStream log) throws Exception {
    List<Phase> phases = new ArrayList<>();
    for (Route route : Route.values()) {
      phases.add(phase(route, requests, ids, progress, log));
    }
    return phases;
  }

  /** @return the node of request {@code i} of a phase */
  static int nodeOf(int i, int nodes) {
    return i % nodes;
  }

  /** @return the user id of request {@code i} of a phase */
  static int idOf(int i, int nodes, int ids) {
    return 1 + (i / nodes) % ids;
  }

  /** @return how many of a phase's {@code requests} requests go to {@code node} */
  static int requestsTo(int node, int requests, int nodes) {
    return requests / nodes + (node < requests % nodes ? 1 : 0);
  }

  /**
   * @return the distinct (node, id) pairs that {@code requests} requests ask for: the queries of a
   * node-local phase, and the joins of a clustered one
   */
  static int pairs(int requests, int nodes, int ids) {
    return Math.min(requests, nodes * ids);
  }

  /** Stops every node and waits until each has exited; closes the launcher's Vert.x. */
  @Override
  public void close() throws InterruptedException {
    try {
      vertx.close().await(NodeProcess.EXIT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      // The nodes must stop all the same.
    } finally {
      stop(processes, killer);
    }
  }

  private Phase phase(Route route, int requests, int ids, PrintStream progress, PrintStream log) throws Exception {
    int count = nodes.size();
    int[] perNode = new int[count];
    for (int n = 0; n < count; n++) {
      perNode[n] = requestsTo(n, requests, count);
    }
    // One connection per request, so that all of them are in flight at once, opened before the
    // stampede by a round of health checks. A fresh client per phase, so that the phases start alike.
    WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1"),
      new PoolOptions().setHttp1MaxSize(perNode[0]));
    try {
      // A failed health check shows again as a failed request of the stampede.
      send(client, requests, i -> NodeServer.HEALTH, new AtomicInteger()).await();
      onEveryNode(HttpMethod.POST, NodeServer.STAMPEDE).await();
      int[] before = queries();
      AtomicInteger answered = new AtomicInteger();
      Future<Integer> failed = send(client, requests, i -> route.path() + idOf(i, count, ids), answered);
      boolean gathered = awaitArrivals(perNode, route == Route.CLUSTERED ? pairs(requests, count, ids) : 0, answered);
      if (!gathered) {
        log.println("warning: the stampede on " + route.pattern() + " did not all arrive within "
          + ARRIVAL_LIMIT_SECONDS + " s; the lookups go ahead, and their counts may be off");
      }
      onEveryNode(HttpMethod.POST, NodeServer.STAMPEDE + "/go").await();
      int failures = failed.await();
      progress.println(route.pattern() + " " + (requests - failures) + "/" + requests + " answered");
      int[] after = queries();
      int[] ran = new int[count];
      for (int n = 0; n < count; n++) {
        ran[n] = after[n] - before[n];
      }
      return new Phase(route, failures, ran, gathered);
    } finally {
      client.close();
    }
  }

  /**
   * Waits until every node has seen all of its requests arrive and the nodes together have seen
   * {@code joins} joins, or a request was answered already (it can only have failed), or the limit.
   *
   * @return whether the whole stampede arrived
   */
  private boolean awaitArrivals(int[] perNode, int joins, AtomicInteger answered) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ARRIVAL_LIMIT_SECONDS);
    while (answered.get() == 0 && System.nanoTime() - deadline < 0) {
      List<JsonObject> gates = onEveryNode(HttpMethod.GET, NodeServer.STAMPEDE).await();
      boolean arrived = true;
      int joined = 0;
      for (int n = 0; n < gates.size(); n++) {
        arrived &= gates.get(n).getInteger("arrived") == perNode[n];
        joined += gates.get(n).getInteger("joins");
      }
      if (arrived && joined >= joins) {
        return true;
      }
      vertx.timer(POLL_MILLIS, TimeUnit.MILLISECONDS).await();
    }
    return false;
  }

  /** @return the queries each node has run so far, by node index */
  private int[] queries() {
    List<JsonObject> stats = onEveryNode(HttpMethod.GET, NodeServer.STATS).await();
    return stats.stream().mapToInt(node -> node.getInteger("queries")).toArray();
  }

  /** Sends one control request to every node; the Future of their JSON answers, by node index. */
  private Future<List<JsonObject>> onEveryNode(HttpMethod method, String path) {
    List<Future<JsonObject>> answers = new ArrayList<>();
    for (Node node : nodes) {
      answers.add(control.request(method, node.port(), "127.0.0.1", path)
        .timeout(REQUEST_TIMEOUT_MILLIS)
        .send()
        .map(HttpResponse::bodyAsJsonObject));
    }
    return Future.all(answers).map(all -> all.list());
  }

  /**
   * Sends {@code requests} GET requests at once from one event loop, request {@code i} to node
   * {@link #nodeOf} at {@code paths.apply(i)}.
   *
   * @return a Future of the number of requests not answered 200, completed once all are answered
   */
  private Future<Integer> send(WebClient client, int requests, IntFunction<String> paths, AtomicInteger answered) {
    Promise<Integer> failed = Promise.promise();
    vertx.runOnContext(start -> {
      List<Future<Boolean>> answers = new ArrayList<>(requests);
      for (int i = 0; i < requests; i++) {
        answers.add(client.get(nodes.get(nodeOf(i, nodes.size())).port(), "127.0.0.1", paths.apply(i))
          .timeout(REQUEST_TIMEOUT_MILLIS)
          .send()
          .map(response -> response.statusCode() == 200)
          .otherwise(false)
          .onComplete(ok -> answered.incrementAndGet()));
      }
      Future.all(answers).onComplete(all ->
        failed.complete((int) answers.stream().filter(answer -> !answer.result()).count()));
    });
    return failed.future();
  }

  private static void stop(List<NodeProcess> processes, Thread killer) throws InterruptedException {
    for (NodeProcess process : processes) {
      process.close();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(killer);
    } catch (IllegalStateException shuttingDown) {
      // The JVM is exiting: the hook kills whatever is left.
    }
  }

  /** @return the node's HTTP port, once it is ready */
  private static int ready(NodeProcess process) throws Exception {
    try {
      return process.ready().get(ClusterNode.START_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("node " + process.index() + " was not ready within " + ClusterNode.START_SECONDS + " s");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }
}
