package dev.singleflight;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;
import net.jqwik.api.statistics.Statistics;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A randomized, stateful test of one {@link SingleFlightVerticle}: jqwik generates a deployment (one
 * or two instances; sometimes maxInFlight, maxWaiters, maxFlightTime, cancelAbandoned, a small
 * worker pool) and a list of steps, and the test performs the steps against a real Vert.x, from two
 * plain threads, two event-loop contexts and a worker context. The steps are blocking and async proxy
 * calls, JSON-protocol flights to a service the test controls (also to no handler, to the verticle's
 * own addresses, with a body that has no codec, with tiny, huge and fractional timeouts), forgets from
 * both sides, callers with timeouts (none, 1 ms, 20 ms, 200 ms, {@code Duration.ofMillis(Long.MAX_VALUE)},
 * the largest {@code Duration}), functions that return, fail, throw, throw an {@code Error}, return
 * {@code null} instead of a Future, return a result no JSON requester can receive, or hold until a
 * later step settles them, pauses, and undeploying and redeploying the verticle in the middle.
 *
 * <p>Every function and every request to the service is an <em>execution</em> with an id; the test
 * decides when and how each ends (a settle step, in random order), so what it checks does not depend
 * on timing, only what happens does. After the steps it waits for the callers whose timeouts are
 * short, settles everything still held, and checks, with the README's contract:
 * <ul>
 *   <li>every caller was answered exactly once, on its own context (an event loop for plain
 *   threads), and one with a short timeout within its timeout and 3 s;</li>
 *   <li>every answer belongs to its own key's flight: values and planned failures name their key and
 *   execution; a proxy caller of a proxy-led flight gets the very instance; a caller sent after a
 *   flight had answered someone, or after a forget of its key was answered, does not get that
 *   flight's outcome;</li>
 *   <li>no function ran twice, and no two executions of a key overlapped unless a forget, an undeploy,
 *   maxFlightTime, a downstream timeout or cancelAbandoned separated them; with maxInFlight (and no
 *   maxFlightTime nor cancelAbandoned), no more executions ran at once than it allows, forgotten ones
 *   included;</li>
 *   <li>every failure is of a documented type (README: "What a proxy caller can fail with" and the
 *   JSON codes table), and fits what the run did: a {@code TimeoutException} only for a caller with
 *   a timeout (not before it elapsed) or with maxFlightTime, 403 for the verticle's own addresses,
 *   500 naming {@code java.lang.Object} for a result that cannot be encoded, and so on;</li>
 *   <li>nothing is left: the gauges {@code singleflight.inflight} and {@code singleflight.waiters}
 *   go back to 0, and a fresh call of every key used runs its function;</li>
 *   <li>nothing is retained: the futures of answered callers become unreachable once the test drops
 *   them, already while their flights still run (a caller that timed out costs nothing), and all of
 *   them at the end (checked with weak references and {@code System.gc()}).</li>
 * </ul>
 *
 * <p>jqwik prints, over all tries, what the callers got (values, each failure type and code) and
 * which separation allowed each pair of overlapping executions of a key: what the runs reached, not
 * only that they passed.
 *
 * <p><b>Replaying a failure.</b> jqwik prints the seed of a failing run ({@code seed = ...}) with the
 * original and the shrunk list of steps, and this test prints how to replay it:
 * {@code mvn test -Dtest=RandomizedFlightsTest -Dsingleflight.randomized.seed=<seed>}, or
 * {@code @Property(seed = "<seed>")} on the property. A seed replays the deployment and the steps,
 * not the timing: a race may need a few runs of its seed. The message of a failure lists each broken
 * promise and the steps as they were performed.
 *
 * <p><b>Longer runs.</b> {@code mvn test} runs {@value #DEFAULT_TRIES} tries: a few seconds on two
 * cores when they pass (a failing try takes seconds more, and jqwik then shrinks for up to a
 * minute); {@code mvn test -Dtest=RandomizedFlightsTest -Dsingleflight.randomized.tries=2000} runs
 * more.
 */
class RandomizedFlightsTest {

  /** System property: how many tries (runs of random steps) the property makes. */
  static final String TRIES_PROPERTY = "singleflight.randomized.tries";
  /** System property: the seed to replay, as jqwik printed it. */
  static final String SEED_PROPERTY = "singleflight.randomized.seed";
  static final int DEFAULT_TRIES = 40;
  static final int MAX_STEPS = 40;
  static final int KEYS = 4;

  static final String ADDRESS = SingleFlightOptions.DEFAULT_ADDRESS;
  static final String SERVICE = "randomized.service";
  static final String NOWHERE = "randomized.nowhere";
  /** The failure code of the service's planned failures. */
  static final int SERVICE_FAILURE = 555;
  /** Longer than any wait of the test: a requester is answered by the verticle, not by its own timeout. */
  static final long REQUESTER_TIMEOUT_MS = 120_000;
  static final long WAIT_SECONDS = 20;
  /**
   * How long the test waits for what must come at once once every execution is settled (answers,
   * gauges, fresh calls): generous for a loaded machine, short enough for jqwik to shrink a hang.
   */
  static final long SETTLED_SECONDS = 3;
  static final long SHORT_TIMEOUT_GRACE_NANOS = TimeUnit.SECONDS.toNanos(3);
  static final Pattern PLANNED = Pattern.compile("planned failure of key=(\\S+) exec=(\\d+)");

  @Property(shrinking = ShrinkingMode.BOUNDED)
  @AddLifecycleHook(TriesAndSeedFromSystemProperties.class)
  void everyCallerIsAnsweredOnceWithItsOwnKeysOutcomeAndNothingIsLeft(
    @ForAll("deployments") Deployment deployment, @ForAll("steps") List<Step> steps) throws Exception {
    try (Run run = new Run(deployment)) {
      run.start();
      for (Step step : steps) {
        run.perform(step);
      }
      run.finish();
      // jqwik prints these over all tries: what the runs reached, not only that they passed.
      run.callers.values().forEach(caller -> Statistics.label("answers").collect(run.answerOf(caller)));
      run.separations.forEach(reason -> Statistics.label("overlapping executions of a key, allowed by").collect(reason));
      if (!run.violations.isEmpty()) {
        throw new AssertionError(run.report());
      }
    }
  }

  // What jqwik generates.

  /** The verticle's options; 0 means unset. */
  record Deployment(int instances, int maxInFlight, int maxWaiters, long maxFlightTime, boolean cancelAbandoned,
                    int workerPoolSize) {

    SingleFlightOptions options() {
      SingleFlightOptions options = MetricsTest.measured()
        .setMaxInFlight(maxInFlight)
        .setMaxWaiters(maxWaiters)
        .setMaxFlightTime(maxFlightTime)
        .setCancelAbandoned(cancelAbandoned);
      if (workerPoolSize > 0) {
        options.setWorkerPoolName("randomized-flights").setWorkerPoolSize(workerPoolSize);
      }
      return options;
    }

    boolean limited() {
      return maxInFlight > 0 || maxWaiters > 0;
    }
  }

  /** Where a step runs: the test's plain threads, or contexts of verticles it deployed. */
  enum Origin { PLAIN_1, PLAIN_2, EVENT_LOOP_1, EVENT_LOOP_2, WORKER }

  /** What a proxy caller's function does when it runs. */
  enum Fn {
    BLOCKING_HELD(true), BLOCKING_RETURNS(true), BLOCKING_THROWS(true),
    ASYNC_HELD(false), ASYNC_RETURNS(false), ASYNC_FAILS(false), ASYNC_THROWS(false), ASYNC_RETURNS_NULL(false),
    ASYNC_RETURNS_UNENCODABLE(false);

    final boolean blocking;

    Fn(boolean blocking) {
      this.blocking = blocking;
    }
  }

  /** A proxy caller's timeout. */
  enum Patience {
    NONE(null), ONE_MS(Duration.ofMillis(1)), SHORT(Duration.ofMillis(20)), MEDIUM(Duration.ofMillis(200)),
    HUGE(Duration.ofMillis(Long.MAX_VALUE)), LARGEST(Duration.ofSeconds(Long.MAX_VALUE, 999_999_999));

    final Duration duration;

    Patience(Duration duration) {
      this.duration = duration;
    }

    /** @return whether the test waits for such a caller to be answered before it settles anything */
    boolean isShort() {
      return this == ONE_MS || this == SHORT || this == MEDIUM;
    }
  }

  /** Where a JSON flight sends its downstream request, and with what body. */
  enum Target {
    /** The test's service, which holds the request until a settle step. */
    SERVICE_HELD(SERVICE),
    /** The test's service, which replies at once. */
    SERVICE_REPLIES(SERVICE),
    /** No handler: 404. */
    NOWHERE(RandomizedFlightsTest.NOWHERE),
    /** The verticle's own address: 403. */
    SELF(ADDRESS),
    /** An instance address of the verticle (an internal one): 403. */
    INSTANCE(ADDRESS + ".instance-0"),
    /** The service, with a body that has no event-bus codec: starting the flight throws. */
    UNSENDABLE_BODY(SERVICE);

    final String address;

    Target(String address) {
      this.address = address;
    }
  }

  /** The {@code timeout} field of a JSON flight. */
  enum JsonTimeout {
    NONE(null), ONE_MS(1), SHORT(50), LONG_MAX(Long.MAX_VALUE), NEAR_LONG_MAX(9.2e18), BEYOND_LONG(1e19),
    FRACTION(0.5);

    final Number value;

    JsonTimeout(Number value) {
      this.value = value;
    }

    /**
     * @return whether the downstream request may time out within a run: a huge timeout is taken as
     * maxTimeout (5 minutes by default), it must not overflow into one that elapses at once; a
     * fraction is refused
     */
    boolean mayElapse() {
      return this == ONE_MS || this == SHORT;
    }

    /** @return the least time after which the downstream request may time out, in ms */
    long elapsesAfterMillis() {
      return this == ONE_MS ? 1 : 50;
    }
  }

  /** How a settle step ends an execution. */
  enum Outcome {
    VALUE, UNENCODABLE, FAILURE, ERROR;
  }

  /** One step of a run. */
  sealed interface Step permits ProxyCall, JsonCall, Forget, Settle, Pause, Undeploy, Redeploy {
  }

  /** A proxy call from {@code origin}; the driver waits until it is sent unless {@code overlap}. */
  record ProxyCall(Origin origin, int key, Fn fn, Patience patience, boolean overlap) implements Step {
    @Override
    public String toString() {
      return origin + (overlap ? "~ " : ": ") + "flight k" + key + " " + fn + " timeout=" + patience;
    }
  }

  /** A JSON-protocol flight from {@code origin}. */
  record JsonCall(Origin origin, int key, Target target, JsonTimeout timeout, boolean overlap) implements Step {
    @Override
    public String toString() {
      return origin + (overlap ? "~ " : ": ") + "json k" + key + " -> " + target + " timeout=" + timeout;
    }
  }

  /** A forget of the proxy or of the JSON protocol. */
  record Forget(Origin origin, int key, boolean json, boolean overlap) implements Step {
    @Override
    public String toString() {
      return origin + (overlap ? "~ " : ": ") + (json ? "json " : "") + "forget k" + key;
    }
  }

  /** Ends the running execution at {@code pick} (modulo their number, by id), if any. */
  record Settle(int pick, Outcome outcome) implements Step {
    @Override
    public String toString() {
      return "settle #" + pick + " " + outcome;
    }
  }

  record Pause(int millis) implements Step {
    @Override
    public String toString() {
      return "pause " + millis + " ms";
    }
  }

  record Undeploy() implements Step {
    @Override
    public String toString() {
      return "undeploy";
    }
  }

  record Redeploy() implements Step {
    @Override
    public String toString() {
      return "redeploy";
    }
  }

  @Provide
  Arbitrary<Deployment> deployments() {
    return Combinators.combine(
      Arbitraries.of(1, 2),
      Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0)), Tuple.of(1, Arbitraries.integers().between(1, 3))),
      Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0)), Tuple.of(1, Arbitraries.integers().between(1, 4))),
      Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0L)), Tuple.of(1, Arbitraries.longs().between(5, 100))),
      Arbitraries.of(false, true),
      Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0)), Tuple.of(1, Arbitraries.integers().between(1, 3)))
    ).as(Deployment::new);
  }

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<Origin> origins = Arbitraries.of(Origin.class);
    Arbitrary<Integer> keys = Arbitraries.integers().between(0, KEYS - 1);
    Arbitrary<Boolean> overlaps = Arbitraries.of(false, true);
    Arbitrary<Patience> patiences = Arbitraries.frequency(
      Tuple.of(6, Patience.NONE), Tuple.of(2, Patience.ONE_MS), Tuple.of(2, Patience.SHORT), Tuple.of(1, Patience.MEDIUM),
      Tuple.of(1, Patience.HUGE), Tuple.of(1, Patience.LARGEST));
    Arbitrary<Target> targets = Arbitraries.frequency(
      Tuple.of(8, Target.SERVICE_HELD), Tuple.of(3, Target.SERVICE_REPLIES), Tuple.of(1, Target.NOWHERE),
      Tuple.of(1, Target.SELF), Tuple.of(1, Target.INSTANCE), Tuple.of(1, Target.UNSENDABLE_BODY));
    Arbitrary<JsonTimeout> jsonTimeouts = Arbitraries.frequency(
      Tuple.of(8, JsonTimeout.NONE), Tuple.of(2, JsonTimeout.ONE_MS), Tuple.of(2, JsonTimeout.SHORT),
      Tuple.of(1, JsonTimeout.LONG_MAX), Tuple.of(1, JsonTimeout.NEAR_LONG_MAX), Tuple.of(1, JsonTimeout.BEYOND_LONG),
      Tuple.of(1, JsonTimeout.FRACTION));
    Arbitrary<Step> proxyCalls = Combinators.combine(origins, keys, Arbitraries.of(Fn.class), patiences, overlaps)
      .as(ProxyCall::new);
    Arbitrary<Step> jsonCalls = Combinators.combine(origins, keys, targets, jsonTimeouts, overlaps).as(JsonCall::new);
    Arbitrary<Step> forgets = Combinators.combine(origins, keys, Arbitraries.of(false, true), overlaps).as(Forget::new);
    Arbitrary<Step> settles = Combinators.combine(Arbitraries.integers().between(0, 7), Arbitraries.of(Outcome.class))
      .as(Settle::new);
    Arbitrary<Step> pauses = Arbitraries.integers().between(1, 50).map(Pause::new);
    return Arbitraries.frequencyOf(
      Tuple.of(30, proxyCalls),
      Tuple.of(12, jsonCalls),
      Tuple.of(6, forgets),
      Tuple.of(20, settles),
      Tuple.of(6, pauses),
      Tuple.of(1, Arbitraries.just(new Undeploy())),
      Tuple.of(4, Arbitraries.just(new Redeploy()))
    ).list().ofMinSize(1).ofMaxSize(MAX_STEPS).withSizeDistribution(RandomDistribution.uniform());
  }

  /**
   * Takes the number of tries and the seed from the system properties {@value #TRIES_PROPERTY} and
   * {@value #SEED_PROPERTY}, and says in a failure how to replay it.
   */
  static final class TriesAndSeedFromSystemProperties implements AroundPropertyHook {
    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
      context.attributes().setTries(Integer.getInteger(TRIES_PROPERTY, DEFAULT_TRIES));
      String seed = System.getProperty(SEED_PROPERTY);
      if (seed != null && !seed.isBlank()) {
        context.attributes().setSeed(seed.trim());
      }
      PropertyExecutionResult result = property.execute();
      if (result.status() != PropertyExecutionResult.Status.FAILED) {
        return result;
      }
      String replay = result.seed()
        .map(s -> "replay with: mvn test -Dtest=RandomizedFlightsTest -D" + SEED_PROPERTY + "=" + s
          + "  (or @Property(seed = \"" + s + "\")); the shrunk steps are in jqwik's report above")
        .orElse("no seed was reported");
      Throwable failure = result.throwable().orElse(null);
      return result.mapToFailed(new AssertionError(replay + (failure == null ? "" : "\n" + failure.getMessage()), failure));
    }
  }

  // What the test records.

  /** A failure a function was told to produce; it names its key and execution. */
  static final class PlannedFailure extends Exception {
    final int exec;

    PlannedFailure(String key, int exec) {
      super(describe(key, exec), null, false, false);
      this.exec = exec;
    }
  }

  /** An {@code Error} a function was told to throw. */
  static final class PlannedError extends Error {
    final int exec;

    PlannedError(String key, int exec) {
      super(describe(key, exec), null, false, false);
      this.exec = exec;
    }
  }

  /** What an async function throws instead of returning a Future. */
  static final class PlannedThrow extends RuntimeException {
    final int exec;

    PlannedThrow(String key, int exec) {
      super(describe(key, exec), null, false, false);
      this.exec = exec;
    }
  }

  static String describe(String key, int exec) {
    return "planned failure of key=" + key + " exec=" + exec;
  }

  /** A body that crosses the event bus inside a JsonObject but has no codec of its own. */
  static final class Unsendable implements Shareable {
    @Override
    public String toString() {
      return "Unsendable";
    }
  }

  /** A caller verticle: the steps of an origin run on its context. */
  static final class CallerVerticle extends VerticleBase {
    Context context() {
      return context;
    }
  }

  /** One call (flight or forget) of the run, from the test's side. */
  static final class Caller {
    final int id;
    final String key;
    final Step step;
    final int generation;
    /** The caller's context, or {@code null} on a plain thread. */
    Context context;
    long sentNanos;
    /** The caller's future, only weakly: the test must not keep it alive. */
    WeakReference<Object> future;
    final AtomicInteger answers = new AtomicInteger();
    /** How often this caller's function (or its downstream request) ran. */
    final AtomicInteger runs = new AtomicInteger();
    volatile long answeredNanos;
    volatile Object value;
    volatile Throwable failure;
    volatile String wrongContext;

    Caller(int id, String key, Step step, int generation) {
      this.id = id;
      this.key = key;
      this.step = step;
      this.generation = generation;
    }

    boolean answered() {
      return answers.get() > 0;
    }

    Patience patience() {
      return step instanceof ProxyCall call ? call.patience() : Patience.NONE;
    }

    @Override
    public String toString() {
      return "call#" + id + " [" + step + "]";
    }
  }

  /** Where an execution runs. */
  enum Source { BLOCKING, ASYNC, SERVICE }

  /** One run of a function, or one request received by the service. */
  static final class Execution {
    final int id;
    final String key;
    /** The call whose function ran, or whose JSON flight sent the request. */
    final Caller leader;
    final Source source;
    final long startNanos;
    /** Completed by a settle step; a held execution waits for it. */
    final CompletableFuture<Void> release = new CompletableFuture<>();
    /** Executions of the key still running when this one started. */
    List<Execution> overlapped = List.of();
    /** Executions of the deployment still running when this one started, this one included. */
    int runningAtStart;
    /** Set before {@link #release} completes. */
    volatile boolean returned;
    volatile Outcome outcome;
    volatile boolean interrupted;
    volatile boolean returnedNull;
    volatile Object result;
    volatile Throwable thrown;
    /** When the first caller got this execution's outcome, or {@link Long#MAX_VALUE}. */
    volatile long firstAnsweredNanos = Long.MAX_VALUE;

    Execution(int id, String key, Caller leader, Source source) {
      this.id = id;
      this.key = key;
      this.leader = leader;
      this.source = source;
      this.startNanos = System.nanoTime();
    }

    @Override
    public String toString() {
      return "exec#" + id + " (" + key + ", " + source + ", led by call#" + leader.id + ")";
    }
  }

  record Undeployment(long beganNanos) {
  }

  /** One try: a Vert.x with metrics, the verticle, the callers and the model of what happened. */
  static final class Run implements AutoCloseable {

    final Deployment deployment;
    final MeterRegistry registry = new SimpleMeterRegistry();
    final Vertx vertx;
    final SingleFlight flights;
    final Map<Origin, Executor> origins = new EnumMap<>(Origin.class);
    final List<ExecutorService> plainThreads = new ArrayList<>();
    final List<CompletableFuture<Void>> dispatched = new ArrayList<>();
    final Map<Integer, Caller> callers = new ConcurrentHashMap<>();
    final Map<Integer, Execution> executions = new ConcurrentHashMap<>();
    final List<Undeployment> undeployments = new ArrayList<>();
    final Set<String> keysUsed = new TreeSet<>();
    final List<String> violations = new ArrayList<>();
    /** Why executions of a key that overlapped were allowed to, one entry per pair. */
    final List<String> separations = new ArrayList<>();
    final List<String> log = new ArrayList<>();
    final AtomicInteger callIds = new AtomicInteger();
    final AtomicInteger execIds = new AtomicInteger();
    final long startedNanos = System.nanoTime();
    String deploymentId;
    /** Set once the run settles everything: executions starting from then on end at once. */
    boolean settlingAll;
    /** Bumped when an undeploy completes: calls sent before reach the old deployment or none. */
    volatile int generation;

    Run(Deployment deployment) {
      this.deployment = deployment;
      this.vertx = MetricsTest.vertxWithMetrics(registry, true);
      this.flights = SingleFlight.createProxy(vertx);
    }

    void start() throws Exception {
      deploy();
      for (Origin origin : List.of(Origin.PLAIN_1, Origin.PLAIN_2)) {
        ExecutorService thread = Executors.newSingleThreadExecutor(task -> {
          Thread t = new Thread(task, "randomized-" + origin);
          t.setDaemon(true);
          return t;
        });
        plainThreads.add(thread);
        origins.put(origin, thread);
      }
      origins.put(Origin.EVENT_LOOP_1, contextOf(new DeploymentOptions()));
      origins.put(Origin.EVENT_LOOP_2, contextOf(new DeploymentOptions()));
      // A pool of its own: held blocking functions must not starve the worker caller.
      origins.put(Origin.WORKER, contextOf(new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)
        .setWorkerPoolName("randomized-callers").setWorkerPoolSize(1)));
      await(vertx.eventBus().consumer(SERVICE, this::serve).completion());
    }

    private Executor contextOf(DeploymentOptions options) throws Exception {
      CallerVerticle verticle = new CallerVerticle();
      await(vertx.deployVerticle(verticle, options));
      Context context = verticle.context();
      return task -> context.runOnContext(v -> task.run());
    }

    private void deploy() throws Exception {
      SingleFlightOptions options = deployment.options();
      deploymentId = await(vertx.deployVerticle(() -> new SingleFlightVerticle(options),
        new DeploymentOptions().setInstances(deployment.instances())));
    }

    // Performing the steps.

    void perform(Step step) throws Exception {
      if (step instanceof ProxyCall call) {
        dispatch(call.origin(), call.overlap(), () -> proxyCall(call));
      } else if (step instanceof JsonCall call) {
        dispatch(call.origin(), call.overlap(), () -> jsonCall(call));
      } else if (step instanceof Forget forget) {
        dispatch(forget.origin(), forget.overlap(), () -> forget(forget));
      } else if (step instanceof Settle settle) {
        settle(settle);
      } else if (step instanceof Pause pause) {
        note("pause " + pause.millis() + " ms");
        Thread.sleep(pause.millis());
      } else if (step instanceof Undeploy) {
        undeploy();
      } else if (step instanceof Redeploy) {
        redeploy();
      }
    }

    private void dispatch(Origin origin, boolean overlap, Runnable body) throws Exception {
      CompletableFuture<Void> ran = new CompletableFuture<>();
      origins.get(origin).execute(() -> {
        try {
          body.run();
        } catch (Throwable t) {
          violation("a step on " + origin + " threw " + t);
        } finally {
          ran.complete(null);
        }
      });
      synchronized (this) {
        dispatched.add(ran);
      }
      if (!overlap) {
        ran.get(WAIT_SECONDS, TimeUnit.SECONDS);
      }
    }

    private Caller newCaller(String key, Step step) {
      Caller caller = new Caller(callIds.incrementAndGet(), key, step, generation);
      caller.context = Vertx.currentContext();
      callers.put(caller.id, caller);
      synchronized (this) {
        keysUsed.add(key);
      }
      note(caller + " sent");
      caller.sentNanos = System.nanoTime();
      return caller;
    }

    /**
     * Records the answer of {@code caller}, and for a proxy caller whether it arrived on its own context
     * (an event loop for a plain thread).
     */
    private void watch(Caller caller, Future<?> future, boolean json) {
      caller.future = new WeakReference<>(future);
      future.onComplete(ar -> {
        long now = System.nanoTime();
        Context current = Vertx.currentContext();
        // The README's promise is the proxy's; where a JSON reply lands is Vert.x's business.
        if (!json && (caller.context != null ? current != caller.context : !Context.isOnEventLoopThread())) {
          caller.wrongContext = "completed on " + Thread.currentThread().getName() + " with context " + current
            + ", not on its caller's " + (caller.context != null ? "context " + caller.context : "event loop");
        }
        if (ar.succeeded()) {
          caller.value = json ? ((Message<?>) ar.result()).body() : ar.result();
        } else {
          caller.failure = ar.cause();
        }
        caller.answeredNanos = now;
        caller.answers.incrementAndGet();
      });
    }

    private void proxyCall(ProxyCall step) {
      String key = "k" + step.key();
      Caller caller = newCaller(key, step);
      Duration timeout = step.patience().duration;
      Future<Object> future;
      if (step.fn().blocking) {
        Callable<Object> fn = () -> runBlocking(caller, step.fn());
        future = timeout == null ? flights.flight(key, fn) : flights.flight(key, fn, timeout);
      } else {
        Supplier<Future<Object>> fn = () -> runAsync(caller, step.fn());
        future = timeout == null ? flights.flightAsync(key, fn) : flights.flightAsync(key, fn, timeout);
      }
      watch(caller, future, false);
    }

    private void jsonCall(JsonCall step) {
      String key = "k" + step.key();
      Caller caller = newCaller(key, step);
      JsonObject request = new JsonObject().put("key", key).put("address", step.target().address);
      if (step.target() == Target.UNSENDABLE_BODY) {
        request.put("body", new Unsendable());
      } else {
        request.put("body", new JsonObject().put("key", key).put("call", caller.id));
      }
      if (step.timeout().value != null) {
        request.put("timeout", step.timeout().value);
      }
      watch(caller, vertx.eventBus().request(ADDRESS, request, new DeliveryOptions().setSendTimeout(REQUESTER_TIMEOUT_MS)), true);
    }

    private void forget(Forget step) {
      String key = "k" + step.key();
      Caller caller = newCaller(key, step);
      if (step.json()) {
        watch(caller, vertx.eventBus().request(ADDRESS, new JsonObject().put("key", key),
          new DeliveryOptions().addHeader("action", "forget").setSendTimeout(REQUESTER_TIMEOUT_MS)), true);
      } else {
        watch(caller, flights.forget(key), false);
      }
    }

    // The executions.

    /**
     * Registers an execution; one that ends at once is ended by {@code endNow} before it is registered,
     * so that no settle step can see it running. Once the run settles everything, an execution that
     * starts late (a blocking function queued for a worker thread) ends at once with a value.
     */
    private Execution startExecution(Caller leader, Source source, Consumer<Execution> endNow) {
      Execution started = startExecutionLocked(leader, source, endNow != null ? endNow
        : settlingAll ? e -> end(e, Outcome.VALUE) : null);
      if (started.returned) {
        started.release.complete(null);
      }
      return started;
    }

    private Execution startExecutionLocked(Caller leader, Source source, Consumer<Execution> endNow) {
      synchronized (this) {
        Execution exec = new Execution(execIds.incrementAndGet(), leader.key, leader, source);
        List<Execution> sameKey = new ArrayList<>();
        int running = 1;
        for (Execution other : executions.values()) {
          if (other.returned) {
            continue;
          }
          if (other.key.equals(exec.key)) {
            sameKey.add(other);
          }
          if (other.leader.generation == leader.generation && !mayHaveTimedOutDownstream(other)) {
            running++;
          }
        }
        exec.overlapped = sameKey;
        exec.runningAtStart = running;
        if (endNow != null) {
          endNow.accept(exec);
        }
        executions.put(exec.id, exec);
        if (leader.runs.incrementAndGet() > 1) {
          violation(leader + ": its function (or downstream request) ran " + leader.runs.get() + " times, " + exec);
        }
        note(exec + " started");
        return exec;
      }
    }

    private static boolean mayHaveTimedOutDownstream(Execution exec) {
      return exec.source == Source.SERVICE && exec.leader.step instanceof JsonCall call && call.timeout().mayElapse();
    }

    /** Ends {@code exec} with {@code outcome}: the result is made and recorded before the function sees it. */
    private void settle(Execution exec, Outcome outcome) {
      synchronized (this) {
        if (exec.returned) {
          return;
        }
        end(exec, outcome);
      }
      exec.release.complete(null);
    }

    /** Records how {@code exec} ends. Called with the lock held. */
    private void end(Execution exec, Outcome outcome) {
      Outcome effective = outcome;
      if (exec.source == Source.SERVICE) {
        // A service can only reply what the event bus carries, and fails with a code.
        effective = outcome == Outcome.UNENCODABLE ? Outcome.VALUE : outcome == Outcome.ERROR ? Outcome.FAILURE : outcome;
      }
      exec.outcome = effective;
      switch (effective) {
        case VALUE -> exec.result = value(exec);
        case UNENCODABLE -> exec.result = value(exec).put("when", new Object());
        case FAILURE -> exec.thrown = new PlannedFailure(exec.key, exec.id);
        case ERROR -> exec.thrown = new PlannedError(exec.key, exec.id);
      }
      exec.returned = true;
    }

    private static JsonObject value(Execution exec) {
      return new JsonObject().put("key", exec.key).put("exec", exec.id);
    }

    private Object runBlocking(Caller caller, Fn fn) throws Exception {
      Execution exec = startExecution(caller, Source.BLOCKING, switch (fn) {
        case BLOCKING_RETURNS -> e -> end(e, Outcome.VALUE);
        case BLOCKING_THROWS -> e -> end(e, Outcome.FAILURE);
        default -> null;
      });
      switch (fn) {
        case BLOCKING_RETURNS, BLOCKING_THROWS -> { }
        default -> {
          try {
            exec.release.get(WAIT_SECONDS * 3, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            synchronized (this) {
              exec.interrupted = true;
              exec.returned = true;
            }
            note(exec + " interrupted");
            throw e;
          }
        }
      }
      if (exec.thrown instanceof Exception e) {
        throw e;
      }
      if (exec.thrown instanceof Error e) {
        throw e;
      }
      return exec.result;
    }

    private Future<Object> runAsync(Caller caller, Fn fn) {
      Execution exec = startExecution(caller, Source.ASYNC, switch (fn) {
        case ASYNC_RETURNS -> e -> end(e, Outcome.VALUE);
        case ASYNC_RETURNS_UNENCODABLE -> e -> end(e, Outcome.UNENCODABLE);
        case ASYNC_FAILS -> e -> end(e, Outcome.FAILURE);
        case ASYNC_THROWS -> e -> {
          e.outcome = Outcome.FAILURE;
          e.thrown = new PlannedThrow(e.key, e.id);
          e.returned = true;
        };
        case ASYNC_RETURNS_NULL -> e -> {
          e.returnedNull = true;
          e.returned = true;
        };
        default -> null;
      });
      switch (fn) {
        case ASYNC_RETURNS, ASYNC_RETURNS_UNENCODABLE -> {
          return Future.succeededFuture(exec.result);
        }
        case ASYNC_FAILS -> {
          return Future.failedFuture(exec.thrown);
        }
        case ASYNC_THROWS -> throw (PlannedThrow) exec.thrown;
        case ASYNC_RETURNS_NULL -> {
          return null;
        }
        default -> {
          // Completed from the thread of the settle step, not from the verticle's event loop.
          Promise<Object> promise = Promise.promise();
          exec.release.thenRun(() -> {
            if (exec.thrown != null) {
              promise.fail(exec.thrown);
            } else {
              promise.complete(exec.result);
            }
          });
          return promise.future();
        }
      }
    }

    /** The service behind JSON flights: each request is an execution led by the call named in its body. */
    private void serve(Message<Object> message) {
      if (!(message.body() instanceof JsonObject body) || !(body.getValue("call") instanceof Integer id)
        || callers.get(id) == null) {
        violation("the service got a request that no JSON call sent: " + message.body());
        message.fail(SERVICE_FAILURE, "unexpected request");
        return;
      }
      Caller leader = callers.get(id);
      if (!leader.key.equals(body.getString("key"))) {
        violation("the service got the body of " + leader + " for another key: " + body);
      }
      boolean repliesAtOnce = leader.step instanceof JsonCall call && call.target() == Target.SERVICE_REPLIES;
      Execution exec = startExecution(leader, Source.SERVICE, repliesAtOnce ? e -> end(e, Outcome.VALUE) : null);
      exec.release.thenRun(() -> {
        if (exec.thrown != null) {
          message.fail(SERVICE_FAILURE, exec.thrown.getMessage());
        } else {
          message.reply(exec.result);
        }
      });
      if (repliesAtOnce) {
        exec.release.complete(null);
      }
    }

    private void settle(Settle step) {
      List<Execution> running = running();
      if (running.isEmpty()) {
        note("settle: nothing is running");
        return;
      }
      Execution exec = running.get(step.pick() % running.size());
      note("settle " + exec + " with " + step.outcome());
      settle(exec, step.outcome());
    }

    private synchronized List<Execution> running() {
      return executions.values().stream().filter(e -> !e.returned).sorted((a, b) -> Integer.compare(a.id, b.id)).toList();
    }

    private void undeploy() throws Exception {
      if (deploymentId == null) {
        note("undeploy: nothing deployed");
        return;
      }
      long began = System.nanoTime();
      note("undeploy");
      try {
        await(vertx.undeploy(deploymentId));
      } catch (Exception e) {
        violation("undeploying failed: " + e);
      }
      synchronized (this) {
        undeployments.add(new Undeployment(began));
        generation++;
      }
      deploymentId = null;
    }

    private void redeploy() throws Exception {
      if (deploymentId != null) {
        note("redeploy: already deployed");
        return;
      }
      note("redeploy");
      deploy();
    }

    // After the steps.

    void finish() throws Exception {
      List<CompletableFuture<Void>> steps;
      synchronized (this) {
        steps = new ArrayList<>(dispatched);
      }
      try {
        CompletableFuture.allOf(steps.toArray(CompletableFuture[]::new)).get(WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        violation("a step did not run within " + WAIT_SECONDS + " s: its origin is stuck");
      }

      note("waiting for the callers with short timeouts");
      awaitShortTimeouts();
      List<Caller> answeredEarly = callers.values().stream().filter(Caller::answered).toList();
      List<Caller> retained = stillReachable(answeredEarly);
      if (!retained.isEmpty()) {
        violation(retained.size() + " of " + answeredEarly.size() + " callers answered while flights still ran are"
          + " still reachable after GC (a caller that left must cost nothing), e.g. " + first(retained));
      }

      settleEverything();
      if (deploymentId == null) {
        redeploy();
      }
      awaitGaugesAtZero("after the run");
      freshCallsRunFresh();
      awaitGaugesAtZero("after the fresh calls");
      List<Caller> all = List.copyOf(callers.values());
      List<Caller> leaked = stillReachable(all);
      if (!leaked.isEmpty()) {
        violation(leaked.size() + " of " + all.size() + " answered callers are still reachable after GC, e.g. " + first(leaked));
      }
      for (Caller caller : all) {
        judge(caller);
      }
      for (Execution exec : executions.values()) {
        judge(exec);
      }
    }

    /** Waits for every caller with a short timeout: it must be answered within its timeout and 3 s. */
    private void awaitShortTimeouts() throws InterruptedException {
      for (Caller caller : callers.values()) {
        if (!caller.patience().isShort()) {
          continue;
        }
        long deadline = caller.sentNanos + caller.patience().duration.toNanos() + SHORT_TIMEOUT_GRACE_NANOS;
        while (!caller.answered() && System.nanoTime() - deadline < 0) {
          Thread.sleep(2);
        }
        if (!caller.answered()) {
          violation(caller + " with a timeout of " + caller.patience().duration.toMillis()
            + " ms was not answered within it and 3 s");
        }
      }
    }

    /** Settles every execution still held, until every caller is answered. */
    private void settleEverything() throws InterruptedException {
      note("settling every execution still running");
      synchronized (this) {
        settlingAll = true;
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SETTLED_SECONDS);
      while (System.nanoTime() - deadline < 0) {
        for (Execution exec : running()) {
          if (!exec.interrupted) {
            settle(exec, Outcome.VALUE);
          }
        }
        if (running().isEmpty() && callers.values().stream().allMatch(Caller::answered)) {
          return;
        }
        Thread.sleep(5);
      }
      List<Caller> unanswered = callers.values().stream().filter(c -> !c.answered()).toList();
      violation(unanswered.size() + " callers were never answered, though every execution was settled: " + first(unanswered));
    }

    private void awaitGaugesAtZero(String when) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SETTLED_SECONDS);
      double inflight;
      double waiters;
      do {
        inflight = gauge("singleflight.inflight");
        waiters = gauge("singleflight.waiters");
        if (inflight == 0 && waiters == 0) {
          return;
        }
        Thread.sleep(5);
      } while (System.nanoTime() - deadline < 0);
      violation("gauges not back to 0 " + when + ": singleflight.inflight " + inflight + ", singleflight.waiters " + waiters);
    }

    private double gauge(String name) {
      Gauge gauge = registry.find(name).tag("address", ADDRESS).gauge();
      return gauge == null ? Double.NaN : gauge.value();
    }

    /**
     * A fresh call of every key used must run its own function, once, and get its value. The function
     * is async, so it runs at once, on the verticle's event loop, whatever the worker threads do; and
     * the calls go one after the other: with maxInFlight, fresh calls of several keys at once could be
     * refused.
     */
    private void freshCallsRunFresh() {
      for (String key : keysUsed) {
        AtomicInteger runs = new AtomicInteger();
        String fresh = key + " fresh";
        try {
          Object value = flights.<Object>flightAsync(key, () -> {
            runs.incrementAndGet();
            return Future.succeededFuture(fresh);
          }, Duration.ofSeconds(SETTLED_SECONDS)).toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
          note("fresh call of " + key + ": " + value);
          if (!fresh.equals(value) || runs.get() != 1) {
            violation("a fresh call of " + key + " got " + value + " and its function ran " + runs.get() + " times");
          }
        } catch (ExecutionException e) {
          note("fresh call of " + key + ": " + e.getCause());
          violation("a fresh call of " + key + " failed and its function ran " + runs.get() + " times (is the key wedged?): "
            + e.getCause());
        } catch (Exception e) {
          violation("a fresh call of " + key + " was not answered: " + e);
        }
      }
    }

    /**
     * @return the callers whose futures are still reachable after GCs for {@value #SETTLED_SECONDS} s:
     * a task still queued on a busy event loop may hold a future for a while, a leak holds it for good
     */
    private List<Caller> stillReachable(Collection<Caller> answered) throws InterruptedException {
      List<Caller> reachable = List.copyOf(answered);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SETTLED_SECONDS);
      for (int i = 0; !reachable.isEmpty() && System.nanoTime() - deadline < 0; i++) {
        System.gc();
        Thread.sleep(i < 5 ? 10 : 100);
        reachable = reachable.stream().filter(c -> c.future != null && c.future.get() != null).toList();
      }
      return reachable;
    }

    // The checks.

    private void judge(Caller caller) {
      int answers = caller.answers.get();
      if (answers != 1) {
        violation(caller + " was answered " + answers + " times");
        return;
      }
      if (caller.wrongContext != null) {
        violation(caller + " " + caller.wrongContext);
      }
      String problem;
      if (caller.failure instanceof ReplyException reply && discarded(reply) && undeployedBefore(caller.answeredNanos)) {
        // Any JSON request or forget may meet the README's one race with an undeploy.
        problem = null;
      } else if (caller.step instanceof Forget forget) {
        problem = judgeForget(caller, forget);
      } else if (caller.step instanceof JsonCall call && !refusals(call).isEmpty()) {
        problem = judgeRefusal(caller, refusals(call));
      } else if (caller.step instanceof JsonCall call) {
        problem = caller.failure == null ? judgeValue(caller, false) : judgeJsonFailure(caller, call);
      } else {
        problem = caller.failure == null ? judgeValue(caller, true) : judgeProxyFailure(caller);
      }
      if (problem != null) {
        violation(caller + " got " + (caller.failure != null ? caller.failure : "the value " + caller.value) + ": " + problem);
      }
    }

    /**
     * @return the codes a JSON request must be refused with, whatever else happens (any one of them
     * when several apply): 403 for the verticle's own addresses, 400 for a timeout that is not a
     * whole number
     */
    private static List<Integer> refusals(JsonCall call) {
      List<Integer> codes = new ArrayList<>();
      if (call.target() == Target.SELF || call.target() == Target.INSTANCE) {
        codes.add(403);
      }
      if (call.timeout() == JsonTimeout.FRACTION) {
        codes.add(400);
      }
      return codes;
    }

    private String judgeRefusal(Caller caller, List<Integer> codes) {
      if (caller.failure instanceof ReplyException reply) {
        if (reply.failureType() == ReplyFailure.RECIPIENT_FAILURE && codes.contains(reply.failureCode())) {
          return null;
        }
        if (undeployedBefore(caller.answeredNanos) && (reply.failureType() == ReplyFailure.NO_HANDLERS
          || reply.failureCode() == 503)) {
          return null;
        }
      }
      return "a request that must be refused with " + codes.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(" or "));
    }

    private String judgeForget(Caller caller, Forget forget) {
      Throwable failure = caller.failure;
      if (failure == null) {
        return caller.value == null ? null : "a forget answers null";
      }
      if (undeployedBefore(caller.answeredNanos)) {
        if (failure instanceof ReplyException reply && (reply.failureType() == ReplyFailure.NO_HANDLERS
          || reply.failureCode() == 503)) {
          return null;
        }
        if (!forget.json() && failure instanceof IllegalStateException) {
          return null;
        }
      }
      return "a forget fails only when the verticle is gone or stopping";
    }

    /** A value: of this key, of an execution of this key that returned a value. */
    private String judgeValue(Caller caller, boolean proxy) {
      if (!(caller.value instanceof JsonObject value)) {
        return "not a value any execution produced";
      }
      Execution exec = value.getValue("exec") instanceof Integer id ? executions.get(id) : null;
      if (!caller.key.equals(value.getValue("key")) || exec == null || !exec.key.equals(caller.key)) {
        return "a value of another key's flight";
      }
      if (exec.outcome != Outcome.VALUE && exec.outcome != Outcome.UNENCODABLE) {
        return exec + " did not return a value";
      }
      if (!proxy && exec.outcome == Outcome.UNENCODABLE) {
        return "a JSON requester cannot be sent " + exec + "'s result";
      }
      if (proxy && exec.source != Source.SERVICE && value != exec.result) {
        return "a copy of " + exec + "'s result, not the very instance";
      }
      return answeredBy(caller, exec);
    }

    private String judgeProxyFailure(Caller caller) {
      Throwable failure = caller.failure;
      if (failure instanceof PlannedFailure || failure instanceof PlannedError || failure instanceof PlannedThrow) {
        Execution exec = executions.get(planned(failure));
        if (exec == null || !exec.key.equals(caller.key) || exec.thrown != failure) {
          return "the failure of another key's flight, or not the very instance";
        }
        return answeredBy(caller, exec);
      }
      if (failure instanceof CallerTimeoutException) {
        Duration timeout = caller.patience().duration;
        if (timeout == null) {
          return "a CallerTimeoutException for a caller without a timeout";
        }
        long waited = caller.answeredNanos - caller.sentNanos;
        return waited >= timeout.toNanos() ? null : "timed out after " + waited + " ns, before its timeout " + timeout;
      }
      if (failure instanceof TimeoutException) {
        return deployment.maxFlightTime() > 0 ? null : "a TimeoutException (not the caller's own) without maxFlightTime";
      }
      if (failure instanceof IllegalStateException) {
        return undeployedBefore(caller.answeredNanos) ? null : "an IllegalStateException, but the verticle was not undeployed";
      }
      if (failure instanceof RejectedExecutionException) {
        return deployment.limited() ? null : "a RejectedExecutionException without maxInFlight nor maxWaiters";
      }
      if (failure instanceof NullPointerException) {
        return failure.getMessage() != null && failure.getMessage().contains("'" + caller.key + "'")
          && anyExecution(caller.key, e -> e.returnedNull) ? null : "a NullPointerException no async function of the key caused";
      }
      if (failure instanceof IllegalArgumentException || String.valueOf(failure.getMessage()).contains("codec")) {
        // A JSON flight of the key whose downstream request could not be sent: its callers fail with that.
        return anyJsonCall(caller.key, c -> c.target() == Target.UNSENDABLE_BODY) ? null
          : "an IllegalArgumentException, but no flight of the key could fail to start";
      }
      if (failure instanceof ReplyException reply) {
        // A proxy caller that joined a JSON flight gets its downstream failure.
        return switch (reply.failureType()) {
          case NO_HANDLERS -> undeployedBefore(caller.answeredNanos) || anyJsonCall(caller.key, c -> c.target() == Target.NOWHERE)
            ? null : "NO_HANDLERS, but the verticle was deployed and no JSON flight of the key went nowhere";
          case TIMEOUT -> anyJsonCall(caller.key, c -> c.timeout().mayElapse())
            ? null : "a downstream TIMEOUT, but no JSON flight of the key had a short timeout";
          default -> judgeServiceFailure(caller, reply);
        };
      }
      return "not a documented failure of a proxy caller";
    }

    private String judgeJsonFailure(Caller caller, JsonCall call) {
      if (!(caller.failure instanceof ReplyException reply)) {
        return "a JSON requester fails with a ReplyException";
      }
      boolean undeployed = undeployedBefore(caller.answeredNanos);
      if (reply.failureType() == ReplyFailure.NO_HANDLERS) {
        return undeployed ? null : "NO_HANDLERS at the verticle's address, but it was deployed";
      }
      if (reply.failureType() != ReplyFailure.RECIPIENT_FAILURE) {
        return "the verticle did not answer (" + reply.failureType() + ")";
      }
      int code = reply.failureCode();
      String message = String.valueOf(reply.getMessage());
      return switch (code) {
        case SERVICE_FAILURE -> judgeServiceFailure(caller, reply);
        case 404 -> anyJsonCall(caller.key, c -> c.target() == Target.NOWHERE) ? null : "404, but no JSON flight of the key went nowhere";
        case 500 -> judgeInternalError(caller, message);
        case 503 -> undeployed || deployment.limited() ? null : "503 without limits or undeploy";
        case 504 -> deployment.maxFlightTime() > 0
          || anyJsonCall(caller.key, c -> c.timeout().mayElapse())
          ? null : "504 without maxFlightTime or a short downstream timeout";
        default -> "not a documented code";
      };
    }

    /** A 500: a proxy flight of the key failed, or its result could not be encoded, or it could not start. */
    private String judgeInternalError(Caller caller, String message) {
      Matcher planned = PLANNED.matcher(message);
      if (planned.find()) {
        Execution exec = executions.get(Integer.parseInt(planned.group(2)));
        if (exec == null || !exec.key.equals(caller.key) || !planned.group(1).equals(caller.key) || exec.thrown == null
          || exec.source == Source.SERVICE) {
          return "the failure of another key's flight";
        }
        return answeredBy(caller, exec);
      }
      if (anyExecution(caller.key, e -> e.outcome == Outcome.UNENCODABLE)) {
        if (message.contains("java.lang.Object")) {
          return null;
        }
        if (!anyJsonCall(caller.key, c -> c.target() == Target.UNSENDABLE_BODY)
          && !anyExecution(caller.key, e -> e.returnedNull)) {
          return "a 500 for a result that cannot be encoded must name the type (java.lang.Object)";
        }
      }
      if (message.contains("'" + caller.key + "'") && anyExecution(caller.key, e -> e.returnedNull)) {
        return null;
      }
      if (anyJsonCall(caller.key, c -> c.target() == Target.UNSENDABLE_BODY)) {
        return null;
      }
      return "a 500 that no flight of the key explains";
    }

    /** The service's planned failure, relayed: of this key, of a service execution that failed. */
    private String judgeServiceFailure(Caller caller, ReplyException reply) {
      Matcher planned = PLANNED.matcher(String.valueOf(reply.getMessage()));
      if (reply.failureCode() != SERVICE_FAILURE || !planned.find()) {
        return "not a failure of the service";
      }
      Execution exec = executions.get(Integer.parseInt(planned.group(2)));
      if (exec == null || !exec.key.equals(caller.key) || !planned.group(1).equals(caller.key)
        || exec.source != Source.SERVICE || exec.outcome != Outcome.FAILURE) {
        return "the failure of another key's flight";
      }
      return answeredBy(caller, exec);
    }

    /**
     * Notes that {@code caller} got the outcome of {@code exec}. A caller sent after the first answer
     * of a flight, or after a forget of its key answered, must not get that flight's outcome: the
     * flight had left the map.
     */
    private String answeredBy(Caller caller, Execution exec) {
      synchronized (this) {
        if (caller.answeredNanos < exec.firstAnsweredNanos) {
          exec.firstAnsweredNanos = caller.answeredNanos;
        }
      }
      for (Caller forget : callers.values()) {
        if (forget.step instanceof Forget && forget.key.equals(caller.key) && forget.answered() && forget.failure == null
          && exec.startNanos - forget.sentNanos < 0 && forget.answeredNanos - caller.sentNanos < 0) {
          return "the outcome of " + exec + ", which started before " + forget + " and was answered before this call was sent";
        }
      }
      return null;
    }

    private void judge(Execution exec) {
      for (Caller caller : callers.values()) {
        if (caller.sentNanos - exec.firstAnsweredNanos > 0 && gotOutcomeOf(caller, exec)) {
          violation(caller + " was sent after " + exec + " had answered a caller, and got its outcome: nothing is cached");
        }
      }
      for (Execution other : exec.overlapped) {
        String reason = separated(other, exec);
        if (reason == null) {
          reason = separated(exec, other);
        }
        if (reason == null) {
          violation(exec + " started while " + other + " ran, and no forget, undeploy, maxFlightTime, downstream"
            + " timeout or cancelAbandoned separated them");
        } else {
          separations.add(reason);
        }
      }
      int allowed = deployment.maxInFlight() * deployment.instances();
      if (deployment.maxInFlight() > 0 && deployment.maxFlightTime() == 0 && !deployment.cancelAbandoned()
        && exec.runningAtStart > allowed) {
        violation(exec + " started while " + (exec.runningAtStart - 1) + " other executions ran; maxInFlight "
          + deployment.maxInFlight() + " x " + deployment.instances() + " instances allows " + allowed);
      }
    }

    private boolean gotOutcomeOf(Caller caller, Execution exec) {
      if (caller.value instanceof JsonObject value) {
        return Integer.valueOf(exec.id).equals(value.getValue("exec")) && exec.key.equals(value.getValue("key"));
      }
      if (caller.failure != null && exec.thrown != null) {
        if (caller.failure == exec.thrown) {
          return true;
        }
        Matcher planned = PLANNED.matcher(String.valueOf(caller.failure.getMessage()));
        return planned.find() && planned.group(1).equals(exec.key) && Integer.parseInt(planned.group(2)) == exec.id;
      }
      return false;
    }

    /**
     * @return why the flight of {@code first} may have left the map before the flight of
     * {@code second} was made (by the time {@code second}'s function started), or {@code null}
     */
    private String separated(Execution first, Execution second) {
      if (first.leader.generation != second.leader.generation) {
        return "an undeploy";
      }
      long madeBy = second.startNanos;
      long since = first.leader.sentNanos;
      for (Caller forget : callers.values()) {
        if (forget.step instanceof Forget && forget.key.equals(first.key) && forget.sentNanos - madeBy < 0
          && (!forget.answered() || forget.answeredNanos - since > 0)) {
          return "a forget";
        }
      }
      if (deployment.maxFlightTime() > 0 && madeBy - since >= TimeUnit.MILLISECONDS.toNanos(deployment.maxFlightTime())) {
        return "maxFlightTime";
      }
      if (first.source == Source.SERVICE && first.leader.step instanceof JsonCall call
        && call.timeout().mayElapse() && madeBy - since >= TimeUnit.MILLISECONDS.toNanos(call.timeout().elapsesAfterMillis())) {
        return "a downstream timeout";
      }
      if (deployment.cancelAbandoned()) {
        for (Caller caller : callers.values()) {
          Duration timeout = caller.patience().duration;
          if (timeout != null && caller.key.equals(first.key) && caller.failure instanceof TimeoutException
            && caller.patience().isShort() && caller.sentNanos + timeout.toNanos() - madeBy <= 0) {
            return "cancelAbandoned";
          }
        }
      }
      return null;
    }

    /** @return what {@code caller} got, in a word, for the statistics */
    String answerOf(Caller caller) {
      String kind = caller.step instanceof Forget ? "forget: " : caller.step instanceof JsonCall ? "json: " : "proxy: ";
      if (caller.answers.get() == 0) {
        return kind + "no answer";
      }
      if (caller.failure == null) {
        return kind + (caller.value == null ? "null" : "value");
      }
      if (caller.failure instanceof ReplyException reply) {
        return kind + (reply.failureType() == ReplyFailure.RECIPIENT_FAILURE ? "code " + reply.failureCode() : reply.failureType());
      }
      return kind + caller.failure.getClass().getSimpleName();
    }

    /**
     * @return whether Vert.x's consumer discarded the request: the README's one race, a JSON request
     * reaching the verticle in the instant its consumer unregisters
     */
    private static boolean discarded(ReplyException reply) {
      return reply.failureType() == ReplyFailure.TIMEOUT && String.valueOf(reply.getMessage()).startsWith("Discarded the request");
    }

    private boolean undeployedBefore(long nanos) {
      synchronized (this) {
        return undeployments.stream().anyMatch(u -> u.beganNanos() - nanos < 0);
      }
    }

    private boolean anyJsonCall(String key, Predicate<JsonCall> test) {
      return callers.values().stream().anyMatch(c -> c.key.equals(key) && c.step instanceof JsonCall call && test.test(call));
    }

    private boolean anyExecution(String key, Predicate<Execution> test) {
      return executions.values().stream().anyMatch(e -> e.key.equals(key) && test.test(e));
    }

    private static int planned(Throwable failure) {
      if (failure instanceof PlannedFailure f) {
        return f.exec;
      }
      if (failure instanceof PlannedError e) {
        return e.exec;
      }
      return ((PlannedThrow) failure).exec;
    }

    private static String first(List<Caller> callers) {
      return callers.stream().limit(5).map(Object::toString).toList() + (callers.size() > 5 ? " ..." : "");
    }

    private synchronized void violation(String text) {
      violations.add(text);
    }

    private synchronized void note(String text) {
      log.add(String.format("%6.1f ms %s: %s", (System.nanoTime() - startedNanos) / 1e6, Thread.currentThread().getName(), text));
    }

    synchronized String report() {
      StringBuilder report = new StringBuilder();
      report.append(violations.size()).append(" broken promises with ").append(deployment).append(":\n");
      violations.stream().limit(30).forEach(v -> report.append("  - ").append(v).append('\n'));
      if (violations.size() > 30) {
        report.append("  ...\n");
      }
      report.append("the run as performed:\n");
      log.forEach(line -> report.append("  ").append(line).append('\n'));
      return report.toString();
    }

    @Override
    public void close() throws Exception {
      for (Execution exec : executions.values()) {
        exec.release.complete(null);
      }
      plainThreads.forEach(ExecutorService::shutdownNow);
      vertx.close().toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  static <T> T await(Future<T> future) throws Exception {
    return FlightTestBase.await(future);
  }
}
