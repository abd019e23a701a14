// Drives @switchboard/client (sdk/js) in Node against a running deployment; tests/sdk_js/test_sdk_js_live.py
// starts the deployment and checks what this prints: one JSON line of what each side saw.
// A customer (first URL dead: the SDK must rotate to the live edge) and an agent on the other edge converse;
// the customer's page is "reloaded" (a new client on the same IndexedDB) with messages queued while offline.
import { createRequire } from "node:module";

import { SwitchboardClient } from "../../sdk/js/index.js";

// fake-indexeddb is the SDK's dev dependency: resolved from sdk/js, where scripts/setup-js installs it.
const { IDBFactory } = createRequire(new URL("../../sdk/js/package.json", import.meta.url))("fake-indexeddb");

const args = JSON.parse(process.argv[2]);
const deadline = setTimeout(() => {
  console.error("live.mjs: time limit reached");
  process.exit(3);
}, args.timeout_ms);

const tokens = (who) => {
  const calls = { count: 0 };
  return { calls, provider: async () => args[who].tokens[calls.count++ % args[who].tokens.length] };
};

/** Resolves when `predicate()` holds, checked after every event of `client`. */
function until(client, events, predicate) {
  return new Promise((resolve) => {
    const check = () => {
      if (predicate()) {
        offs.forEach((off) => off());
        resolve();
      }
    };
    const offs = events.map((event) => client.on(event, check));
    check();
  });
}

const customerIdb = new IDBFactory(); // one browser profile: survives the "reload" below
const customerToken = tokens("customer");
const agentToken = tokens("agent");
const common = { retryInterval: 200, maxRetryInterval: 1_000, typingTimeout: 500, typingThrottle: 100, receiptDelay: 20,
  transports: args.transports };

function customerPage() {
  return new SwitchboardClient({
    ...common, urls: [args.dead_url, args.customer.url], userId: args.customer.user_id,
    tokenProvider: customerToken.provider, indexedDB: customerIdb, deviceId: "customer-browser",
  });
}

const customer = customerPage();
const agent = new SwitchboardClient({
  ...common, urls: [args.agent.url], userId: args.agent.user_id, tokenProvider: agentToken.provider,
  indexedDB: null, deviceId: "agent-console",
});

const out = { customer_statuses: [], ticks: {}, agent_received: [], customer_received: [], agent_typing: [],
  agent_session_updates: [], customer_session_updates: [] };
customer.on("status", (status) => out.customer_statuses.push(status));
const watchTicks = (client) => client.on("messageStatus", (s) => { (out.ticks[s.message_id] ??= []).push(s.status); });
watchTicks(customer);
agent.on("message", (m) => {
  out.agent_received.push(m);
  agent.rendered(m); // "shown"
});
agent.on("typing", (t) => out.agent_typing.push(t));
agent.on("sessionUpdated", (s) => out.agent_session_updates.push(s));
customer.on("message", (m) => {
  out.customer_received.push(m);
  customer.rendered(m);
});

const registration = await customer.connect();
out.customer_url = registration.url;
await agent.connect();
const session = await customer.openSession();
out.session_id = session.session_id;
await agent.joinSession(session.session_id);

// A conversation: the customer's messages arrive in order at the agent, who renders them and reads them.
const acks = await Promise.all(args.texts.map((text) => customer.sendMessage(session.session_id, text).ack));
out.acks = acks;
await until(agent, ["message"], () => out.agent_received.length >= args.texts.length);
const lastSeq = acks[acks.length - 1].sequence_number;
const allTicks = (status) => () => acks.every((a) => out.ticks[a.message_id]?.includes(status));
await until(customer, ["messageStatus"], allTicks("delivered"));
await agent.markRead(session.session_id, lastSeq);
await until(customer, ["messageStatus"], allTicks("read"));

// The agent answers.
for (const text of args.replies) await agent.sendMessage(session.session_id, text).ack;
await until(customer, ["message"], () => out.customer_received.length >= args.replies.length);

// Typing: shows at the agent, then times out there without a refresh.
customer.typing(session.session_id, true);
await until(agent, ["typing"], () => out.agent_typing.some((t) => t.expired));

// The reload: the page goes offline, queues messages, closes; the next page on the same IndexedDB sends them.
await customer.disconnect();
const offline = args.offline_texts.map((text) => customer.sendMessage(session.session_id, text));
await Promise.all(offline.map((handle) => handle.persisted));
await customer.close();
const reloaded = customerPage();
reloaded.on("sessionUpdated", (s) => out.customer_session_updates.push(s));
watchTicks(reloaded);
out.pending_after_reload = (await reloaded.pendingMessages()).map((m) => m.message);
const sent = [];
reloaded.on("messageSent", (message, ack) => sent.push({ text: message.message, ack }));
await reloaded.connect();
const total = args.texts.length + args.offline_texts.length;
await until(agent, ["message"], () => out.agent_received.length >= total);
await until(reloaded, ["messageSent"], () => sent.length >= args.offline_texts.length);
out.reload_acks = sent;
out.pending_at_end = (await reloaded.pendingMessages()).length;

// The console: the agent's sessions, then a close everyone hears about.
out.agent_sessions = (await agent.listSessions({ scope: "mine", status: "open" })).sessions.map((s) => s.session_id);
out.closed = await agent.closeSession(session.session_id);
await until(reloaded, ["sessionUpdated"], () => out.customer_session_updates.some((s) => s.reason === "closed"));
try {
  await reloaded.sendMessage(session.session_id, "after close").ack;
} catch (err) {
  out.after_close_error = { code: err.code, name: err.name };
}
out.history = (await agent.sync(session.session_id, 0, 200)).messages.map((m) => m.text);
out.token_calls = { customer: customerToken.calls.count, agent: agentToken.calls.count };
await Promise.all([reloaded.close(), agent.close()]);
clearTimeout(deadline);
console.log(JSON.stringify(out));
