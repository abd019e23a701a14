import assert from "node:assert/strict";
import { test } from "node:test";

import { IDBFactory } from "fake-indexeddb";

import { SwitchboardClient } from "../index.js";
import { FakeServer, eventually } from "./fake-server.js";

let seq = 0;
function acceptSends(server) {
  const stored = new Map(); // client_msg_id → ack: the server's dedup
  server.handlers.send_message = (p) => {
    if (!stored.has(p.client_msg_id)) {
      seq += 1;
      stored.set(p.client_msg_id, { success: true, message_id: 1000 + seq, sequence_number: seq, session_id: p.session_id,
        client_msg_id: p.client_msg_id, time: "12:00", timestamp: "2026-01-01T12:00:00Z", duplicate: false });
      return stored.get(p.client_msg_id);
    }
    return { ...stored.get(p.client_msg_id), duplicate: true };
  };
  return stored;
}

const page = (server, indexedDB, options = {}) => new SwitchboardClient({
  urls: ["http://edge"], userId: 7, tokenProvider: () => "t", io: server.io, indexedDB, retryInterval: 5,
  maxRetryInterval: 10, ...options,
});

test("messages queued offline survive a reload in IndexedDB and are sent exactly once, in order", async () => {
  const server = new FakeServer();
  const stored = acceptSends(server);
  const indexedDB = new IDBFactory(); // one browser profile, two page lives

  const first = page(server, indexedDB);
  const handles = ["one", "two", "three"].map((text) => first.sendMessage("s1", text));
  await Promise.all(handles.map((h) => h.persisted));
  assert.ok(handles.every((h) => /^[0-9a-f-]{36}$/.test(h.clientMsgId)));
  await first.close(); // the page goes away before any connection

  const second = page(server, indexedDB);
  assert.deepEqual((await second.pendingMessages()).map((m) => [m.message, m.client_msg_id]),
    handles.map((h, i) => [["one", "two", "three"][i], h.clientMsgId]));
  const sent = [];
  second.on("messageSent", (message, ack) => sent.push([message.message, ack.duplicate]));
  await second.connect();
  await eventually(() => sent.length === 3);
  assert.deepEqual(sent, [["one", false], ["two", false], ["three", false]]);
  assert.deepEqual(server.sent("send_message").map((p) => p.client_msg_id), handles.map((h) => h.clientMsgId));
  assert.equal(stored.size, 3);
  assert.deepEqual(await second.pendingMessages(), []);
  await second.close();

  const third = page(server, indexedDB); // nothing left for the next page
  assert.deepEqual(await third.pendingMessages(), []);
  await third.close();
});

test("an unacknowledged send is retried with the same client_msg_id until acknowledged", async (t) => {
  const server = new FakeServer();
  acceptSends(server);
  const accept = server.handlers.send_message;
  let lost = 0;
  server.handlers.send_message = (p) => (lost++ < 2 ? undefined : accept(p)); // two acks lost
  const client = page(server, null, { sendTimeout: 20 });
  t.after(() => client.close());
  await client.connect();
  const handle = client.sendMessage("s1", "hello");
  const ack = await handle.ack;
  const ids = server.sent("send_message").map((p) => p.client_msg_id);
  assert.deepEqual(ids, [handle.clientMsgId, handle.clientMsgId, handle.clientMsgId]);
  assert.equal(ack.client_msg_id, handle.clientMsgId);
});

test("a send refused for the moment is retried; one refused for good fails its handle and leaves the queue", async (t) => {
  const server = new FakeServer();
  acceptSends(server);
  const accept = server.handlers.send_message;
  let busy = 1;
  server.handlers.send_message = (p) => {
    if (p.session_id === "closed") return { success: false, error: { code: "FORBIDDEN", message: "closed" } };
    if (busy-- > 0) return { success: false, error: { code: "UNAVAILABLE", message: "backend away" } };
    return accept(p);
  };
  const client = page(server, null);
  t.after(() => client.close());
  const failed = [];
  client.on("sendFailed", (message, err) => failed.push([message.message, err.code]));
  await client.connect();
  const refused = client.sendMessage("closed", "nope");
  await assert.rejects(refused.ack, { code: "FORBIDDEN" });
  assert.deepEqual(failed, [["nope", "FORBIDDEN"]]);
  const ack = await client.sendMessage("s1", "later").ack;
  assert.equal(ack.duplicate, false);
  assert.equal(server.sent("send_message").filter((p) => p.session_id === "s1").length, 2);
  assert.deepEqual(await client.pendingMessages(), []);
});

test("a session's messages go one at a time, in queue order; a full queue refuses more", async (t) => {
  const server = new FakeServer();
  acceptSends(server);
  const client = page(server, null, { maxQueueSize: 3 });
  t.after(() => client.close());
  const handles = ["a", "b", "c"].map((text) => client.sendMessage("s1", text));
  assert.throws(() => client.sendMessage("s1", "d"), { code: "QUEUE_FULL" });
  await client.connect();
  const acks = await Promise.all(handles.map((h) => h.ack));
  assert.deepEqual(server.sent("send_message").map((p) => p.message), ["a", "b", "c"]);
  assert.deepEqual(acks.map((a) => a.sequence_number), [...acks.map((a) => a.sequence_number)].sort((x, y) => x - y));
});

test("message ids are v4 UUIDs, also where crypto.randomUUID is missing (plain http pages)", async () => {
  const { uuid } = await import("../src/uuid.js");
  const saved = globalThis.crypto.randomUUID;
  const pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  try {
    globalThis.crypto.randomUUID = undefined;
    const ids = new Set(Array.from({ length: 100 }, uuid));
    assert.equal(ids.size, 100);
    assert.ok([...ids].every((id) => pattern.test(id)));
  } finally {
    globalThis.crypto.randomUUID = saved;
  }
  assert.match(uuid(), pattern);
});

test("send_message carries the contract's fields only", async (t) => {
  const server = new FakeServer();
  acceptSends(server);
  const client = page(server, null);
  t.after(() => client.close());
  await client.connect();
  await client.sendMessage("s1", "hello", { messageType: "text", replyToMessageId: "12", role: "user" }).ack;
  const [payload] = server.sent("send_message");
  assert.deepEqual(Object.keys(payload).sort(),
    ["client_msg_id", "message", "message_type", "reply_to_message_id", "role", "session_id"]);
  assert.equal(payload.reply_to_message_id, 12);
});

test("a store that fails is reported and the messages still go out", async (t) => {
  const server = new FakeServer();
  acceptSends(server);
  const broken = () => Promise.reject(new Error("QuotaExceededError"));
  const store = { loadOutbox: broken, putOutbox: broken, deleteOutbox: broken, loadWatermarks: broken,
    putWatermark: broken, close() {} };
  const client = new SwitchboardClient({ urls: ["http://edge"], userId: 7, tokenProvider: () => "t", io: server.io, store });
  t.after(() => client.close());
  const errors = [];
  client.on("error", (err) => errors.push(err.message));
  await client.connect();
  const handle = client.sendMessage("s1", "still sent");
  await assert.rejects(handle.persisted, /QuotaExceededError/);
  assert.equal((await handle.ack).duplicate, false);
  assert.ok(errors.filter((m) => m === "QuotaExceededError").length >= 3, errors); // load, put, delete
});
