// Compiled (never run) against index.d.ts by test/types.test.js: the declarations are valid TypeScript and
// describe the SDK as the docs use it, so a page written in TypeScript type-checks.
import SwitchboardClientDefault, {
  type ConnectionStatus, type Message, type MessageStatusEvent, type Session, SwitchboardClient, SwitchboardError,
} from "@switchboard/client";

const client: SwitchboardClient = new SwitchboardClientDefault({
  urls: ["http://127.0.0.1:8000", "http://127.0.0.1:8001"],
  userId: 123,
  tokenProvider: async () => "token",
  deviceInfo: { device_type: "web", device_name: "Chrome" },
  typingTimeout: 6000,
  indexedDB: null,
});

const off: () => void = client.on("status", (status: ConnectionStatus, previous: ConnectionStatus) => {
  console.log(status, previous);
});
off();
client.on("message", (message: Message) => {
  const seq: number = message.sequence_number;
  client.rendered(message);
  console.log(seq, message.text.toUpperCase());
});
client.on("messageStatus", (s: MessageStatusEvent) => console.log(s.status === "read"));
client.on("typing", ({ is_typing, expired }) => console.log(is_typing, expired));
client.on("sessionUpdated", (s) => console.log(s.reason, s.agent_id));
client.on("queueUpdated", (q) => console.log(q.reason === "waiting", q.session_id, q.user_id));
client.on("sendFailed", (message, error) => console.log(message.client_msg_id, error.code, error.transient));

async function main(): Promise<void> {
  const registration = await client.connect();
  console.log(registration.connection_id, registration.url);
  const session: Session = await client.openSession();
  const handle = client.sendMessage(session.session_id, "hello", { messageType: "text" });
  await handle.persisted;
  const ack = await handle.ack;
  console.log(ack.sequence_number, ack.duplicate, handle.clientMsgId);
  const { updated } = await client.markRead(session.session_id, ack.sequence_number);
  console.log(updated);
  client.typing(session.session_id, true);
  const page = await client.listSessions({ scope: "waiting", limit: 20 });
  for (const s of page.sessions) console.log(s.session_id, s.last_sequence);
  await client.joinSession(session.session_id);
  await client.transferSession(session.session_id, 456);
  await client.closeSession(session.session_id);
  for (const peer of await client.sessionPresence(session.session_id)) console.log(peer.user_id, peer.online);
  const history = await client.sync(session.session_id, 0, 200);
  console.log(history.has_more, history.messages.length);
  const pending = await client.pendingMessages();
  console.log(pending.map((m) => m.client_msg_id));
  try {
    await client.request<{ devices: unknown[] }>("list_devices");
  } catch (err) {
    if (err instanceof SwitchboardError) console.log(err.code, err.reason, err.tokenExpired);
  }
  await client.close();
}

void main();

// @ts-expect-error: an unknown event is a type error
client.on("nonsense", () => {});
