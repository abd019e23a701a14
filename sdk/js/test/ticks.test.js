import assert from "node:assert/strict";
import { test } from "node:test";

import { SwitchboardClient } from "../index.js";
import { StatusFilter } from "../src/ticks.js";
import { FakeServer, eventually, sleep } from "./fake-server.js";

test("the filter keeps each message's highest status and drops steps backwards and repeats", () => {
  const filter = new StatusFilter();
  const accepted = (id, status) => filter.accept({ message_id: id, status });
  assert.equal(accepted(1, "sent"), true);
  assert.equal(accepted(1, "read"), true); // read overtook delivered
  assert.equal(accepted(1, "delivered"), false);
  assert.equal(accepted(1, "read"), false);
  assert.equal(accepted(1, "failed"), false); // a read message did not fail
  assert.equal(accepted(2, "sent"), true);
  assert.equal(accepted(2, "failed"), true);
  assert.equal(accepted(2, "sent"), false);
});

test("the filter forgets the oldest messages first", () => {
  const filter = new StatusFilter(2);
  for (const id of [1, 2, 3]) filter.accept({ message_id: id, status: "read" });
  assert.equal(filter.accept({ message_id: 1, status: "delivered" }), true); // forgotten: passed on
  assert.equal(filter.accept({ message_id: 3, status: "delivered" }), false);
});

test("own messages tick pending → sent (the ack) → delivered → read, never backwards", async (t) => {
  const server = new FakeServer();
  server.handlers.send_message = (p) => ({ success: true, message_id: 42, sequence_number: 1, session_id: "s1",
    client_msg_id: p.client_msg_id, time: "12:00", timestamp: "2026-01-01T12:00:00Z", duplicate: false });
  const client = new SwitchboardClient({ urls: ["http://edge"], userId: 7, tokenProvider: () => "t", io: server.io,
    indexedDB: null });
  t.after(() => client.close());
  const ticks = [];
  client.on("messageStatus", (s) => ticks.push([s.message_id, s.status]));
  await client.connect();
  const handle = client.sendMessage("s1", "hi");
  assert.deepEqual(await client.pendingMessages(), [handle.message]); // pending until the ack
  await handle.ack;
  for (const status of ["read", "delivered", "read", "sent"]) {
    server.socket.push("message_status", { message_id: 42, session_id: "s1", status, timestamp: "t" });
  }
  await eventually(() => ticks.length >= 2);
  await sleep(10);
  assert.deepEqual(ticks, [[42, "sent"], [42, "read"]]);
});

test("no ticks for messages of other users", async (t) => {
  const server = new FakeServer();
  const client = new SwitchboardClient({ urls: ["http://edge"], userId: 7, tokenProvider: () => "t", io: server.io,
    indexedDB: null });
  t.after(() => client.close());
  const ticks = [];
  client.on("messageStatus", (s) => ticks.push(s.message_id));
  await client.connect();
  server.socket.push("new_message", { id: 77, session_id: "s1", from_user_id: 9, sequence_number: 1, text: "hi" });
  server.socket.push("message_status", { message_id: 77, session_id: "s1", status: "read" });
  server.socket.push("message_status", { message_id: 78, session_id: "s1", status: "read" });
  await eventually(() => ticks.length === 1);
  await sleep(10);
  assert.deepEqual(ticks, [78]);
});
