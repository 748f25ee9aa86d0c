package dev.singleflight.examples.bridge;

import io.vertx.core.http.HttpClosedException;

import java.io.IOException;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * ClientGoneFilter keeps a bridge client that goes away from looking like a failure of the server.
 * The SockJS bridge of vertx-web 5.0.7 logs every exception of a client's socket as SEVERE "SockJSSocket
 * exception", with its stack trace, before it tells the bridge event handler ({@code SOCKET_ERROR}),
 * which cannot stop the log. A client that leaves without closing its WebSocket (a tab closed, a laptop
 * put to sleep, a network gone) gives such an exception: {@link HttpClosedException} "Connection was
 * closed", after an {@link IOException} such as "Connection reset" when the connection was reset.
 * The filter drops the bridge's records of those two kinds and keeps every other one.
 */
final class ClientGoneFilter implements Filter {

  /** The logger of the bridge's socket exceptions. Held so that the filter sticks. */
  static final Logger BRIDGE = Logger.getLogger("io.vertx.ext.web.handler.sockjs.impl.EventBusBridgeImpl");

  /** Installs the filter on the bridge's logger. */
  static void install() {
    BRIDGE.setFilter(new ClientGoneFilter());
  }

  @Override
  public boolean isLoggable(LogRecord record) {
    Throwable thrown = record.getThrown();
    return !(thrown instanceof HttpClosedException || thrown instanceof IOException);
  }
}
