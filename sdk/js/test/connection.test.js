import assert from "node:assert/strict";
import { test } from "node:test";

import { SwitchboardClient, SwitchboardError } from "../index.js";
import { FakeServer, eventually } from "./fake-server.js";

const URLS = ["http://edge-a", "http://edge-b", "http://edge-c"];

function makeClient(server, options = {}) {
  let issued = 0;
  const client = new SwitchboardClient({
    urls: URLS, userId: 7, tokenProvider: async () => `token-${++issued}`, io: server.io, indexedDB: null,
    retryInterval: 5, maxRetryInterval: 10, ...options,
  });
  client.tokensIssued = () => issued;
  return client;
}

test("connects through the URLs in turn, with socket.io's reconnection off and a fresh token per attempt", async (t) => {
  const server = new FakeServer();
  server.down.add(URLS[0]).add(URLS[1]);
  const client = makeClient(server);
  t.after(() => client.close());
  const statuses = [];
  client.on("status", (status) => statuses.push(status));

  const registration = await client.connect();
  assert.equal(registration.url, URLS[2]);
  assert.deepEqual(server.sockets.map((s) => s.url), URLS);
  assert.ok(server.sockets.every((s) => s.options.reconnection === false));
  // Each attempt asked for its own token: the one registered is the third, and the socket's auth carries it.
  assert.deepEqual(server.sockets.map((s) => s.options.auth.token), ["token-1", "token-2", "token-3"]);
  assert.equal(server.sent("register")[0].token, "token-3");
  assert.equal(server.sent("register")[0].user_id, 7);
  assert.deepEqual(statuses, ["connecting", "connected"]);
  assert.equal(client.status, "connected");
});

test("after a drop it reconnects to the next edge, registering again with a new token and the same ids", async (t) => {
  const server = new FakeServer();
  const client = makeClient(server);
  t.after(() => client.close());
  const statuses = [];
  const drops = [];
  client.on("status", (status) => statuses.push(status));
  client.on("disconnected", (reason) => drops.push(reason));
  await client.connect();
  assert.equal(client.url, URLS[0]);

  server.socket.drop("transport close");
  await eventually(() => client.status === "connected" && client.url === URLS[1]);
  assert.deepEqual(statuses, ["connecting", "connected", "reconnecting", "connected"]);
  assert.deepEqual(drops, ["transport close"]);
  const [first, second] = server.sent("register");
  assert.deepEqual([first.token, second.token], ["token-1", "token-2"]);
  assert.equal(second.connection_id, first.connection_id);
  assert.equal(second.device_id, first.device_id);
  assert.equal(client.tokensIssued(), 2);
});

test("a token that expired on a live link is renewed by registering again, then the request is retried", async (t) => {
  const server = new FakeServer();
  const client = makeClient(server);
  t.after(() => client.close());
  await client.connect();
  let refused = false;
  server.handlers.list_devices = () => {
    if (refused) return { success: true, devices: [{ device_id: "d" }] };
    refused = true;
    return { success: false, error: { code: "UNAUTHENTICATED", message: "expired", reason: "TOKEN_EXPIRED" } };
  };
  assert.deepEqual(await client.listDevices(), [{ device_id: "d" }]);
  assert.deepEqual(server.sent("register").map((r) => r.token), ["token-1", "token-2"]);
  assert.equal(server.sockets.length, 1); // on the same socket
});

test("a registration refused for good rejects connect() and stops trying", async (t) => {
  const server = new FakeServer();
  server.handlers.register = () => ({ success: false, error: { code: "FORBIDDEN", message: "not you" } });
  const client = makeClient(server);
  t.after(() => client.close());
  const errors = [];
  client.on("error", (err) => errors.push(err));
  await assert.rejects(client.connect(), (err) => err instanceof SwitchboardError && err.code === "FORBIDDEN");
  assert.equal(client.status, "disconnected");
  assert.equal(server.sockets.length, 1);
});

test("requests surface the server's error code and message; a missing ack is a TIMEOUT", async (t) => {
  const server = new FakeServer();
  const client = makeClient(server, { requestTimeout: 30 });
  t.after(() => client.close());
  await client.connect();
  server.handlers.join_session = () => ({ success: false, error: { code: "NOT_FOUND", message: "no such session" } });
  await assert.rejects(client.joinSession("s1"), { name: "SwitchboardError", code: "NOT_FOUND", message: "no such session" });
  server.handlers.list_sessions = () => undefined;
  await assert.rejects(client.listSessions(), { code: "TIMEOUT" });
});

test("kicked: the client stops reconnecting", async (t) => {
  const server = new FakeServer();
  const client = makeClient(server);
  t.after(() => client.close());
  const kicks = [];
  client.on("kicked", (kick) => kicks.push(kick));
  await client.connect();
  server.socket.push("kicked", { device_id: client.deviceId, reason: "signed out" });
  server.sockets[0].drop("io server disconnect");
  await eventually(() => client.status === "disconnected");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(server.sockets.length, 1);
  assert.deepEqual(kicks, [{ device_id: client.deviceId, reason: "signed out" }]);
});

test("queue_updated reaches the app as queueUpdated, as the server sent it", async (t) => {
  const server = new FakeServer();
  const client = makeClient(server);
  t.after(() => client.close());
  const updates = [];
  client.on("queueUpdated", (update) => updates.push(update));
  await client.connect();
  const waiting = { session_id: "s-1", user_id: 9, status: "open", last_sequence: 0, reason: "waiting" };
  server.socket.push("queue_updated", waiting);
  await eventually(() => updates.length === 1);
  assert.deepEqual(updates, [waiting]);
});

test("a heartbeat without an ack drops the link; the client reconnects to the next edge", async (t) => {
  const server = new FakeServer();
  server.handlers.heartbeat = () => undefined; // a half-open link: nothing comes back
  const client = makeClient(server, { heartbeatInterval: 20, requestTimeout: 20 });
  t.after(() => client.close());
  await client.connect();
  assert.equal(client.url, URLS[0]);
  await eventually(() => client.url === URLS[1] && client.status === "connected");
  assert.ok(server.sent("heartbeat").length >= 1);
  assert.equal(server.sent("heartbeat")[0].connection_id, server.sent("register")[0].connection_id);
});
