// The agent console: the waiting queue, taking a session, several sessions side by side (each with its unread
// count, typing bubble, ticks), transfer to another agent and close. Options as the widget's, plus role
// ("agent" or "admin"). A pane's messages count as read once the agent works in that pane (focus or click)
// while the page is visible; until then they count as unread, on the pane and in the tab title.
// The waiting queue is listed on every (re)connect and kept current by the server's queueUpdated pushes: a
// push missed while offline is made good by the next list, and nothing polls.

import { ConversationView } from "/shared/conversation.js";
import { element, loadHistory, mountLayout, pageClient, TitleCounter } from "/shared/page.js";

// A list of the queue refused for a passing reason (a rate limit) is tried again after this long.
const QUEUE_RETRY_MS = 2000;

export async function mountConsole(root, options) {
  const t = mountLayout(root, options, layout);
  const userId = Number(options.userId);
  const banner = root.querySelector(".banner");
  const queue = root.querySelector(".queue ul");
  const emptyQueue = root.querySelector(".queue .empty");
  const panes = root.querySelector(".panes");
  const emptyPanes = root.querySelector(".sessions .empty");
  const announcer = root.querySelector(".announcer");
  const title = new TitleCounter(document, t("consoleTitle"));

  const client = pageClient(options, options.role ?? "agent", "Agent console");
  const open = new Map(); // session id → Pane
  const waiting = new Map(); // session id → queue entry, as listed or pushed
  const left = new Set(); // sessions that left the queue: they never come back, whatever arrives late
  const listings = new Set(); // per list in flight, the pushes that arrived meanwhile (applied on top of it)
  const queueItems = new Map(); // session id → its <li>
  let active = null;
  let hasConnected = false;
  const visible = () => document.visibilityState === "visible";
  const announce = (text) => { announcer.textContent = text; };
  const updateTitle = () => title.set([...open.values()].reduce((sum, pane) => sum + pane.unread, 0));
  const refreshEmpty = () => { emptyPanes.hidden = open.size > 0; };

  class Pane {
    constructor(session) {
      this.session = session;
      this.unread = 0;
      this.lastPeerSequence = 0;
      this.readUpTo = 0;
      const id = session.session_id;
      this.root = element("article", { class: "pane", "data-session": id, "aria-labelledby": `title-${id}` });
      const head = element("header", { class: "pane-head" });
      const heading = element("h2", { id: `title-${id}` }, t("sessionOf", { user: session.user_id }));
      this.badge = element("span", { class: "badge", hidden: "" });
      this.presence = element("span", { class: "presence", role: "status" });
      head.append(heading, this.badge, this.presence);
      const tools = element("div", { class: "tools" });
      const transferId = `transfer-${id}`;
      this.transferInput = element("input", { id: transferId, inputmode: "numeric", pattern: "[0-9]*", size: "8" });
      this.transferButton = element("button", { type: "button", class: "secondary transfer" }, t("transfer"));
      this.closeButton = element("button", { type: "button", class: "secondary close" }, t("close"));
      tools.append(element("label", { for: transferId }, t("transferTo")), this.transferInput,
        this.transferButton, this.closeButton);
      this.error = element("p", { class: "error", role: "alert" });
      this.view = new ConversationView({
        t, userId, seat: "agent",
        onSend: (text) => this.view.addPending(client.sendMessage(id, text, { role: "agent" }).message),
        onTyping: (typing) => client.typing(id, typing),
      });
      this.root.append(head, tools, this.error, this.view.root);
      this.root.addEventListener("focusin", () => this.activate());
      this.root.addEventListener("click", () => this.activate());
      this.transferButton.addEventListener("click", () => this.transfer());
      this.closeButton.addEventListener("click", () => this.close());
    }

    activate() {
      active = this;
      this.markRead();
    }

    markRead() {
      if (active !== this || !visible()) return;
      this.unread = 0;
      this.#showUnread();
      if (this.lastPeerSequence > this.readUpTo) {
        this.readUpTo = this.lastPeerSequence;
        client.markRead(this.session.session_id, this.readUpTo).catch(() => { this.readUpTo = 0; });
      }
    }

    shown(message, fromHistory = false) {
      if (this.view.isMine(message)) return;
      if (!fromHistory || message.status === "sent") client.rendered(message);
      this.lastPeerSequence = Math.max(this.lastPeerSequence, message.sequence_number);
      if (!fromHistory && message.from === "user" && !(active === this && visible())) {
        this.unread += 1;
        this.#showUnread();
      }
      this.markRead();
    }

    closed() {
      this.view.note(t("chatClosed"));
      this.view.setEnabled(false);
      this.transferButton.disabled = true;
      this.closeButton.textContent = t("dismiss");
      this.closeButton.classList.replace("close", "dismiss");
      this.session = { ...this.session, status: "closed" };
    }

    async transfer() {
      const target = this.transferInput.value.trim();
      if (!target) return;
      try {
        await client.transferSession(this.session.session_id, target);
        removePane(this.session.session_id);
        announce(t("transferredAway", { session: this.session.session_id, agent: target }));
      } catch (error) {
        this.error.textContent = t("error", { message: error.message });
      }
    }

    async close() {
      if (this.session.status === "closed") {
        removePane(this.session.session_id);
        return;
      }
      try {
        await client.closeSession(this.session.session_id);
        this.closed();
      } catch (error) {
        this.error.textContent = t("error", { message: error.message });
      }
    }

    #showUnread() {
      this.badge.hidden = this.unread === 0;
      this.badge.textContent = `${this.unread} ${t("unread")}`;
      updateTitle();
    }
  }

  async function openPane(session) {
    if (open.has(session.session_id)) return open.get(session.session_id);
    const pane = new Pane(session);
    open.set(session.session_id, pane);
    panes.append(pane.root);
    refreshEmpty();
    await loadHistory(client, session.session_id, pane.view, (message, fromHistory) => pane.shown(message, fromHistory));
    for (const outgoing of await client.pendingMessages()) {
      if (outgoing.session_id === session.session_id) pane.view.addPending(outgoing);
    }
    if (session.status === "closed") pane.closed();
    return pane;
  }

  function removePane(sessionId) {
    const pane = open.get(sessionId);
    if (!pane) return;
    pane.root.remove();
    open.delete(sessionId);
    if (active === pane) active = null;
    refreshEmpty();
    updateTitle();
  }

  async function take(sessionId) {
    try {
      const session = await client.joinSession(sessionId);
      const pane = await openPane(session);
      pane.view.input.focus();
    } catch (error) {
      announce(t("error", { message: error.message })); // taken by someone else: its push clears it
    }
  }

  /** One queue change: `waiting` adds the session, `taken` / `closed` remove it for good. */
  function applyQueue(update) {
    const id = update.session_id;
    if (update.reason === "waiting") {
      if (!left.has(id)) waiting.set(id, update);
    } else {
      left.add(id);
      waiting.delete(id);
    }
  }

  /** The list on screen follows `waiting`, changing only what changed (a focused button stays focused). */
  function renderQueue() {
    for (const [id, li] of queueItems) {
      if (waiting.has(id)) continue;
      li.remove();
      queueItems.delete(id);
    }
    for (const [id, session] of waiting) {
      if (queueItems.has(id)) continue;
      const li = element("li", { "data-session": id });
      li.append(element("span", {}, t("sessionOf", { user: session.user_id })));
      const button = element("button", { type: "button", class: "take" }, t("take"));
      button.setAttribute("aria-label", `${t("take")}: ${t("sessionOf", { user: session.user_id })}`);
      button.addEventListener("click", () => take(id));
      li.append(button);
      queueItems.set(id, li);
      queue.append(li);
    }
    emptyQueue.hidden = waiting.size > 0;
  }

  /** The whole waiting queue, listed (every page); the pushes that arrived while it was listed go on top, as
   *  the list may have been read before they happened. */
  async function listQueue() {
    if (client.status !== "connected") return;
    const arrived = [];
    listings.add(arrived);
    try {
      const sessions = [];
      let cursor;
      for (;;) {
        const page = await client.listSessions({ scope: "waiting", cursor, limit: 100 });
        sessions.push(...page.sessions);
        if (!page.has_more) break;
        cursor = page.next_cursor;
      }
      waiting.clear();
      for (const session of sessions) applyQueue({ ...session, reason: "waiting" });
      for (const update of arrived) applyQueue(update);
      renderQueue();
    } catch (error) {
      // A dropped link lists again when it is back; a transient refusal on a live one (rate limit) is retried.
      if (error.transient) setTimeout(listQueue, QUEUE_RETRY_MS);
    } finally {
      listings.delete(arrived);
    }
  }

  async function openMine() {
    let cursor;
    for (;;) {
      const page = await client.listSessions({ scope: "mine", status: "open", cursor, limit: 100 });
      for (const session of page.sessions) await openPane(session);
      if (!page.has_more) break;
      cursor = page.next_cursor;
    }
  }

  client.on("status", (status) => {
    if (status === "connected") hasConnected = true;
    const text = status === "reconnecting" || (status === "connecting" && hasConnected) ? t("reconnecting")
      : status === "connecting" ? t("connecting") : status === "disconnected" ? t("disconnected") : "";
    banner.textContent = text;
    banner.hidden = !text;
    if (status !== "connected") for (const pane of open.values()) pane.view.typing(false, "");
  });
  client.on("message", (message) => {
    const pane = open.get(message.session_id);
    if (pane && pane.view.addMessage(message)) pane.shown(message);
  });
  client.on("messageSent", (outgoing, ack) => open.get(outgoing.session_id)?.view.sent(outgoing, ack));
  client.on("messageStatus", (status) => open.get(status.session_id)?.view.status(status));
  client.on("sendFailed", (outgoing) => open.get(outgoing.session_id)?.view.failed(outgoing));
  client.on("typing", (typing) => {
    if (typing.user_id !== userId) open.get(typing.session_id)?.view.typing(typing.is_typing, t("customerTyping"));
  });
  client.on("presence", (event) => {
    const pane = open.get(event.session_id);
    if (pane && event.user_id !== userId) {
      pane.presence.dataset.online = String(event.online);
      pane.presence.textContent = event.online ? t("customerOnline") : t("customerOffline");
    }
  });
  client.on("sessionUpdated", (update) => {
    const pane = open.get(update.session_id);
    if (update.status === "closed") {
      pane?.closed();
      if (pane) announce(t("sessionClosed", { session: update.session_id }));
    } else if (Number(update.agent_id) === userId) {
      openPane(update).catch((error) => announce(t("error", { message: error.message })));
    } else if (pane) {
      removePane(update.session_id);
      announce(t("transferredAway", { session: update.session_id, agent: update.agent_id }));
    }
  });
  client.on("queueUpdated", (update) => {
    for (const arrived of listings) arrived.push(update);
    applyQueue(update);
    renderQueue();
  });
  client.on("connected", () => { listQueue(); });
  document.addEventListener("visibilitychange", () => active?.markRead());

  await client.connect(); // "connected" lists the queue
  await openMine();
  return client;
}

function layout() {
  const box = element("div", { class: "console" });
  box.innerHTML = `
    <header class="bar">
      <h1 data-i18n="consoleTitle"></h1>
      <p class="announcer" role="status" aria-live="polite"></p>
    </header>
    <p class="banner" role="status" aria-live="assertive" hidden></p>
    <div class="console-main">
      <aside class="queue" aria-labelledby="queue-title">
        <h2 id="queue-title" data-i18n="waitingQueue"></h2>
        <p class="empty" data-i18n="noWaiting"></p>
        <ul></ul>
      </aside>
      <main class="sessions" aria-labelledby="sessions-title">
        <h2 id="sessions-title" data-i18n="mySessions"></h2>
        <p class="empty" data-i18n="noSessions"></p>
        <div class="panes"></div>
      </main>
    </div>`;
  return box;
}
