package dev.singleflight.impl;

/** The failure of a call whose key is longer than maxKeyLength; 400 in the JSON protocol. */
public final class KeyTooLongException extends IllegalArgumentException {

  KeyTooLongException(int length, int maxKeyLength) {
    super("the key has " + length + " chars, more than maxKeyLength allows: " + maxKeyLength);
  }
}
