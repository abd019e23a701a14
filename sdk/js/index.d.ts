// Type declarations of @switchboard/client, written by hand: the package is plain ESM JavaScript (no build
// step), and these declarations are its public surface. Field names of server payloads are the wire's
// (snake_case, see docs/contract.md); options and methods are camelCase. Durations are milliseconds.

/** The connection's state. `reconnecting` follows an unexpected drop; `disconnected` is final until `connect()`. */
export type ConnectionStatus = "disconnected" | "connecting" | "connected" | "reconnecting";

/** Ids are JSON integers on the wire; numeric strings are accepted on input. */
export type Id = number | string;

/** Returns a fresh token for every (re)connect, so an expired token is never reused. */
export type TokenProvider = () => string | Promise<string>;

export type MessageType = "text" | "image" | "file" | "audio" | "video" | "card";

export interface DeviceInfo {
  device_name?: string;
  device_type?: "desktop" | "mobile" | "other" | "web";
  platform?: string;
  browser?: string;
  os_version?: string;
  app_version?: string;
}

/** The subset of a socket.io-client `Socket` the SDK uses (tests inject a fake through `ClientOptions.io`). */
export interface SocketLike {
  readonly connected: boolean;
  readonly id?: string;
  on(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: any[]): unknown;
  timeout(ms: number): { emitWithAck(event: string, ...args: any[]): Promise<any> };
  connect(): unknown;
  disconnect(): unknown;
  removeAllListeners(): unknown;
}

export type SocketFactory = (url: string, options: Record<string, unknown>) => SocketLike;

/** Where the outbox and the per-session watermarks live. Default: IndexedDB, else memory. */
export interface ClientStore {
  /** Unsent messages, oldest first. */
  loadOutbox(): Promise<OutgoingMessage[]>;
  putOutbox(message: OutgoingMessage): Promise<void>;
  deleteOutbox(clientMsgId: string): Promise<void>;
  /** The last sequence handed to the app, per session. */
  loadWatermarks(): Promise<Record<string, number>>;
  putWatermark(sessionId: string, sequence: number): Promise<void>;
  close(): void;
}

export interface ClientOptions {
  /** One edge URL or several: the first attempt goes to the first, every retry to the next one (round robin). */
  urls: string | string[];
  /** The user this client registers as (must match the token's subject). */
  userId: Id;
  /** Asked before every connect attempt. */
  tokenProvider: TokenProvider;
  /** Stable per installation (e.g. kept in localStorage by the page); default: a random UUID per client object. */
  deviceId?: string;
  deviceInfo?: DeviceInfo;
  /** socket.io transports; default `["websocket", "polling"]`. */
  transports?: Array<"websocket" | "polling">;
  /** First reconnect window (full jitter: a delay is uniform in [0, window]); default 1000. */
  retryInterval?: number;
  /** Reconnect window cap; default 30000. */
  maxRetryInterval?: number;
  /** Attempts before giving up (`disconnected`); default unlimited. */
  maxRetries?: number | null;
  /** Connect + register time limit per attempt; default 10000. */
  connectTimeout?: number;
  /** Ack time limit of every request; default 10000. */
  requestTimeout?: number;
  /** Ack time limit of a send before it is retried with the same `client_msg_id`; default 10000. */
  sendTimeout?: number;
  /** Messages not yet acknowledged beyond which `sendMessage` throws `QUEUE_FULL`; default 100. */
  maxQueueSize?: number;
  /** How long a message ahead of its predecessor waits for the late push before `sync` fills the gap; default 1000. */
  gapTimeout?: number;
  /** A peer's typing indicator clears after this long without a refresh; default 6000. */
  typingTimeout?: number;
  /** Outgoing `typing: true` is sent at most once per this interval per session; default 2000. */
  typingThrottle?: number;
  /** Heartbeat period (the server's, from `register`, if shorter); default 30000. */
  heartbeatInterval?: number;
  /** Delivered receipts of a burst are sent together after this delay; default 50. */
  receiptDelay?: number;
  /** IndexedDB to use; default `globalThis.indexedDB`; `null` (or none available) keeps state in memory. */
  indexedDB?: IDBFactory | null;
  /** IndexedDB database name prefix; the user id is appended. Default `"switchboard"`. */
  storageName?: string;
  /** A store of your own (overrides `indexedDB`). */
  store?: ClientStore;
  /** socket.io's `io` (default: the one imported from `socket.io-client`). */
  io?: SocketFactory;
  /** Random source in [0, 1) for the jitter; default `Math.random`. */
  random?: () => number;
}

/** A message pushed by the server (`new_message`) or returned by `sync`. */
export interface Message {
  id: number;
  session_id: string;
  from: "user" | "agent" | "system";
  from_user_id: number | null;
  to_user_id: number | null;
  text: string;
  /** `HH:MM` (UTC), for display. */
  time: string;
  /** ISO 8601 instant. */
  timestamp: string;
  avatar: string | null;
  message_type: MessageType;
  reply_to_message_id: number | null;
  status: string;
  /** Pushed from the offline backlog at register. */
  offline: boolean;
  sequence_number: number;
  client_msg_id: string | null;
}

