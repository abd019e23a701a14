import assert from "node:assert/strict";
import { test } from "node:test";

import { SwitchboardClient } from "../index.js";
import { TypingSender } from "../src/typing.js";
import { FakeServer, eventually, sleep } from "./fake-server.js";

test("typing true is throttled per session; false goes at once, once", () => {
  let now = 0;
  const sent = [];
  const typing = new TypingSender({ send: (s, is) => sent.push([s, is]), throttle: () => 2_000, clock: () => now });
  typing.typing("s1", true);
  now = 500;
  typing.typing("s1", true); // within the throttle: dropped
  typing.typing("s2", true); // another session: its own throttle
  now = 2_100;
  typing.typing("s1", true); // a refresh
  typing.typing("s1", false);
  typing.typing("s1", false); // nothing to clear
  assert.deepEqual(sent, [["s1", true], ["s2", true], ["s1", true], ["s1", false]]);
});

test("a peer's typing indicator clears after the timeout without a refresh, and a refresh extends it", async (t) => {
  const server = new FakeServer();
  const client = new SwitchboardClient({ urls: ["http://edge"], userId: 7, tokenProvider: () => "t", io: server.io,
    indexedDB: null, typingTimeout: 300 });
  t.after(() => client.close());
  const events = [];
  client.on("typing", (e) => events.push(e));
  await client.connect();
  const typing = { session_id: "s1", user_id: 9, is_typing: true };
  server.socket.push("typing", typing);
  await sleep(200);
  server.socket.push("typing", typing); // refreshed before the timeout
  await sleep(200); // past the first one's timeout, not the refresh's
  assert.equal(events.length, 2);
  assert.ok(events.every((e) => e.is_typing));
  await eventually(() => events.length === 3);
  assert.deepEqual(events[2], { session_id: "s1", user_id: 9, is_typing: false, expired: true });
  server.socket.push("typing", typing);
  server.socket.push("typing", { ...typing, is_typing: false }); // cleared by the peer: no expiry after it
  await sleep(400);
  assert.deepEqual(events.slice(3).map((e) => e.is_typing), [true, false]);
});

test("typing() sends the typing event with the session and state", async (t) => {
  const server = new FakeServer();
  const client = new SwitchboardClient({ urls: ["http://edge"], userId: 7, tokenProvider: () => "t", io: server.io,
    indexedDB: null });
  t.after(() => client.close());
  client.typing("s1", true); // not connected: dropped, typing is only worth it live
  await client.connect();
  client.typing("s1", true);
  client.typing("s1", true);
  client.typing("s1", false);
  await eventually(() => server.sent("typing").length === 2);
  assert.deepEqual(server.sent("typing"), [{ session_id: "s1", is_typing: true }, { session_id: "s1", is_typing: false }]);
});
