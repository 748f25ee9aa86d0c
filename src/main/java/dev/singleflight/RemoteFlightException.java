package dev.singleflight;

/**
 * RemoteFlightException is the failure of a clustered flight whose function ran on another node:
 * exceptions do not cross nodes, their class name and message do. {@link #getMessage()} is
 * {@code "<class name>: <message>"}.
 */
public class RemoteFlightException extends RuntimeException {

  /** The class name of the exception thrown on the other node. */
  private final String remoteClassName;

  /**
   * @param remoteClassName the class name of the exception thrown on the other node
   * @param remoteMessage its message, possibly {@code null}
   */
  public RemoteFlightException(String remoteClassName, String remoteMessage) {
    super(remoteClassName + ": " + remoteMessage, null, false, false);
    this.remoteClassName = remoteClassName;
  }

  /** @return the class name of the exception thrown on the node that ran the function */
  public String getRemoteClassName() {
    return remoteClassName;
  }
}
