package dev.singleflight.examples;

import dev.singleflight.SingleFlight;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;

/**
 * ForgetAfterWrite renames a user while a read of the name is in flight, then forgets the key: the
 * next read starts afresh and sees the new name, instead of joining the read that began before the
 * write and may return the old one.
 */
public final class ForgetAfterWrite {

  private ForgetAfterWrite() {
  }

  /**
   * Reads the name of user {@code id}; calls made while a read runs share it.
   *
   * @param flights the proxy
   * @param names the names by user id
   * @param id the user
   * @return the name
   */
  public static Future<String> name(SingleFlight flights, SlowStore names, String id) {
    return flights.flight("name:" + id, () -> names.read(id));
  }

  /**
   * Renames user {@code id}, then forgets the flight of its name.
   *
   * @param flights the proxy
   * @param names the names by user id
   * @param id the user
   * @param newName the new name
   * @return a Future completed once a read asked from now on starts afresh
   */
  public static Future<Void> rename(SingleFlight flights, SlowStore names, String id, String newName) {
    // tag::forget[]
    names.put(id, newName);
    // Callers already waiting keep the flight in progress; a read asked once this completes starts a new one.
    return flights.forget("name:" + id);
    // end::forget[]
  }

  /**
   * Runs the example: a read of 300 ms in flight, a rename, a read after it.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx();
    try {
      SingleFlight flights = DeployAndFlight.deploy(vertx).await();
      SlowStore names = new SlowStore(Duration.ofMillis(300)).put("7", "Ada");
      Future<String> before = name(flights, names, "7");
      rename(flights, names, "7", "Ada Lovelace").await();
      Future<String> after = name(flights, names, "7");
      Future.all(before, after).await();
      System.out.printf("the read asked after the rename got '%s'; the store was read %d time(s)%n",
        after.result(), names.reads());
    } finally {
      vertx.close().await();
    }
  }
}
