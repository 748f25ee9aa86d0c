package dev.singleflight;

import java.util.concurrent.TimeoutException;

/**
 * CallerTimeoutException is the failure of a caller whose own timeout elapsed (the {@code timeout} of
 * {@link SingleFlight#flight(String, java.util.concurrent.Callable, java.time.Duration)} and
 * {@code flightAsync}): that caller alone gave up, and the flight goes on for the others. It is a
 * {@link TimeoutException}; a flight that ran longer than {@code maxFlightTime} fails its callers with
 * a plain {@link TimeoutException} instead.
 *
 * <p>It carries no stack trace: it says only which key timed out, and a herd of callers timing out
 * together would otherwise each hold one.
 */
public class CallerTimeoutException extends TimeoutException {

  /** The key the caller waited for. */
  private final String key;

  /** @param key the key the caller waited for */
  public CallerTimeoutException(String key) {
    super("single-flight call for key '" + key + "' timed out; the flight goes on for other callers");
    this.key = key;
  }

  /** @return the key the caller waited for */
  public String getKey() {
    return key;
  }

  /** @return this, without filling in a stack trace */
  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
