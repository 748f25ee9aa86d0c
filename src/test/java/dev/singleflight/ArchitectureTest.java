package dev.singleflight;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/** The rules between the library's packages, and between it and the modules it builds on. */
class ArchitectureTest {

  static JavaClasses library;

  @BeforeAll
  static void importLibrary() {
    library = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.singleflight");
  }

  @Test
  void nothingUsesAnImplementationClassOfVertxOrMicrometer() {
    noClasses().should().dependOnClassesThat(resideInAPackage("io.vertx..impl..").or(resideInAPackage("io.micrometer..impl..")))
      .because("any patch release of Vert.x or Micrometer may change them")
      .check(library);
  }

  /**
   * Vert.x's internal API for integrations, where no public API does the job; each use says why
   * where it is: a promise's context for the fan-out ({@code Flight}), event-loop checks and tasks of
   * the verticle's context ({@code FlightMap}, {@code FlightServer}, the cluster's two), the caller's
   * context and one for plain threads ({@code SingleFlightProxy}), the cluster manager ({@code FlightServer}),
   * the tracer and the duplicates of a context that carry a trace ({@code impl.tracing}), a caller's context
   * and its event loop to answer the callers of batches in bulk ({@code BatchReplies}).
   */
  @Test
  void onlyTheClassesThatNeedItUseVertxsInternalApi() {
    noClasses().that().haveNameNotMatching("dev\\.singleflight\\.impl\\.(Flight|FlightMap|local\\.SingleFlightProxy"
        + "|local\\.FlightServer|local\\.BatchReplies|cluster\\.ClusterRouter|cluster\\.LeaderOrFollower"
        + "|tracing\\.FlightTracing|tracing\\.OpenTelemetryFlightTracing)(\\$.*)?")
      .should().dependOnClassesThat(resideInAPackage("io.vertx.core.internal.."))
      .check(library);
  }

  @Test
  void theApiReachesTheImplementationOnlyThroughItsEntryPoints() {
    noClasses().that(resideInAPackage("dev.singleflight"))
      .should().dependOnClassesThat(resideInAPackage("dev.singleflight.impl..").and(not(belongToAnyOf(
        dev.singleflight.impl.local.SingleFlightProxy.class,   // SingleFlight.createProxy
        dev.singleflight.impl.local.FlightServer.class,        // SingleFlightVerticle's start and stop, SingleFlightHealth
        dev.singleflight.impl.FlightMap.Running.class,         // SingleFlightHealth's answer
        dev.singleflight.impl.JsonNumbers.class))))            // SingleFlightOptions' checks of JSON numbers
      .check(library);
  }

  @Test
  void theImplementationsPackagesHaveNoCycles() {
    slices().matching("dev.singleflight.impl.(*)..").should().beFreeOfCycles().check(library);
  }

  @Test
  void theCoreDependsOnNoOtherPartButTheMetersAndTheSpans() {
    noClasses().that(resideInAPackage("dev.singleflight.impl"))
      .should().dependOnClassesThat(resideInAPackage("dev.singleflight.impl.local..")
        .or(resideInAPackage("dev.singleflight.impl.json.."))
        .or(resideInAPackage("dev.singleflight.impl.cluster..")))
      .check(library);
  }

  @Test
  void metricsLoadOnlyThroughTheirInterfaceSoThatMicrometerStaysOptional() {
    noClasses().that(not(resideInAPackage("dev.singleflight.impl.metrics")))
      .should().dependOnClassesThat(resideInAPackage("io.micrometer..").or(resideInAPackage("io.vertx.micrometer..")))
      .check(library);
  }

  @Test
  void openTelemetryIsUsedOnlyByTheClassThatTheTracerLoadsSoThatItStaysOptional() {
    noClasses().that().haveNameNotMatching("dev\\.singleflight\\.impl\\.tracing\\.OpenTelemetryFlightTracing(\\$.*)?")
      .should().dependOnClassesThat(resideInAPackage("io.opentelemetry..").or(resideInAPackage("io.vertx.tracing..")))
      .check(library);
  }

  @Test
  void onlyTheHealthProcedureUsesVertxHealthCheckSoThatItStaysOptional() {
    noClasses().that().doNotHaveFullyQualifiedName(SingleFlightHealth.class.getName())
      .should().dependOnClassesThat(resideInAPackage("io.vertx.ext.healthchecks.."))
      .check(library);
  }
}
