package dev.singleflight;

/**
 * The outcome of one call of {@link SingleFlight#flightResult} or {@link SingleFlight#flightAsyncResult}:
 * the flight's value, and how the call took part in the flight.
 *
 * @param <T> the type of the value
 */
public interface FlightResult<T> {

  /**
   * @return the flight's value ({@code null} is a valid one): the very instance the function returned
   * for the leader and, unless the verticle's {@code copyResults} is on, for every other caller too
   */
  T value();

  /**
   * @return whether more than one caller got this outcome: exact, counted when the flight ended, so a
   * flight with one caller reports {@code false} to it even when another caller arrived after the
   * outcome (that caller started a flight of its own). Callers whose timeout elapsed before the
   * outcome do not count. Clustered, the callers of every node count for the nodes that followed
   * another node's execution (they report {@code true}); the node that led knows only its own callers.
   */
  boolean shared();

  /**
   * @return whether this call started the execution: its function is the one that ran (clustered: on
   * this node, which the key's owner made the leader). Exactly one caller of a flight whose function
   * ran leads; hedges run the leader's function again and do not change that.
   */
  boolean leader();
}
