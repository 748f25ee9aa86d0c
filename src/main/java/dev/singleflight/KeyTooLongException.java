package dev.singleflight;

/**
 * KeyTooLongException is the failure of a call whose key is longer than the verticle's
 * {@link SingleFlightOptions#getMaxKeyLength() maxKeyLength}; 400 in the JSON protocol. Nothing runs
 * for it.
 */
public final class KeyTooLongException extends IllegalArgumentException {

  /**
   * @param length the key's length, in chars
   * @param maxKeyLength the longest key the verticle accepts
   */
  public KeyTooLongException(int length, int maxKeyLength) {
    super("the key has " + length + " chars, more than maxKeyLength allows: " + maxKeyLength);
  }
}
