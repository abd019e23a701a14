/**
 * The connection: one socket.io link at a time, registered, kept up. socket.io's own reconnection is off so the
 * SDK decides where and when to go: after a failed attempt or a drop it waits a full-jitter backoff delay and
 * tries the next edge URL (round robin), so a page whose edge died is back at once on another. Every attempt
 * asks the token provider for a fresh token (an expired one is never reused) and registers with the same
 * `connection_id` and `device_id`. A token that expires on a live link is refreshed by registering again on
 * the same socket. Heartbeats feed the server's registry; one that is not acknowledged means a dead link.
 */
import { Backoff } from "./backoff.js";
import { SwitchboardError, fromReply, fromTransport } from "./errors.js";
import { uuid } from "./uuid.js";

/** Server → client events the client routes (`connected` and socket.io's own are handled here). */
export const SERVER_EVENTS = ["new_message", "message_status", "session_updated", "queue_updated", "typing", "presence",
  "kicked"];

const IN_NODE = typeof globalThis.process?.versions?.node === "string";

/** Registration refusals a new attempt cannot change. */
const FATAL_AT_REGISTER = new Set(["FORBIDDEN", "INVALID_ARGUMENT"]);

/** One registered socket. `alive` turns false when it drops; requests then fail fast. */
export class Link {
  constructor(socket, url, connection) {
    this.socket = socket;
    this.url = url;
    this.alive = true;
    this.registration = null;
    this._connection = connection;
    this._reregistering = null;
  }

  /** An event with its ack; a token that expired meanwhile is renewed (register again) and the event retried once. */
  async request(event, payload, timeout) {
    try {
      return await this._emit(event, payload, timeout);
    } catch (err) {
      if (!err.tokenExpired || event === "register") throw err;
      this._reregistering ??= this._connection.register(this).finally(() => { this._reregistering = null; });
      await this._reregistering;
      return this._emit(event, payload, timeout);
    }
  }

  async _emit(event, payload, timeout) {
    if (!this.alive) throw new SwitchboardError("NOT_CONNECTED", "the link dropped");
    let reply;
    try {
      reply = await this.socket.timeout(timeout).emitWithAck(event, payload ?? {});
    } catch (err) {
      throw fromTransport(err);
    }
    if (!reply || reply.success !== true) throw fromReply(reply);
    return reply;
  }

  /** Close this socket; the connection notices and reconnects. */
  drop() {
    if (this.alive) this.socket.disconnect();
  }
}

export class Connection {
  /**
   * @param {object} options the client's options (resolved)
   * @param {{status: Function, linkUp: Function, linkDown: Function, event: Function, error: Function}} handlers
   */
  constructor(options, handlers) {
    this._o = options;
    this._handlers = handlers;
    this._urls = options.urls;
    this._next = 0;
    this.url = this._urls[0];
    this.status = "disconnected";
    this.link = null;
    this.connectionId = uuid();
    this._active = false;
    this._generation = 0;
    this._loopDone = Promise.resolve();
    this._wake = null;
    this._waiters = [];
    this._backoff = new Backoff({
      base: options.retryInterval, cap: options.maxRetryInterval, maxRetries: options.maxRetries,
      random: options.random,
    });
  }

  /** Start (unless running); resolves at the next registration, rejects when retrying cannot help. */
  start() {
    if (this._closed) return Promise.reject(new SwitchboardError("CLOSED", "the client is closed"));
    if (!this._active) {
      this._active = true;
      const generation = ++this._generation;
      this._backoff.reset();
      this._firstLink = new Promise((resolve, reject) => { this._settleFirst = { resolve, reject }; });
      this._firstLink.catch(() => {}); // reported through `error` too; connect()'s caller may not wait
      // A loop winding down after stop() finishes first: one socket at a time.
      this._loopDone = this._loopDone.then(() => this._loop(generation));
    }
    return this.link ? Promise.resolve(this.link.registration) : this._firstLink;
  }

  /** Drop the link and stop reconnecting. */
  stop() {
    this._active = false;
    this._generation += 1;
    this._wake?.();
    const link = this.link;
    this.link = null; // at once: requests made from here on wait for a new link instead of using this one
    link?.drop();
    if (link) link.alive = false;
    this._socket?.disconnect();
    this._settleFirst?.reject(new SwitchboardError("NOT_CONNECTED", "disconnected before the first registration"));
    this._setStatus("disconnected");
  }

  /** Reject every waiter: the client is closed for good. */
  close() {
    this.stop();
    this._closed = true;
    for (const waiter of this._waiters.splice(0)) waiter.reject(new SwitchboardError("CLOSED", "the client is closed"));
  }

