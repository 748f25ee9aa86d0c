package dev.singleflight;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deploying, undeploying and addressing verticles. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LifecycleTest extends FlightTestBase {

  @Test
  void undeployFailsEveryWaitingCallerAtOnceWithAClearError() throws Exception {
    Gate<String> gate = new Gate<>("never delivered");
    List<Future<String>> waiting = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      waiting.add(flights.flight("k" + (i % 3), gate));
    }
    barrier();
    await(vertx.undeploy(deploymentId));
    for (Future<String> call : waiting) {
      Throwable failure = failureOf(call);
      assertInstanceOf(IllegalStateException.class, failure);
      assertTrue(failure.getMessage().contains("undeployed"), failure.getMessage());
    }
    gate.release.countDown();
  }

  @Test
  void undeployAlsoFailsTheCallersOfAForgottenFlight() throws Exception {
    Gate<String> gate = new Gate<>("never delivered");
    Future<String> waiting = flights.flight("k", gate);
    await(flights.forget("k"));
    await(vertx.undeploy(deploymentId));
    assertInstanceOf(IllegalStateException.class, failureOf(waiting));
    gate.release.countDown();
  }

  @Test
  void aCallWithNoVerticleAtTheAddressFailsWithNoHandlers() throws Exception {
    await(vertx.undeploy(deploymentId));
    Throwable failure = failureOf(flights.flight("k", () -> "value"));
    assertEquals(ReplyFailure.NO_HANDLERS, ((ReplyException) failure).failureType());
  }

  @Test
  void callersRacingAnUndeployEachGetAValueOrAFailureSayingTheVerticleIsGone() throws Exception {
    List<Future<Integer>> calls = new ArrayList<>();
    AtomicInteger runs = new AtomicInteger();
    Future<?> undeployed = null;
    for (int i = 0; i < 2_000; i++) {
      calls.add(flights.flight("k" + (i % 50), runs::incrementAndGet));
      if (i == 1_000) {
        undeployed = vertx.undeploy(deploymentId);
      }
    }
    await(undeployed);
    for (Future<Integer> call : calls) {
      await(call.otherwiseEmpty());
      if (call.succeeded()) {
        assertTrue(call.result() >= 1 && call.result() <= runs.get(), "not a run's value: " + call.result());
      } else {
        Throwable failure = call.cause();
        boolean stopped = failure instanceof IllegalStateException && failure.getMessage().contains("undeployed");
        boolean gone = failure instanceof ReplyException reply && reply.failureType() == ReplyFailure.NO_HANDLERS;
        assertTrue(stopped || gone, "unexpected failure: " + failure);
      }
    }
    ReplyException afterwards = assertInstanceOf(ReplyException.class, failureOf(flights.flight("k0", runs::incrementAndGet)));
    assertEquals(ReplyFailure.NO_HANDLERS, afterwards.failureType());
  }

  @Test
  void aResultArrivingAfterUndeployIsDroppedAndTheNextDeploymentRunsTheKeyAfresh() throws Exception {
    Promise<String> late = Promise.promise();
    Future<String> waiting = flights.flightAsync("k", late::future);
    barrier();
    await(vertx.undeploy(deploymentId));
    Throwable failure = failureOf(waiting);
    assertInstanceOf(IllegalStateException.class, failure);
    deploymentId = await(vertx.deployVerticle(new SingleFlightVerticle()));
    Promise<String> current = Promise.promise();
    AtomicInteger runs = new AtomicInteger();
    Future<String> next = flights.flightAsync("k", () -> {
      runs.incrementAndGet();
      return current.future();
    });
    barrier();
    late.complete("late");
    current.complete("fresh");
    assertEquals("fresh", await(next));
    assertEquals(1, runs.get());
    assertSame(failure, waiting.cause());
  }

  @Test
  void verticlesAtDifferentAddressesAreIndependent() throws Exception {
    await(vertx.deployVerticle(new SingleFlightVerticle(new SingleFlightOptions().setAddress("other"))));
    SingleFlight other = SingleFlight.createProxy(vertx, "other");
    Gate<String> gate = new Gate<>("value");
    Future<String> here = flights.flight("k", gate);
    Future<String> there = other.flight("k", gate);
    barrier();
    await(other.forget("barrier"));
    gate.release.countDown();
    assertEquals("value", await(here));
    assertEquals("value", await(there));
    assertEquals(2, gate.runs.get());
  }

  @Test
  void theNoArgumentVerticleReadsItsAddressFromTheDeploymentConfig() throws Exception {
    JsonObject config = new SingleFlightOptions().setAddress("configured").toJson();
    await(vertx.deployVerticle(new SingleFlightVerticle(), new DeploymentOptions().setConfig(config)));
    assertEquals("value", await(SingleFlight.createProxy(vertx, "configured").flight("k", () -> "value")));
  }

  @Test
  void anInvalidConfigFailsTheDeployment() {
    JsonObject config = new JsonObject().put("address", "");
    Future<String> deployment = vertx.deployVerticle(new SingleFlightVerticle(), new DeploymentOptions().setConfig(config));
    Throwable failure = assertThrows(IllegalArgumentException.class, () -> await(deployment));
    assertTrue(failure.getMessage().contains("address"), failure.getMessage());
  }
}
