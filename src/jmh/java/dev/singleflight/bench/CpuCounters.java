package dev.singleflight.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.lang.management.ManagementFactory;

/**
 * Secondary results of the throughput scenarios: the CPU time the whole benchmark JVM used
 * ({@link #cpuNanos}) for a number of {@link #calls}, per iteration. Their ratio, CPU time per call,
 * tells what a call costs even when another process takes part of the cores, which changes calls
 * per second a lot. It includes everything the JVM did meanwhile, the JIT and the GC too.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class CpuCounters {

  private static final com.sun.management.OperatingSystemMXBean OS =
    (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  public long cpuNanos;
  public long calls;

  @Setup(Level.Iteration)
  public void reset() {
    cpuNanos = 0;
    calls = 0;
  }

  /** @return the JVM's CPU time so far, to pass to {@link #add} */
  long start() {
    return OS.getProcessCpuTime();
  }

  /** Counts {@code count} calls made since {@code start}. */
  void add(long start, int count) {
    cpuNanos += OS.getProcessCpuTime() - start;
    calls += count;
  }
}
