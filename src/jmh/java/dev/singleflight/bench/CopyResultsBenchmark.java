package dev.singleflight.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.TimeUnit;

/**
 * The cost of {@code copyResults} per follower: the copy that each caller but the leader gets of a
 * 1 KB {@link JsonObject} result (its JSON encoding is 1 024 bytes long), made on the verticle's event
 * loop. Run with JMH's {@code gc} profiler for the bytes allocated per copy ({@code gc.alloc.rate.norm}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CopyResultsBenchmark {

  /** The length of {@link #user}'s JSON encoding, in bytes. */
  static final int ENCODED_BYTES = 1_024;

  private JsonObject user;

  @Setup
  public void build() {
    user = oneKilobyteUser();
  }

  /** @return a user record of a typical shape, padded so that its JSON encoding is {@link #ENCODED_BYTES} long */
  static JsonObject oneKilobyteUser() {
    JsonObject user = new JsonObject().put("id", 42).put("name", "Ada Lovelace").put("email", "ada@example.org")
      .put("active", true).put("score", 97.5)
      .put("roles", new JsonArray().add("admin").add("editor").add("reviewer"))
      .put("address", new JsonObject().put("street", "12 St James's Square").put("city", "London").put("zip", "SW1Y 4JH"));
    JsonArray tags = new JsonArray();
    user.put("tags", tags);
    int tag = 0;
    while (user.encode().length() < ENCODED_BYTES - 20) {
      tags.add("tag-" + tag++);
    }
    user.put("bio", "");
    user.put("bio", "x".repeat(ENCODED_BYTES - user.encode().length()));
    if (user.encode().length() != ENCODED_BYTES) {
      throw new IllegalStateException("the user encodes to " + user.encode().length() + " bytes");
    }
    return user;
  }

  /** The result shared as it is, as without copyResults: the baseline. */
  @Benchmark
  public JsonObject shared() {
    return user;
  }

  /** What copyResults does for each follower. */
  @Benchmark
  public JsonObject copied() {
    return user.copy();
  }
}