/** A message the app queued, as kept in the outbox until the server acknowledges it. */
export interface OutgoingMessage {
  client_msg_id: string;
  session_id: string;
  message: string;
  message_type: MessageType;
  role?: "user" | "agent";
  reply_to_message_id?: number;
  /** When it was queued (ms since the epoch). */
  queued_at: number;
}

/** The server's acknowledgement of `send_message`. */
export interface SendAck {
  success: true;
  message_id: number;
  sequence_number: number;
  time: string;
  timestamp: string;
  session_id: string;
  client_msg_id: string;
  duplicate: boolean;
}

export interface SendOptions {
  messageType?: MessageType;
  replyToMessageId?: Id;
  role?: "user" | "agent";
}

export interface SendHandle {
  readonly clientMsgId: string;
  readonly message: OutgoingMessage;
  /** Resolves once the message is in the outbox (IndexedDB): from then on a reload does not lose it. */
  readonly persisted: Promise<void>;
  /** Resolves with the server's ack; rejects with a `SwitchboardError` on a final refusal (FORBIDDEN,
   *  INVALID_ARGUMENT, NOT_FOUND, PAYLOAD_TOO_LARGE). Transient failures are retried, never rejected. */
  readonly ack: Promise<SendAck>;
}

export type TickStatus = "pending" | "sent" | "delivered" | "read" | "failed";

/** A tick of one of this user's own messages; never a step backwards. `sent` comes from the SDK on the
 *  server's ack (with `client_msg_id`), `delivered` / `read` from the server's `message_status`. */
export interface MessageStatusEvent {
  message_id: number;
  session_id: string;
  status: "sent" | "delivered" | "read" | "failed";
  timestamp?: string;
  client_msg_id?: string;
}

export type SessionStatus = "open" | "closed";

export interface Session {
  session_id: string;
  user_id: number;
  agent_id: number | null;
  status: SessionStatus;
  last_sequence: number;
  reason?: string;
}

export interface SessionUpdate extends Session {
  reason: "agent_joined" | "taken_over" | "transferred" | "closed" | string;
}

/** A change of the waiting queue, pushed to agents and admins only (which agent took a session is not said). */
export interface QueueUpdate {
  session_id: string;
  user_id: number;
  status: "open" | "closed";
  last_sequence: number;
  /** `waiting`: entered the queue (a customer opened it); `taken`, `closed`: left it. */
  reason: "waiting" | "taken" | "closed";
}

export interface SessionPage {
  sessions: Session[];
  has_more: boolean;
  next_cursor: number;
}

export interface ListSessionsOptions {
  scope?: "mine" | "waiting" | "all";
  status?: SessionStatus;
  cursor?: number;
  limit?: number;
}

export interface SyncPage {
  messages: Message[];
  has_more: boolean;
}

/** A peer's typing state. `expired: true` when the SDK cleared it after `typingTimeout` without a refresh. */
export interface TypingEvent {
  session_id: string;
  user_id: number;
  is_typing: boolean;
  expired?: boolean;
}

export interface PresenceEvent {
  user_id: number;
  online: boolean;
  last_seen: string | null;
  session_id: string;
}

export interface ParticipantPresence {
  user_id: number;
  online: boolean;
  /** ISO 8601 of the last heartbeat ("" if never seen). */
  last_seen: string;
}

export interface KickedEvent {
  device_id: string;
  reason: string;
}

export interface Registration {
  connection_id: string;
  socket_id: string;
  heartbeat_interval: number;
  url: string;
}

export interface Device {
  device_id: string;
  device_name: string;
  device_type: string;
  is_active: boolean;
  online: boolean;
  connections: number;
  current: boolean;
  [field: string]: unknown;
}

/** Every event the client emits, with its listener's arguments. */
export interface ClientEvents {
  /** The connection's state changed. */
  status: (status: ConnectionStatus, previous: ConnectionStatus) => void;
  /** Registered on an edge (every connect, reconnects included). */
  connected: (registration: Registration) => void;
  /** The link dropped (or `disconnect()` was called). */
  disconnected: (reason: string) => void;
  /** A new message, once, in session order. Call `client.rendered(message)` once it is on screen:
   *  only then is `message_delivered` sent. */
  message: (message: Message) => void;
  /** A tick of one of this user's messages (never backwards). */
  messageStatus: (status: MessageStatusEvent) => void;
  /** The server acknowledged a queued message. */
  messageSent: (message: OutgoingMessage, ack: SendAck) => void;
  /** The server refused a queued message for good; it left the outbox. */
  sendFailed: (message: OutgoingMessage, error: SwitchboardError) => void;
  /** A peer's typing state (cleared by the SDK after `typingTimeout`). */
  typing: (typing: TypingEvent) => void;
  presence: (presence: PresenceEvent) => void;
  sessionUpdated: (session: SessionUpdate) => void;
  /** Agents and admins: a session entered or left the waiting queue. List the queue (`listSessions({scope:
   *  "waiting"})`) on every `connected`, then apply these: what happened while offline is in the list. */
  queueUpdated: (update: QueueUpdate) => void;
  /** This device was kicked; the client stops reconnecting. */
  kicked: (kick: KickedEvent) => void;
  /** Something went wrong in the background (a refused register, a storage failure…); informational. */
  error: (error: Error) => void;
}

