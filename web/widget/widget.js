// The customer widget: start a chat, talk to an agent with ticks, typing, presence, a reconnecting banner,
// history and unsent messages kept across reloads (the SDK's IndexedDB outbox), unread count in the tab title.
//
//     import { mountWidget } from "https://chat.example.com/widget/widget.js";
//     mountWidget(document.querySelector("#chat"), {
//       urls: ["https://chat.example.com"], userId: 123, tokenProvider: () => myBackend.chatToken(),
//     });
//
// Options: urls (one edge URL or several), userId, tokenProvider (see /shared/token.js), lang ("en" | "zh";
// default: the browser's), deviceId (default: one kept in localStorage per user).

import { ConversationView } from "/shared/conversation.js";
import { element, loadHistory, mountLayout, pageClient, TitleCounter } from "/shared/page.js";

const STARTED_KEY = "switchboard-widget-started";

export async function mountWidget(root, options) {
  const t = mountLayout(root, options, layout);
  const userId = Number(options.userId);
  const banner = root.querySelector(".banner");
  const presence = root.querySelector(".presence");
  const startButton = root.querySelector(".start");
  const chat = root.querySelector(".chat");
  const title = new TitleCounter(document, t("widgetTitle"));

  const client = pageClient(options, "user", "Web widget");
  let session = null;
  let view = null;
  let lastPeerSequence = 0;
  let readUpTo = 0;
  let hasConnected = false;

  client.on("status", (status) => {
    if (status === "connected") hasConnected = true;
    const text = status === "reconnecting" || (status === "connecting" && hasConnected) ? t("reconnecting")
      : status === "connecting" ? t("connecting") : status === "disconnected" ? t("disconnected") : "";
    banner.textContent = text;
    banner.hidden = !text;
    if (status !== "connected") view?.typing(false, ""); // nobody's typing reaches a page that is offline
  });

  const visible = () => document.visibilityState === "visible";
  const markRead = () => {
    if (!session || !visible() || lastPeerSequence <= readUpTo) return;
    readUpTo = lastPeerSequence;
    client.markRead(session.session_id, readUpTo).catch(() => { readUpTo = 0; }); // retried at the next chance
  };
  document.addEventListener("visibilitychange", () => {
    if (visible()) title.reset();
    markRead();
  });

  const showPeerMessage = (message, fromHistory = false) => {
    if (view.isMine(message)) return;
    if (!fromHistory || message.status === "sent") client.rendered(message); // on screen: delivered now
    lastPeerSequence = Math.max(lastPeerSequence, message.sequence_number);
  };

  client.on("message", (message) => {
    if (!session || message.session_id !== session.session_id) return;
    if (view.addMessage(message) && !view.isMine(message) && !visible()) title.increment();
    showPeerMessage(message);
    markRead();
  });
  client.on("messageSent", (outgoing, ack) => view?.sent(outgoing, ack));
  client.on("messageStatus", (status) => {
    if (session && status.session_id === session.session_id) view.status(status);
  });
  client.on("sendFailed", (outgoing) => view?.failed(outgoing));
  client.on("typing", (typing) => {
    if (session && typing.session_id === session.session_id && typing.user_id !== userId) {
      view.typing(typing.is_typing, t("agentTyping"));
    }
  });
  client.on("presence", (event) => {
    if (session && event.session_id === session.session_id && event.user_id !== userId) {
      setPresence(event.online);
    }
  });
  client.on("sessionUpdated", (update) => {
    if (!session || update.session_id !== session.session_id) return;
    session = update;
    if (update.reason === "closed" || update.status === "closed") {
      view.note(t("chatClosed"));
      view.setEnabled(false);
      localStorage.removeItem(`${STARTED_KEY}-${userId}`);
      startButton.textContent = t("newChat");
      startButton.hidden = false;
    } else if (update.reason === "transferred") {
      view.note(t("agentTransferred"));
      setPresence(null);
    } else if (update.agent_id) {
      view.note(t("agentJoined"));
      setPresence(true);
    }
  });

  // presence events tell changes only: where the agent stands now is asked once, as the chat starts.
  function showAgentPresence(sessionId) {
    client.sessionPresence(sessionId).then(([agent]) => {
      if (agent && session?.session_id === sessionId && presence.dataset.online === undefined) setPresence(agent.online);
    }, () => {});
  }

  function setPresence(online) {
    presence.textContent = online === null ? "" : online ? t("agentOnline") : t("agentOffline");
    if (online === null) delete presence.dataset.online;
    else presence.dataset.online = String(online);
  }

  async function start() {
    startButton.hidden = true;
    session = await client.openSession();
    localStorage.setItem(`${STARTED_KEY}-${userId}`, "1");
    view = new ConversationView({
      t, userId, seat: "user",
      onSend: (text) => view.addPending(client.sendMessage(session.session_id, text, { role: "user" }).message),
      onTyping: (typing) => client.typing(session.session_id, typing),
    });
    chat.replaceChildren(view.root);
    if (!session.agent_id) view.note(t("waitingForAgent"));
    else showAgentPresence(session.session_id);
    await loadHistory(client, session.session_id, view, showPeerMessage);
    for (const outgoing of await client.pendingMessages()) {
      if (outgoing.session_id === session.session_id) view.addPending(outgoing);
    }
    markRead();
    view.input.focus();
  }

  startButton.addEventListener("click", () => start().catch((error) => banner.replaceChildren(t("error", error))));
  await client.connect();
  if (localStorage.getItem(`${STARTED_KEY}-${userId}`)) await start();
  return client;
}

function layout() {
  const box = element("div", { class: "widget" });
  box.innerHTML = `
    <header class="bar">
      <h1 data-i18n="widgetTitle"></h1>
      <span class="presence" role="status"></span>
    </header>
    <p class="banner" role="status" aria-live="assertive" hidden></p>
    <main class="chat-main">
      <button type="button" class="start" data-i18n="startChat"></button>
      <div class="chat"></div>
    </main>`;
  return box;
}
