// A customer and an agent talk through Switchboard with the standard socket.io-client, used exactly as the
// README shows front-end teams. Driven by tests/connection/test_js_client.py.
//
// Usage: node conversation.mjs '<json>' with
//   {customer: {url, token, user_id}, agent: {url, token, user_id}, transports: ["websocket"] | ["polling"],
//    count: N, timeout_ms?: overall limit (default 60000), ack_timeout_ms?: per acknowledgement (default 5000)}
// Prints one JSON line on stdout and exits 0; on a timeout or a failed step prints the reason on stderr and
// exits 1 (2 for bad arguments).
import { randomUUID } from "node:crypto";
import { io } from "socket.io-client";

let args;
try {
  args = JSON.parse(process.argv[2] ?? "");
} catch (err) {
  console.error(`usage: node conversation.mjs '<json args>' (${err.message})`);
  process.exit(2);
}
const { customer, agent, transports = ["websocket"], count = 10 } = args;
const timeoutMs = args.timeout_ms ?? 60000;
const ackTimeoutMs = args.ack_timeout_ms ?? 5000;

let step = "starting";
const sockets = [];

function fail(reason) {
  console.error(`conversation.mjs: ${reason} (step: ${step}, transports: ${JSON.stringify(transports)})`);
  for (const s of sockets) s.disconnect();
  process.exit(1);
}

const overall = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);

// Resolves once `predicate()` holds; re-checked by `poke()` whenever an event arrives.
const waiters = new Set();
function until(predicate) {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve) => waiters.add({ predicate, resolve }));
}
function poke() {
  for (const w of [...waiters]) {
    if (w.predicate()) {
      waiters.delete(w);
      w.resolve();
    }
  }
}

function connect(who, user) {
  const socket = io(user.url, {
    auth: { token: user.token },
    transports,
    reconnection: false,
    forceNew: true,
  });
  sockets.push(socket);
  const connected = new Promise((resolve, reject) => {
    socket.once("connected", resolve);
    socket.once("connect_error", (err) => reject(new Error(`${who} connect_error: ${err.message}`)));
  });
  return { socket, connected };
}

async function call(socket, event, payload) {
  const reply = await socket.timeout(ackTimeoutMs).emitWithAck(event, payload);
  return reply;
}

async function mustSucceed(socket, event, payload) {
  const reply = await call(socket, event, payload);
  if (!reply || reply.success !== true) throw new Error(`${event} failed: ${JSON.stringify(reply)}`);
  return reply;
}

function registration(user, deviceName) {
  return {
    user_id: user.user_id,
    token: user.token,
    device_id: `js-${randomUUID()}`,
    device_info: {
      device_name: deviceName, device_type: "web", platform: process.platform,
      browser: "node socket.io-client", os_version: process.version, app_version: "0.0.1",
    },
  };
}

async function main() {
  // The customer: connect with auth, wait for `connected`, register, open a session.
  step = "customer connect";
  const c = connect("customer", customer);
  const statuses = [];
  c.socket.on("message_status", (s) => {
    statuses.push(s);
    poke();
  });
  const customerConnected = await c.connected;
  if (customerConnected?.success !== true || customerConnected.socket_id !== c.socket.id) {
    throw new Error(`unexpected connected event: ${JSON.stringify(customerConnected)} (socket ${c.socket.id})`);
  }
  step = "customer register";
  const customerReg = await mustSucceed(c.socket, "register", registration(customer, "JS customer"));
  step = "open_session";
  const { session_id: sessionId } = await mustSucceed(c.socket, "open_session", {});

  // The agent, on the other edge: connect, register, join; acknowledge every message it receives.
  step = "agent connect";
  const a = connect("agent", agent);
  const received = [];
  const deliveredReplies = [];
  a.socket.on("new_message", (m) => {
    received.push(m);
    call(a.socket, "message_delivered", { message_id: m.id })
      .then((reply) => deliveredReplies.push(reply))
      .catch((err) => deliveredReplies.push({ success: false, error: { code: "CLIENT", message: err.message } }))
      .finally(poke);
    poke();
  });
  await a.connected;
  step = "agent register";
  await mustSucceed(a.socket, "register", registration(agent, "JS agent"));
  step = "join_session";
  await mustSucceed(a.socket, "join_session", { session_id: sessionId });

  // The customer sends, one acknowledgement at a time, as a chat UI does.
  const acks = [];
  for (let i = 0; i < count; i++) {
    step = `send_message ${i}`;
    acks.push(await mustSucceed(c.socket, "send_message", {
      session_id: sessionId, message: `js ${i}`, role: "user", message_type: "text", client_msg_id: randomUUID(),
    }));
  }

  step = "agent receives every message";
  await until(() => received.length >= count);
  step = "delivered acknowledgements";
  await until(() => deliveredReplies.length >= count);
  step = "customer receives delivered receipts";
  const sentIds = new Set(acks.map((ack) => ack.message_id));
  await until(() => {
    const delivered = new Set(statuses.filter((s) => s.status === "delivered").map((s) => s.message_id));
    return [...sentIds].every((id) => delivered.has(id));
  });

  step = "error reply";
  const error = await call(c.socket, "send_message", { session_id: sessionId, message: "", role: "user" });

  const result = {
    transports,
    customer_transport: c.socket.io.engine.transport.name,
    agent_transport: a.socket.io.engine.transport.name,
    heartbeat_interval: customerReg.heartbeat_interval,
    session_id: sessionId,
    acks: acks.map((ack) => ({
      message_id: ack.message_id, sequence_number: ack.sequence_number, client_msg_id: ack.client_msg_id,
      duplicate: ack.duplicate,
    })),
    received: received.map((m) => ({
      id: m.id, text: m.text, sequence_number: m.sequence_number, from: m.from, from_user_id: m.from_user_id,
      to_user_id: m.to_user_id, session_id: m.session_id, client_msg_id: m.client_msg_id,
    })),
    delivered_replies: deliveredReplies,
    statuses: statuses.map((s) => ({ message_id: s.message_id, session_id: s.session_id, status: s.status })),
    error,
  };
  for (const s of sockets) s.disconnect();
  clearTimeout(overall);
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

main().catch((err) => fail(err?.message ?? String(err)));
