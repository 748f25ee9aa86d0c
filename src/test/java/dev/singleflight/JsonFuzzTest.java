package dev.singleflight;

import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random JSON-protocol requests: every one is answered, with what the README's protocol says it
 * must get, and afterwards the verticle still serves.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JsonFuzzTest extends FlightTestBase {

  static final int REQUESTS = 5_000;
  static final String OWN = SingleFlightOptions.DEFAULT_ADDRESS;
  /** Services, an address nobody listens at, a forbidden one, and the verticle's own and internal ones. */
  static final String[] ADDRESSES = {"echo.service", "failing.service", "silent.service", "nobody.home", "admin.secret",
    OWN, OWN + ".instance-0", OWN + ".node.x", OWN + ".anything"};
  /** Timeouts at the edges: huge, fractional, whole as a double, negative and beyond long. */
  static final Object[] EDGE_TIMEOUTS = {1e19, Long.MAX_VALUE, 9.2e18, -1e19, Long.MIN_VALUE, 0.5, 1.5, 250.0, 1e-300,
    new BigInteger("18446744073709551617"), Double.MAX_VALUE, 0, 1};
  static final String[] ACTIONS = {null, "flight", "forget", "FLIGHT", "", "delete", "flight "};

  final SplittableRandom random = new SplittableRandom(42);

  Object randomValue(int depth) {
    switch (random.nextInt(depth > 2 ? 6 : 8)) {
      case 0: return null;
      case 1: return random.nextBoolean();
      case 2: return random.nextInt(-10, 100_000);
      case 3: return random.nextDouble() * 1000 - 10;
      case 4: return randomString();
      case 5: return "";
      case 6: {
        JsonArray array = new JsonArray();
        for (int i = random.nextInt(4); i > 0; i--) {
          array.add(randomValue(depth + 1));
        }
        return array;
      }
      default: return randomObject(depth + 1);
    }
  }

  String randomString() {
    StringBuilder text = new StringBuilder();
    for (int i = random.nextInt(1, 12); i > 0; i--) {
      text.append((char) random.nextInt(32, 0x2FFF));
    }
    return text.toString();
  }

  JsonObject randomObject(int depth) {
    JsonObject object = new JsonObject();
    if (random.nextInt(4) > 0) {
      object.put("key", random.nextInt(5) > 0 ? "key-" + random.nextInt(20) : randomValue(depth));
    }
    if (random.nextInt(4) > 0) {
      object.put("address", random.nextInt(5) > 0 ? ADDRESSES[random.nextInt(ADDRESSES.length)] : randomValue(depth));
    }
    if (random.nextInt(3) == 0) {
      int kind = random.nextInt(4);
      object.put("timeout", kind == 0 ? randomValue(depth) : kind == 1 ? EDGE_TIMEOUTS[random.nextInt(EDGE_TIMEOUTS.length)]
        : random.nextInt(-5, 200));
    }
    if (random.nextBoolean()) {
      // Now and then a body no event-bus codec can send downstream.
      object.put("body", random.nextInt(20) == 0 ? new NoCodec() : randomValue(depth));
    }
    if (random.nextInt(5) == 0) {
      object.put(randomString(), randomValue(depth));
    }
    return object;
  }

  /** Passes the JSON copy of a request, as every Shareable does, but has no codec to go downstream. */
  static final class NoCodec implements Shareable {
    @Override
    public String toString() {
      return "NoCodec";
    }
  }

  /** @return {@code value} as text; a JSON object holding a {@link NoCodec} does not encode */
  static String printable(Object value) {
    try {
      return String.valueOf(value);
    } catch (RuntimeException notJson) {
      return "(a " + value.getClass().getSimpleName() + " holding a NoCodec)";
    }
  }

  /** @return whether a JSON {@code timeout} is a positive whole number of milliseconds, as the README says */
  static boolean isValidTimeout(Object timeout) {
    if (timeout instanceof Integer || timeout instanceof Long) {
      return ((Number) timeout).longValue() > 0;
    }
    if (timeout instanceof BigInteger big) {
      return big.signum() > 0;
    }
    return timeout instanceof Double d && d > 0 && !d.isInfinite() && d == Math.rint(d);
  }

  /** What a requester gets: a reply and its body, or a failure and its code. */
  record Outcome(boolean replied, Object body, int code) {
    static Outcome reply(Object body) {
      return new Outcome(true, body, 0);
    }

    static Outcome failure(int code) {
      return new Outcome(false, null, code);
    }

    @Override
    public String toString() {
      return replied ? "reply " + printable(body) : "failure " + code;
    }
  }

  static final List<Pattern> ALLOWED = List.of(Pattern.compile(".*\\.service"), Pattern.compile("nobody\\.home"),
    Pattern.compile("singleflight\\..*"));
  static final int MAX_KEY_LENGTH = 64;

  /**
   * For each key, what the flights that requests sent so far could have started for it would answer:
   * a request that reaches the flight map joins the key's running flight, which one of the earlier
   * requests of the key started (requests sent from one thread are handled in order), or starts it.
   * A forget empties it: no later request can join a flight started before.
   */
  final Map<String, Set<Outcome>> flightsOfKey = new HashMap<>();

  /**
   * @return the outcomes the README's protocol allows for a request sent now, given the requests
   * sent before it; exactly one, unless it reaches the flight map
   */
  Set<Outcome> allowedOutcomes(Object body, MultiMap headers) {
    String action = headers.get("action");
    if (action != null && !action.equals("flight") && !action.equals("forget")) {
      return Set.of(Outcome.failure(400));
    }
    if (!(body instanceof JsonObject request) || !(request.getValue("key") instanceof String key) || key.isEmpty()) {
      return Set.of(Outcome.failure(400));
    }
    if ("forget".equals(action)) {
      flightsOfKey.remove(key);
      return Set.of(Outcome.reply(null));
    }
    if (!(request.getValue("address") instanceof String address) || address.isEmpty()) {
      return Set.of(Outcome.failure(400));
    }
    Object timeout = request.getValue("timeout");
    if (timeout != null && !isValidTimeout(timeout)) {
      return Set.of(Outcome.failure(400));
    }
    if (address.equals(OWN) || address.startsWith(OWN + ".")) {
      // Refused even though ALLOWED lets every address under "singleflight." through.
      return Set.of(Outcome.failure(403));
    }
    if (ALLOWED.stream().noneMatch(pattern -> pattern.matcher(address).matches())) {
      return Set.of(Outcome.failure(403));
    }
    if (key.length() > MAX_KEY_LENGTH) {
      return Set.of(Outcome.failure(400));
    }
    Set<Outcome> asLeader = new HashSet<>();
    if (request.getValue("body") instanceof NoCodec) {
      asLeader.add(Outcome.failure(500));
    } else {
      switch (address) {
        case "echo.service" -> asLeader.add(Outcome.reply(request.getValue("body")));
        case "failing.service" -> asLeader.add(Outcome.failure(409));
        case "silent.service" -> asLeader.add(Outcome.failure(504));
        default -> asLeader.add(Outcome.failure(404));
      }
    }
    if (timeout != null) {
      // A downstream timeout of a few milliseconds may elapse before even a quick service answers.
      asLeader.add(Outcome.failure(504));
    }
    Set<Outcome> ofKey = flightsOfKey.computeIfAbsent(key, k -> new HashSet<>());
    ofKey.addAll(asLeader);
    return Set.copyOf(ofKey);
  }

  @Test
  void everyRandomRequestIsAnsweredWithWhatTheProtocolSaysAndTheVerticleStillServes() throws Exception {
    await(vertx.undeploy(deploymentId));
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions()
      .setAllowedAddresses(ALLOWED.stream().map(Pattern::pattern).toList())
      .setMaxKeyLength(MAX_KEY_LENGTH)
      // Ends the flights to the silent service; far beyond what a flight to the others takes.
      .setMaxFlightTime(5_000))));
    vertx.eventBus().consumer("echo.service", message -> message.reply(message.body()));
    vertx.eventBus().consumer("failing.service", message -> message.fail(409, "conflict"));
    vertx.eventBus().consumer("silent.service", message -> { });

    List<String> sent = new ArrayList<>(REQUESTS);
    List<Set<Outcome>> allowed = new ArrayList<>(REQUESTS);
    Outcome[] outcomes = new Outcome[REQUESTS];
    AtomicInteger answered = new AtomicInteger();
    CountDownLatch settled = new CountDownLatch(REQUESTS);
    for (int i = 0; i < REQUESTS; i++) {
      Object body = random.nextInt(10) == 0 ? randomValue(0) : randomObject(0);
      DeliveryOptions options = new DeliveryOptions().setSendTimeout(20_000);
      String action = ACTIONS[random.nextInt(ACTIONS.length)];
      if (action != null) {
        options.addHeader("action", action);
      }
      if (random.nextInt(10) == 0) {
        options.addHeader(randomString(), randomString());
      }
      MultiMap headers = options.getHeaders() != null ? options.getHeaders() : MultiMap.caseInsensitiveMultiMap();
      sent.add(printable(body) + " with headers " + headers.entries());
      allowed.add(allowedOutcomes(body, headers));
      int index = i;
      vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, body, options).onComplete(ar -> {
        if (ar.succeeded()) {
          outcomes[index] = Outcome.reply(ar.result().body());
          answered.incrementAndGet();
        } else if (ar.cause() instanceof ReplyException failure && failure.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
          outcomes[index] = Outcome.failure(failure.failureCode());
          answered.incrementAndGet();
        }
        settled.countDown();
      });
    }
    assertTrue(settled.await(60, TimeUnit.SECONDS), "requests still unsettled: " + settled.getCount());

    List<String> wrong = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      Outcome outcome = outcomes[i];
      if (outcome == null || !allowed.get(i).contains(outcome)) {
        wrong.add("request " + i + " " + sent.get(i) + ": got " + (outcome == null ? "no answer" : outcome)
          + ", allowed " + allowed.get(i));
      }
    }
    assertEquals(List.of(), wrong.subList(0, Math.min(10, wrong.size())), wrong.size() + " requests got a wrong answer");
    assertEquals(REQUESTS, answered.get());
    Set<Outcome> met = new HashSet<>(List.of(outcomes));
    for (Outcome kind : List.of(Outcome.reply(null), Outcome.failure(400), Outcome.failure(403), Outcome.failure(404),
      Outcome.failure(409), Outcome.failure(500), Outcome.failure(504))) {
      assertTrue(met.contains(kind), "the random requests met no " + kind);
    }
    assertTrue(met.stream().anyMatch(outcome -> outcome.replied() && outcome.body() instanceof JsonObject),
      "no random request was echoed a JSON object");

    JsonObject valid = new JsonObject().put("key", "after").put("address", "echo.service").put("body", "still serving");
    assertEquals("still serving", await(vertx.eventBus().request(SingleFlightOptions.DEFAULT_ADDRESS, valid)).body());
    assertEquals("value", await(flights.flight("after", () -> "value")));
  }
}
