/**
 * Collapses concurrent Vert.x calls for the same key into one execution: the API
 * ({@link dev.singleflight.SingleFlight}), the verticle that serves it
 * ({@link dev.singleflight.SingleFlightVerticle}), its options
 * ({@link dev.singleflight.SingleFlightOptions}), its health-check procedure
 * ({@link dev.singleflight.SingleFlightHealth}, for vertx-health-check), and batch flights, which also
 * load the distinct keys in flight together, many per loader call ({@link dev.singleflight.Batch},
 * {@link dev.singleflight.BatchLoader}, {@link dev.singleflight.BlockingBatchLoader},
 * {@link dev.singleflight.BatchOptions}).
 *
 * <p>{@code @ModuleGen} is here for vertx-codegen only: its processor generates the JSON converter of
 * the {@code @DataObject} options (both of them) at build time and refuses a data object outside a module.
 */
@ModuleGen(name = "vertx-singleflight", groupPackage = "dev.singleflight")
package dev.singleflight;

import io.vertx.codegen.annotations.ModuleGen;
