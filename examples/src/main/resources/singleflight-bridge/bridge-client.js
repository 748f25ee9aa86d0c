/*
 * A minimal client of the Vert.x event-bus bridge (vertx-web's SockJSHandler.bridge), in plain
 * browser JavaScript: no library, nothing fetched from elsewhere. It speaks the bridge's JSON frames
 * over the raw WebSocket endpoint that the SockJS handler serves at <mount>/websocket, one frame per
 * WebSocket message:
 *   to the server:   {"type": "send", "address": ..., "body": ..., "headers": {...}, "replyAddress": ...}
 *                    {"type": "ping"}, at least every 10 s, or the bridge closes the socket
 *   from the server: {"type": "rec", "address": <replyAddress>, "body": <the reply>}
 *                    {"type": "err", "address": <replyAddress>, "failureCode": ..., "failureType": ..., "message": ...}
 *                    {"type": "err", "body": "access_denied" | "rejected" | ...}, a frame the bridge refused
 * The server sends its frames as binary WebSocket messages of UTF-8 JSON.
 */
class EventBusBridge {

  /** @param url the WebSocket URL, e.g. "ws://127.0.0.1:8080/eventbus/websocket" */
  constructor(url) {
    this.url = url;
    this.pending = new Map();
    this.replies = 0;
    /** Called with the reason of each frame the bridge refused ("access_denied", "rejected", ...). */
    this.onrefusal = reason => console.warn("the bridge refused a frame:", reason);
  }

  /** @return a Promise resolved once the socket is open */
  open() {
    return new Promise((resolve, reject) => {
      this.socket = new WebSocket(this.url);
      this.socket.binaryType = "arraybuffer";
      this.socket.onopen = () => {
        this.pinger = setInterval(() => this.write({type: "ping"}), 5000);
        resolve(this);
      };
      this.socket.onerror = () => reject(new Error("cannot connect to " + this.url));
      this.socket.onmessage = event => this.receive(event.data);
      this.socket.onclose = () => {
        clearInterval(this.pinger);
        for (const waiter of this.pending.values()) {
          waiter.reject(new Error("the bridge closed the socket"));
        }
        this.pending.clear();
      };
    });
  }

  /**
   * Sends a message that expects a reply.
   * @return a Promise of the reply's body; rejected with an Error carrying failureCode and
   *   failureType when the recipient failed the message
   */
  request(address, body, headers) {
    // The bridge takes reply addresses of 36 characters at most.
    const replyAddress = "reply-" + (++this.replies);
    return new Promise((resolve, reject) => {
      this.pending.set(replyAddress, {resolve, reject});
      this.write({type: "send", address, body, headers: headers || {}, replyAddress});
    });
  }

  /** Sends a message without waiting for a reply. */
  send(address, body, headers) {
    this.write({type: "send", address, body, headers: headers || {}});
  }

  close() {
    this.socket.close();
  }

  write(frame) {
    this.socket.send(JSON.stringify(frame));
  }

  receive(data) {
    const frame = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    const waiter = frame.address !== undefined && this.pending.get(frame.address);
    if (waiter) {
      this.pending.delete(frame.address);
      if (frame.type === "rec") {
        waiter.resolve(frame.body);
      } else {
        const failure = new Error(frame.message);
        failure.failureCode = frame.failureCode;
        failure.failureType = frame.failureType;
        waiter.reject(failure);
      }
    } else if (frame.type === "err") {
      this.onrefusal(frame.body);
    }
  }
}
