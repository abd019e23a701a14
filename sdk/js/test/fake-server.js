// A stand-in for the edge, in process: socket.io-client's surface as the SDK uses it (SocketLike), with the
// server's side scripted per test. Not a test file itself (node --test runs it and finds no tests).

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `predicate()` holds (polled), or rejects after `ms`. */
export async function eventually(predicate, ms = 2_000) {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms: ${predicate}`);
    await sleep(5);
  }
}

export class FakeServer {
  constructor() {
    this.down = new Set(); // URLs that refuse connections
    this.sockets = [];
    this.requests = []; // [event, payload, socket]
    this.handlers = {
      register: (p, socket) => ({ success: true, connection_id: p.connection_id, socket_id: socket.id, heartbeat_interval: 30 }),
      heartbeat: () => ({ success: true, timestamp: Date.now() }),
      message_delivered: (p) => ({ success: true, updated: p.message_ids.length }),
      sync: () => ({ success: true, messages: [], has_more: false }),
    };
    this.io = (url, options) => {
      const socket = new FakeSocket(this, url, options);
      this.sockets.push(socket);
      setTimeout(() => socket._open(), 1);
      return socket;
    };
  }

  /** The live socket (the last one that connected). */
  get socket() {
    return this.sockets.filter((s) => s.connected).at(-1);
  }

  sent(event) {
    return this.requests.filter(([name]) => name === event).map(([, payload]) => payload);
  }
}

let nextId = 0;

class FakeSocket {
  constructor(server, url, options) {
    this.server = server;
    this.url = url;
    this.options = options;
    this.connected = false;
    this.id = `sock-${++nextId}`;
    this._listeners = new Map();
    this._pending = new Set();
  }

  on(event, listener) {
    if (!this._listeners.has(event)) this._listeners.set(event, []);
    this._listeners.get(event).push(listener);
    return this;
  }

  removeAllListeners() {
    this._listeners.clear();
    return this;
  }

  emit() {
    throw new Error("the SDK sends every event with an ack");
  }

  timeout(ms) {
    return {
      emitWithAck: (event, payload) => new Promise((resolve, reject) => {
        if (!this.connected) return reject(new Error("socket has been disconnected"));
        this.server.requests.push([event, payload, this]);
        const handler = this.server.handlers[event];
        const reply = handler ? handler(payload, this) : { success: true };
        const pending = { timer: setTimeout(() => reject(new Error("operation has timed out")), ms), reject };
        // As socket.io-client 4.8 does: a drop fails the acks still awaited.
        this._pending.add(pending);
        if (reply === undefined) return; // the ack never comes
        Promise.resolve(reply).then((value) => {
          clearTimeout(pending.timer);
          this._pending.delete(pending);
          if (this.connected) resolve(value);
        });
      }),
    };
  }

  connect() {}

  disconnect() {
    this.drop("io client disconnect");
  }

  // -- the server's side --

  _open() {
    if (this.server.down.has(this.url)) {
      this._fire("connect_error", new Error("xhr poll error"));
    } else {
      this.connected = true;
      this._fire("connect");
    }
  }

  push(event, payload) {
    this._fire(event, payload);
  }

  drop(reason = "transport close") {
    if (!this.connected) return;
    this.connected = false;
    for (const { timer, reject } of this._pending) {
      clearTimeout(timer);
      reject(new Error("socket has been disconnected"));
    }
    this._pending.clear();
    this._fire("disconnect", reason);
  }

  _fire(event, ...args) {
    for (const listener of [...(this._listeners.get(event) || [])]) listener(...args);
  }
}
