import assert from "node:assert/strict";
import { test } from "node:test";

import { IDBFactory } from "fake-indexeddb";

import { SwitchboardClient } from "../index.js";
import { FakeServer, eventually, sleep } from "./fake-server.js";

const AGENT = 9;
const msg = (seq, session = "s1", from = AGENT) => ({
  id: 500 + seq, session_id: session, from: "agent", from_user_id: from, to_user_id: 7, text: `m${seq}`,
  time: "12:00", timestamp: "2026-01-01T12:00:00Z", avatar: null, message_type: "text", reply_to_message_id: null,
  status: "sent", offline: false, sequence_number: seq, client_msg_id: null,
});

async function connected(options = {}) {
  const server = new FakeServer();
  server.handlers.open_session = () => ({ success: true, session_id: "s1",
    session: { session_id: "s1", user_id: 7, agent_id: AGENT, status: "open", last_sequence: 0 } });
  const client = new SwitchboardClient({
    urls: ["http://edge"], userId: 7, tokenProvider: () => "t", io: server.io, indexedDB: null, gapTimeout: 30,
    receiptDelay: 5, retryInterval: 5, maxRetryInterval: 10, ...options,
  });
  const seen = [];
  client.on("message", (m) => seen.push(m.sequence_number));
  await client.connect();
  await client.openSession();
  return { server, client, seen };
}

test("a message pushed twice is handed to the app once", async (t) => {
  const { server, client, seen } = await connected();
  t.after(() => client.close());
  server.socket.push("new_message", msg(1));
  server.socket.push("new_message", { ...msg(1), offline: true });
  server.socket.push("new_message", msg(2));
  await sleep(20);
  assert.deepEqual(seen, [1, 2]);
});

test("a message ahead of its predecessor waits; the gap is filled through sync, in order", async (t) => {
  const { server, client, seen } = await connected();
  t.after(() => client.close());
  server.handlers.sync = (p) => ({ success: true, has_more: false,
    messages: [2, 3, 4].filter((s) => s > p.after_sequence).map((s) => msg(s)) });
  server.socket.push("new_message", msg(1));
  server.socket.push("new_message", msg(4)); // 2 and 3 lost
  await sleep(5);
  assert.deepEqual(seen, [1]); // 4 is held back
  await eventually(() => seen.length === 4);
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.deepEqual(server.sent("sync").map((p) => [p.session_id, p.after_sequence]), [["s1", 1]]);
});

test("a late push within the gap timeout needs no sync", async (t) => {
  const { server, client, seen } = await connected({ gapTimeout: 200 });
  t.after(() => client.close());
  server.socket.push("new_message", msg(2));
  server.socket.push("new_message", msg(1));
  await sleep(10);
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual(server.sent("sync"), []);
});

test("the client's own acknowledged messages take their slots and release what waits behind them", async (t) => {
  const { server, client, seen } = await connected({ gapTimeout: 10_000 });
  t.after(() => client.close());
  let ack;
  server.handlers.send_message = (p) => new Promise((resolve) => {
    ack = () => resolve({ success: true, message_id: 900, sequence_number: 1, session_id: "s1",
      client_msg_id: p.client_msg_id, time: "12:00", timestamp: "2026-01-01T12:00:00Z", duplicate: false });
  });
  client.sendMessage("s1", "mine");
  await eventually(() => ack);
  server.socket.push("new_message", msg(2)); // the agent's answer overtakes our ack
  await sleep(5);
  assert.deepEqual(seen, []);
  ack();
  await eventually(() => seen.length === 1);
  assert.deepEqual(seen, [2]);
});

test("message_delivered is sent only once the app rendered the message, and only for others' messages", async (t) => {
  const { server, client } = await connected();
  t.after(() => client.close());
  const received = [];
  client.on("message", (m) => received.push(m));
  server.socket.push("new_message", msg(1));
  server.socket.push("new_message", msg(2));
  await sleep(30);
  assert.deepEqual(server.sent("message_delivered"), []); // received is not shown
  client.rendered(received[0]);
  client.rendered(received[1]);
  client.rendered({ ...msg(3), from_user_id: 7 }); // our own: no receipt
  await eventually(() => server.sent("message_delivered").length === 1);
  assert.deepEqual(server.sent("message_delivered"), [{ message_ids: [501, 502] }]);
});

test("a receipt the server did not take is sent again on the next link", async (t) => {
  const { server, client } = await connected();
  t.after(() => client.close());
  server.handlers.message_delivered = () => undefined; // lost with the link
  client.rendered(msg(1));
  await eventually(() => server.sent("message_delivered").length === 1);
  server.handlers.message_delivered = (p) => ({ success: true, updated: p.message_ids.length });
  server.socket.drop();
  await eventually(() => server.sent("message_delivered").length === 2);
  assert.deepEqual(server.sent("message_delivered")[1], { message_ids: [501] });
});

test("on reconnect every known session is synced from its watermark, kept across a reload", async () => {
  const indexedDB = new IDBFactory();
  const { server, client, seen } = await connected({ indexedDB });
  server.socket.push("new_message", msg(1));
  server.socket.push("new_message", msg(2));
  await eventually(() => seen.length === 2);
  server.handlers.sync = (p) => ({ success: true, has_more: false,
    messages: [3].filter((s) => s > p.after_sequence).map((s) => msg(s)) });
  server.socket.drop();
  await eventually(() => seen.length === 3);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(server.sent("sync").at(-1), { session_id: "s1", after_sequence: 2, limit: 200 });
  await sleep(10); // the watermark's write
  await client.close();

  const syncs = server.sent("sync").length;
  const reloaded = new SwitchboardClient({ urls: ["http://edge"], userId: 7, tokenProvider: () => "t", io: server.io,
    indexedDB });
  await reloaded.connect();
  await eventually(() => server.sent("sync").length === syncs + 1);
  assert.deepEqual(server.sent("sync").at(-1), { session_id: "s1", after_sequence: 3, limit: 200 });
  await reloaded.close();
});

test("a gap the server cannot fill either is skipped, so the session does not stall", async (t) => {
  const { server, client, seen } = await connected();
  t.after(() => client.close());
  const errors = [];
  client.on("error", (err) => errors.push(err.message));
  server.socket.push("new_message", msg(1));
  server.socket.push("new_message", msg(3)); // 2 is gone for good: sync returns nothing after 1
  await eventually(() => seen.length === 2);
  assert.deepEqual(seen, [1, 3]);
  assert.match(errors.join(), /could not fill the gap in session s1 after 1/);
  server.socket.push("new_message", msg(4));
  await eventually(() => seen.length === 3);
});
