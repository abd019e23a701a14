/**
 * The send queue: every message the app queued and the server has not acknowledged, in queue order, mirrored
 * to the store before it is sent. A message gets its `client_msg_id` here, once, and keeps it through every
 * retry and reload, so the server's dedup (by sender, session and `client_msg_id`) makes a resend harmless.
 */
import { SwitchboardError } from "./errors.js";
import { uuid } from "./uuid.js";

export class Outbox {
  /**
   * @param {import("../index.js").ClientStore} store
   * @param {() => number} maxSize  read on each add, so the option can change on a live client
   * @param {(err: Error) => void} onError  a store that fails (quota, a private window) is reported, not fatal:
   *   the queue then lives in memory only
   */
  constructor(store, maxSize, onError) {
    this._store = store;
    this._maxSize = maxSize;
    this._onError = onError;
    /** @type {Map<string, {message: object, persisted: Promise<void>, settle: {resolve: Function, reject: Function}}>} */
    this._entries = new Map();
    this._lastQueuedAt = 0;
    /** Resolves once what an earlier page left in the store is queued (ahead of anything queued since). */
    this.ready = store.loadOutbox().then((saved) => {
      const fresh = [...this._entries];
      this._entries.clear();
      for (const message of saved) this._entries.set(message.client_msg_id, this._entry(message, Promise.resolve()));
      for (const [id, entry] of fresh) if (!this._entries.has(id)) this._entries.set(id, entry);
    }, onError);
  }

  _entry(message, persisted) {
    const settle = {};
    const ack = new Promise((resolve, reject) => Object.assign(settle, { resolve, reject }));
    ack.catch(() => {}); // a refusal is also reported as `sendFailed`; an app need not watch every handle
    return { message, persisted, settle, ack };
  }

  get size() {
    return this._entries.size;
  }

  /** Queue a message; throws QUEUE_FULL beyond `maxSize` unacknowledged messages (nothing is dropped). */
  add({ sessionId, text, messageType = "text", replyToMessageId, role }) {
    if (this._entries.size >= this._maxSize()) {
      throw new SwitchboardError("QUEUE_FULL", `${this._entries.size} messages wait for the server already`);
    }
    // Strictly increasing, so the order survives a reload even for messages queued in the same millisecond.
    this._lastQueuedAt = Math.max(Date.now(), this._lastQueuedAt + 1);
    const message = {
      client_msg_id: uuid(),
      session_id: String(sessionId),
      message: text,
      message_type: messageType,
      queued_at: this._lastQueuedAt,
    };
    if (role !== undefined) message.role = role;
    if (replyToMessageId !== undefined && replyToMessageId !== null) message.reply_to_message_id = Number(replyToMessageId);
    const persisted = this._store.putOutbox(message);
    persisted.catch(this._onError); // the message still goes out; only a reload could lose it
    const entry = this._entry(message, persisted);
    this._entries.set(message.client_msg_id, entry);
    return entry;
  }

  has(clientMsgId) {
    return this._entries.has(clientMsgId);
  }

  /** The oldest message of a session: the only one of it in flight, so its sequence follows queue order. */
  head(sessionId) {
    for (const entry of this._entries.values()) if (entry.message.session_id === sessionId) return entry;
    return undefined;
  }

  sessions() {
    return [...new Set([...this._entries.values()].map((entry) => entry.message.session_id))];
  }

  list() {
    return [...this._entries.values()].map((entry) => ({ ...entry.message }));
  }

  /** Acknowledged or refused for good: it leaves the queue and the store. */
  async remove(clientMsgId) {
    this._entries.delete(clientMsgId);
    await this._store.deleteOutbox(clientMsgId).catch(this._onError);
  }
}
