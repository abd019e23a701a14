/**
 * The send pump over the outbox. Per session the oldest message is in flight and the rest wait, so a session's
 * messages are sequenced in queue order; sessions proceed side by side. A message is sent only once it is in
 * the store (a reload after the send cannot lose it) and only over a registered link; it is re-sent with the
 * same `client_msg_id` until the server acknowledges it: after a timeout or a drop at once on the next link,
 * after a refusal for now (UNAVAILABLE, RATE_LIMITED…) after a short jittered delay. Refusals a retry cannot
 * change (FORBIDDEN, NOT_FOUND, INVALID_ARGUMENT, PAYLOAD_TOO_LARGE) take the message out and fail its handle.
 */
import { RetryDelay, sleep } from "./backoff.js";


export class Sender {
  /**
   * @param {{outbox: import("./outbox.js").Outbox, connection: import("./connection.js").Connection,
   *          sendTimeout: () => number, random: () => number,
   *          onSent: (message: object, ack: object) => void, onFailed: (message: object, error: Error) => void}} parts
   */
  constructor({ outbox, connection, sendTimeout, random, onSent, onFailed }) {
    this._outbox = outbox;
    this._connection = connection;
    this._sendTimeout = sendTimeout;
    this._onSent = onSent;
    this._onFailed = onFailed;
    this._retry = new RetryDelay({ random });
    this._running = new Set();
    this._closed = false;
  }

  /** Make sure every session with queued messages has its pump running. */
  kick() {
    this._outbox.ready.then(() => {
      for (const sessionId of this._outbox.sessions()) this._pump(sessionId);
    });
  }

  close() {
    this._closed = true;
  }

  async _pump(sessionId) {
    if (this._running.has(sessionId) || this._closed) return;
    this._running.add(sessionId);
    try {
      for (let entry = this._outbox.head(sessionId); entry && !this._closed; entry = this._outbox.head(sessionId)) {
        await this._deliver(entry);
      }
    } finally {
      this._running.delete(sessionId);
    }
  }

  /** One attempt at the head message; returns when it left the queue or is worth trying again. */
  async _deliver(entry) {
    const { message } = entry;
    // A store that refused it (quota, private mode) was reported; it still goes out, only a reload could lose it.
    await entry.persisted.catch(() => {});
    let link;
    try {
      link = await this._connection.waitLink();
    } catch {
      return; // the client closed
    }
    try {
      const { queued_at: _queuedAt, ...payload } = message; // the outbox's own bookkeeping stays home
      const ack = await link.request("send_message", payload, this._sendTimeout());
      this._retry.reset();
      await this._outbox.remove(message.client_msg_id);
      entry.settle.resolve(ack);
      this._onSent(message, ack);
    } catch (err) {
      if (!err.transient) {
        await this._outbox.remove(message.client_msg_id);
        entry.settle.reject(err);
        this._onFailed(message, err);
      } else if (link.alive && err.code !== "TIMEOUT" && err.code !== "NOT_CONNECTED") {
        await sleep(this._retry.nextDelay()); // refused for now over a live link: the backend is busy or away
      }
    }
  }
}
