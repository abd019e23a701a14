/**
 * `SwitchboardClient`: the parts assembled. The connection keeps a registered link up; the sender drains the
 * outbox over it; the incoming path dedups and orders what arrives and hands it to the app; receipts follow the
 * app's `rendered()`; ticks only move forward; typing is throttled out and timed out in. Everything the app
 * sees comes through the emitter (`on(event, listener)`), every request through one `request()`.
 */
import { io as socketIo } from "socket.io-client";

import { BoundedSet } from "./bounded.js";
import { Connection } from "./connection.js";
import { Emitter } from "./emitter.js";
import { SwitchboardError } from "./errors.js";
import { Incoming } from "./incoming.js";
import { Outbox } from "./outbox.js";
import { DeliveredReceipts } from "./receipts.js";
import { Sender } from "./sender.js";
import { openStore } from "./store.js";
import { StatusFilter } from "./ticks.js";
import { SequenceTracker } from "./tracker.js";
import { TypingSender, TypingWatcher } from "./typing.js";
import { uuid } from "./uuid.js";

const DEFAULTS = {
  transports: ["websocket", "polling"],
  retryInterval: 1_000,
  maxRetryInterval: 30_000,
  maxRetries: null,
  connectTimeout: 10_000,
  requestTimeout: 10_000,
  sendTimeout: 10_000,
  maxQueueSize: 100,
  gapTimeout: 1_000,
  typingTimeout: 6_000,
  typingThrottle: 2_000,
  heartbeatInterval: 30_000,
  receiptDelay: 50,
  storageName: "switchboard",
  random: Math.random,
};

function resolveOptions(options) {
  const urls = [].concat(options?.urls ?? []).filter(Boolean).map(String);
  if (!urls.length) throw new TypeError("urls: at least one edge URL is required");
  if (options.userId === undefined || options.userId === null || !/^\d+$/.test(String(options.userId))) {
    throw new TypeError("userId: a positive integer (or a string of digits) is required");
  }
  if (typeof options.tokenProvider !== "function") throw new TypeError("tokenProvider: a function is required");
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return {
    ...DEFAULTS,
    ...defined,
    urls,
    deviceId: options.deviceId ?? uuid(),
    deviceInfo: { device_type: "web", device_name: "browser", ...options.deviceInfo },
    io: options.io ?? socketIo,
  };
}

export class SwitchboardClient extends Emitter {
  constructor(options) {
    super();
    const o = (this._o = resolveOptions(options));
    const userId = String(o.userId);
    const error = (err) => this.emit("error", err);
    this._store = openStore(o);
    this._tracker = new SequenceTracker();
    this._ticks = new StatusFilter();
    this._renderedIds = new BoundedSet(); // to acknowledge a repeat push of a rendered message again
    this._othersIds = new BoundedSet(); // messages of other users: no ticks of ours
    this._outbox = new Outbox(this._store, () => o.maxQueueSize, error);
    this._connection = new Connection(o, {
      status: (status, previous) => this.emit("status", status, previous),
      linkUp: (link) => this._linkUp(link),
      linkDown: (reason) => this.emit("disconnected", reason),
      event: (name, payload) => this._serverEvent(name, payload),
      error,
    });
    this._receipts = new DeliveredReceipts({
      request: (event, payload) => this.request(event, payload), delay: () => o.receiptDelay, random: o.random,
    });
    this._incoming = new Incoming({
      tracker: this._tracker, store: this._store, userId, error,
      request: (event, payload) => this.request(event, payload),
      deliver: (message) => {
        if (String(message.from_user_id) !== userId) this._othersIds.add(message.id);
        this.emit("message", message);
      },
      isOwnPending: (clientMsgId) => this._outbox.has(clientMsgId),
      rerender: (messageId) => { if (this._renderedIds.has(messageId)) this._receipts.add(messageId); },
      gapTimeout: () => o.gapTimeout, random: o.random,
    });
    this._sender = new Sender({
      outbox: this._outbox, connection: this._connection, sendTimeout: () => o.sendTimeout, random: o.random,
      onSent: (message, ack) => this._sent(message, ack),
      onFailed: (message, err) => this.emit("sendFailed", message, err),
    });
    this._typingOut = new TypingSender({
      send: (sessionId, isTyping) => {
        this.request("typing", { session_id: sessionId, is_typing: isTyping }).catch(() => {}); // best effort
      },
      throttle: () => o.typingThrottle,
    });
    this._typingIn = new TypingWatcher({ emit: (event) => this.emit("typing", event), timeout: () => o.typingTimeout });
    this._restored = this._store.loadWatermarks().then((marks) => this._incoming.restore(marks), error);
    this._sender.kick();
  }

  get status() {
    return this._connection.status;
  }

  get url() {
    return this._connection.url;
  }

  get userId() {
    return this._o.userId;
  }

  get deviceId() {
    return this._o.deviceId;
  }

  async connect() {
    await this._restored;
    return this._connection.start();
  }

  async disconnect() {
    this._connection.stop();
  }

  async close() {
    this._connection.close();
    for (const part of [this._sender, this._receipts, this._incoming, this._typingIn]) part.close();
    await this._outbox.ready;
    this._store.close();
  }