  /** The registered link, now or when there is one; `timeout` (ms) gives up with NOT_CONNECTED. */
  waitLink(timeout) {
    if (this._closed) return Promise.reject(new SwitchboardError("CLOSED", "the client is closed"));
    if (this.link) return Promise.resolve(this.link);
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this._waiters.push(waiter);
      if (timeout !== undefined) {
        const timer = setTimeout(() => {
          this._waiters = this._waiters.filter((w) => w !== waiter);
          reject(new SwitchboardError("NOT_CONNECTED", "not connected"));
        }, timeout);
        waiter.resolve = (link) => { clearTimeout(timer); resolve(link); };
        waiter.reject = (err) => { clearTimeout(timer); reject(err); };
      }
    });
  }

  /** `register` on this link: at connect with the attempt's token, and with a fresh one when it expired. */
  async register(link, token) {
    token ??= await this._token();
    const reply = await link.request("register", {
      user_id: this._o.userId, token, connection_id: this.connectionId, device_id: this._o.deviceId,
      device_info: this._o.deviceInfo,
    }, this._o.connectTimeout);
    if (reply.connection_id) this.connectionId = reply.connection_id;
    link.registration = {
      connection_id: this.connectionId, socket_id: reply.socket_id, url: link.url,
      heartbeat_interval: reply.heartbeat_interval,
    };
    return link.registration;
  }

  async _token() {
    const token = await this._o.tokenProvider();
    if (typeof token !== "string" || !token) throw new SwitchboardError("UNAUTHENTICATED", "the token provider gave no token", "TOKEN_MISSING");
    return token;
  }

  _setStatus(status) {
    if (status === this.status) return;
    const previous = this.status;
    this.status = status;
    this._handlers.status(status, previous);
  }

  async _loop(generation) {
    const stopped = () => generation !== this._generation;
    let everConnected = false;
    while (!stopped()) {
      this.url = this._urls[this._next++ % this._urls.length];
      this._setStatus(everConnected ? "reconnecting" : "connecting");
      try {
        everConnected = (await this._session(stopped)) || everConnected;
      } catch (err) {
        if (stopped()) break;
        if (err instanceof SwitchboardError && FATAL_AT_REGISTER.has(err.code)) {
          this._giveUp(err);
          return;
        }
        this._handlers.error(err);
      }
      if (stopped()) break;
      const delay = this._backoff.nextDelay();
      if (delay === null) {
        this._giveUp(new SwitchboardError("UNAVAILABLE", `no connection after ${this._o.maxRetries} attempts`));
        return;
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delay);
        this._wake = () => { clearTimeout(timer); resolve(); };
      });
      this._wake = null;
    }
  }

  _giveUp(err) {
    this._active = false;
    this._generation += 1;
    this._setStatus("disconnected");
    this._settleFirst.reject(err);
    this._handlers.error(err);
  }

  /** One socket from connect to drop. Resolves (true) when a registered link dropped; throws if it never got
   *  registered. */
  async _session(stopped) {
    const token = await this._token();
    if (stopped()) return false;
    const socket = this._o.io(this.url, {
      // tryAllTransports: a proxy that refuses the websocket upgrade gets long-polling instead of nothing.
      // autoUnref: in Node, a closed client's last long-poll must not hold the process for a ping interval (while
      // the client is active its own timers keep Node running). Never in a browser: engine.io calls `unref()` on
      // its timers, which browsers' numeric timer ids do not have.
      reconnection: false, forceNew: true, transports: this._o.transports, tryAllTransports: true,
      autoUnref: IN_NODE, auth: { token }, timeout: this._o.connectTimeout,
    });
    this._socket = socket;
    const dropped = new Promise((resolve) => socket.on("disconnect", resolve));
    for (const name of SERVER_EVENTS) socket.on(name, (payload) => this._handlers.event(name, payload));
    try {
      await this._connected(socket);
      if (stopped()) return false;
      const link = new Link(socket, this.url, this);
      await this.register(link, token);
      if (stopped()) return false;
      this._up(link);
      this._down(link, await this._heartbeats(link, dropped));
      return true;
    } finally {
      socket.removeAllListeners();
      socket.disconnect();
      if (this._socket === socket) this._socket = null;
    }
  }

  _connected(socket) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new SwitchboardError("TIMEOUT", `no connection to ${this.url}`)), this._o.connectTimeout);
      socket.on("connect", () => { clearTimeout(timer); resolve(); });
      socket.on("connect_error", (err) => {
        clearTimeout(timer);
        const data = err?.data;
        reject(data?.code ? new SwitchboardError(data.code, data.message, data.reason)
          : new SwitchboardError("UNAVAILABLE", err?.message || "connect failed"));
      });
      socket.on("disconnect", () => { clearTimeout(timer); reject(new SwitchboardError("UNAVAILABLE", "dropped while connecting")); });
    });
  }

  _up(link) {
    this.link = link;
    this._backoff.connected();
    this._setStatus("connected");
    this._settleFirst.resolve(link.registration);
    for (const waiter of this._waiters.splice(0)) waiter.resolve(link);
    this._handlers.linkUp(link);
  }

  _down(link, reason) {
    link.alive = false;
    if (this.link === link) this.link = null;
    this._backoff.dropped();
    this._handlers.linkDown(String(reason));
  }

  /** Beat while the link lives; resolves with the reason it dropped (an unanswered beat drops it). */
  async _heartbeats(link, dropped) {
    const server = Number(link.registration.heartbeat_interval) * 1000;
    const interval = server > 0 ? Math.min(server, this._o.heartbeatInterval) : this._o.heartbeatInterval;
    for (;;) {
      let timer;
      const beat = new Promise((resolve) => { timer = setTimeout(resolve, interval, null); });
      const reason = await Promise.race([dropped, beat]);
      clearTimeout(timer);
      if (reason !== null) return reason;
      try {
        await link.request("heartbeat", { connection_id: this.connectionId }, this._o.requestTimeout);
      } catch (err) {
        if (err.code === "TIMEOUT") link.drop(); // a half-open link: the next round sees the drop
      }
    }
  }
}
