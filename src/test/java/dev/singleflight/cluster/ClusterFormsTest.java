package dev.singleflight.cluster;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ClusterFormsTest {
  @Test
  void threeNodesSeeEachOther() throws Exception {
    long t = System.nanoTime();
    try (ClusterNodes cluster = ClusterNodes.start(3)) {
      assertEquals(3, cluster.nodes().size());
      System.out.println("formed in ms " + (System.nanoTime() - t) / 1_000_000);
    }
    System.out.println("total ms " + (System.nanoTime() - t) / 1_000_000);
  }
}