  sendMessage(sessionId, text, options = {}) {
    if (typeof text !== "string" || !text.trim()) throw new SwitchboardError("INVALID_ARGUMENT", "message: not blank");
    if (sessionId === undefined || sessionId === null || sessionId === "") {
      throw new SwitchboardError("INVALID_ARGUMENT", "sessionId is required");
    }
    const entry = this._outbox.add({ sessionId, text, ...options });
    this._sender.kick();
    return { clientMsgId: entry.message.client_msg_id, message: { ...entry.message }, persisted: entry.persisted, ack: entry.ack };
  }

  async pendingMessages() {
    await this._outbox.ready;
    return this._outbox.list();
  }

  rendered(message) {
    const id = Number(typeof message === "object" && message !== null ? message.id : message);
    if (!Number.isSafeInteger(id) || id <= 0) throw new SwitchboardError("INVALID_ARGUMENT", "rendered: a message or its id");
    if (typeof message === "object" && String(message.from_user_id) === String(this._o.userId)) return; // ours
    this._renderedIds.add(id);
    this._receipts.add(id);
  }

  async markRead(sessionId, upToSequence) {
    const reply = await this.request("message_read", { session_id: sessionId, up_to_sequence: upToSequence });
    return { updated: reply.updated };
  }

  typing(sessionId, isTyping = true) {
    if (this.status === "connected") this._typingOut.typing(String(sessionId), Boolean(isTyping));
  }

  async openSession() {
    return this._sessionReply(await this.request("open_session", {}));
  }

  async joinSession(sessionId) {
    return this._sessionReply(await this.request("join_session", { session_id: sessionId }));
  }

  async listSessions({ scope, status, cursor, limit } = {}) {
    const payload = Object.fromEntries(Object.entries({ scope, status, cursor, limit }).filter(([, v]) => v !== undefined));
    const { sessions, has_more: hasMore, next_cursor: nextCursor } = await this.request("list_sessions", payload);
    return { sessions, has_more: hasMore, next_cursor: nextCursor };
  }

  async transferSession(sessionId, agentId) {
    return (await this.request("transfer_session", { session_id: sessionId, agent_id: agentId })).session;
  }

  async closeSession(sessionId) {
    return (await this.request("close_session", { session_id: sessionId })).session;
  }

  async sessionPresence(sessionId) {
    return (await this.request("session_presence", { session_id: sessionId })).participants;
  }

  async sync(sessionId, afterSequence = 0, limit = 50) {
    const reply = await this.request("sync", { session_id: sessionId, after_sequence: afterSequence, limit });
    return { messages: reply.messages, has_more: reply.has_more };
  }

  trackSession(sessionId, lastSequence) {
    this._incoming.baseline(String(sessionId), lastSequence);
  }

  async listDevices() {
    return (await this.request("list_devices", {})).devices;
  }

  async kickDevice(deviceId, reason) {
    const payload = reason === undefined ? { device_id: deviceId } : { device_id: deviceId, reason };
    return { connections_closed: (await this.request("kick_device", payload)).connections_closed };
  }

  async updatePushToken(pushToken) {
    await this.request("update_push_token", { push_token: pushToken });
  }

  /** Waits up to `requestTimeout` for a registered link, then up to `requestTimeout` for the ack. */
  async request(event, payload = {}) {
    const link = await this._connection.waitLink(this._o.requestTimeout);
    return link.request(event, payload, this._o.requestTimeout);
  }

  /** A session the client opened or joined: messages after its last sequence come in order from here, unless
   *  the client already tracks it (a reloaded page keeps its watermark, and catches up from it). */
  async _sessionReply(reply) {
    await this._restored;
    const session = reply.session;
    if (this._tracker.last(session.session_id) === null) this._incoming.baseline(session.session_id, session.last_sequence);
    return session;
  }

  _linkUp(link) {
    this.emit("connected", { ...link.registration });
    this._receipts.resume();
    this._restored.then(() => this._incoming.linkUp());
    this._sender.kick();
  }

  _sent(message, ack) {
    this._incoming.ownSent(ack.session_id, ack.message_id, ack.sequence_number);
    const tick = {
      message_id: ack.message_id, session_id: ack.session_id, status: "sent", timestamp: ack.timestamp,
      client_msg_id: message.client_msg_id,
    };
    if (this._ticks.accept(tick)) this.emit("messageStatus", tick);
    this.emit("messageSent", message, ack);
  }

  _serverEvent(name, payload) {
    if (!payload || typeof payload !== "object") return;
    switch (name) {
      case "new_message":
        this._incoming.receive(payload);
        break;
      case "message_status":
        // Ticks are for this user's own messages (the server sends them to the sender only; this holds it).
        if (!this._othersIds.has(payload.message_id) && this._ticks.accept(payload)) this.emit("messageStatus", payload);
        break;
      case "session_updated":
        this.emit("sessionUpdated", payload);
        break;
      case "queue_updated":
        this.emit("queueUpdated", payload);
        break;
      case "typing":
        this._typingIn.receive(payload);
        break;
      case "presence":
        this.emit("presence", payload);
        break;
      case "kicked":
        this._connection.stop(); // kicked means: do not come back
        this.emit("kicked", payload);
        break;
    }
  }
}