/** Every failure the SDK reports: the server's `code` and `message` (or the SDK's own codes:
 *  `TIMEOUT`, `NOT_CONNECTED`, `QUEUE_FULL`, `CLOSED`). `reason` is the server's, e.g. `TOKEN_EXPIRED`. */
export class SwitchboardError extends Error {
  constructor(code: string, message: string, reason?: string);
  readonly code: string;
  readonly reason?: string;
  /** Whether a retry of the same request can succeed (UNAVAILABLE, RATE_LIMITED, INTERNAL, TIMEOUT…). */
  readonly transient: boolean;
  /** UNAUTHENTICATED with reason TOKEN_EXPIRED (the SDK renews the token and retries once by itself). */
  readonly tokenExpired: boolean;
}

export class SwitchboardClient {
  constructor(options: ClientOptions);

  readonly status: ConnectionStatus;
  /** The edge URL in use (or last tried). */
  readonly url: string;
  readonly userId: Id;
  readonly deviceId: string;

  /** Subscribe; returns the unsubscribe function. Listener exceptions are caught and reported as `error`. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void;
  off<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): void;
  once<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void;

  /** Start connecting and keep the link up. Resolves at the first registration; rejects when retrying
   *  cannot help (register refused FORBIDDEN / INVALID_ARGUMENT, or `maxRetries` spent). */
  connect(): Promise<Registration>;
  /** Drop the link and stop reconnecting. Unsent messages stay in the outbox. */
  disconnect(): Promise<void>;
  /** `disconnect()`, then close the store. The client cannot be used afterwards. */
  close(): Promise<void>;

  /** Queue a message (a fresh `client_msg_id`), persist it, send it when connected, retry until acked. */
  sendMessage(sessionId: string, text: string, options?: SendOptions): SendHandle;
  /** Messages queued and not acknowledged yet (after a reload: those left in IndexedDB), oldest first. */
  pendingMessages(): Promise<OutgoingMessage[]>;

  /** The app has shown this message: send `message_delivered` (batched, retried until acknowledged). */
  rendered(message: Message | Id): void;
  /** Read receipt for a whole session up to a sequence number. */
  markRead(sessionId: string, upToSequence: number): Promise<{ updated: number }>;
  /** Tell the peers this user is (not) typing; `true` is throttled per session, `false` goes at once. */
  typing(sessionId: string, isTyping?: boolean): void;

  /** The customer's open session (created if none); sets the session's baseline for ordering. */
  openSession(): Promise<Session>;
  /** Take a session as its agent (an admin takes it over); sets the session's baseline. */
  joinSession(sessionId: string): Promise<Session>;
  listSessions(options?: ListSessionsOptions): Promise<SessionPage>;
  transferSession(sessionId: string, agentId: Id): Promise<Session>;
  closeSession(sessionId: string): Promise<Session>;
  /** Whether the session's other participants are online now; `presence` events then tell the changes. */
  sessionPresence(sessionId: string): Promise<ParticipantPresence[]>;
  /** A page of history after a sequence (raw: does not touch dedup or order state). */
  sync(sessionId: string, afterSequence?: number, limit?: number): Promise<SyncPage>;
  /** Start tracking a session from a sequence (e.g. after showing its history): later messages come in order. */
  trackSession(sessionId: string, lastSequence: number): void;
  listDevices(): Promise<Device[]>;
  kickDevice(deviceId: string, reason?: string): Promise<{ connections_closed: number }>;
  updatePushToken(pushToken: string): Promise<void>;
  /** Any contract event with its ack; resolves with the reply, rejects with `SwitchboardError`. */
  request<T = Record<string, unknown>>(event: string, payload?: Record<string, unknown>): Promise<T>;
}

/** The outbox and watermarks in IndexedDB (one database per user). */
export class IndexedDBStore implements ClientStore {
  constructor(factory: IDBFactory, name: string);
  loadOutbox(): Promise<OutgoingMessage[]>;
  putOutbox(message: OutgoingMessage): Promise<void>;
  deleteOutbox(clientMsgId: string): Promise<void>;
  loadWatermarks(): Promise<Record<string, number>>;
  putWatermark(sessionId: string, sequence: number): Promise<void>;
  close(): void;
}

/** The same in memory (lost with the page or process). */
export class MemoryStore implements ClientStore {
  constructor();
  loadOutbox(): Promise<OutgoingMessage[]>;
  putOutbox(message: OutgoingMessage): Promise<void>;
  deleteOutbox(clientMsgId: string): Promise<void>;
  loadWatermarks(): Promise<Record<string, number>>;
  putWatermark(sessionId: string, sequence: number): Promise<void>;
  close(): void;
}

export default SwitchboardClient;
