// One conversation on screen, for the widget (one) and the console (one per session, side by side): the
// messages in session order, each exactly once; ticks on this user's own messages that only move forward;
// the peer's typing bubble; a composer. It draws; the page wires it to the SDK client.

import { element } from "/shared/page.js";

const TICK_RANK = { pending: 0, sent: 1, delivered: 2, read: 3 };
const TICK_GLYPH = { pending: "○", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" };
let composerIds = 0;

export class ConversationView {
  /**
   * @param {object} o
   * @param {(key: string, values?: object) => string} o.t translator
   * @param {string|number} o.userId this user
   * @param {"user"|"agent"} o.seat the side of the session this user sits on
   * @param {(text: string) => void} o.onSend the composer's submit
   * @param {(typing: boolean) => void} o.onTyping the composer's typing state
   */
  constructor({ t, userId, seat, onSend, onTyping }) {
    this.t = t;
    this.userId = Number(userId);
    this.seat = seat;
    this.byKey = new Map(); // "id:<message id>" and "c:<client_msg_id>" → the message's <li>
    // Ticks of ids not on screen yet: a fast peer's receipt can overtake the ack that tells us the id.
    this.early = new Map();
    this.root = element("section", { class: "conversation" });
    this.list = element("ol", { class: "messages", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": t("messages"), tabindex: "0" });
    this.typingLine = element("p", { class: "typing", hidden: "", "aria-live": "polite" });
    const id = `composer-${++composerIds}`;
    this.form = element("form", { class: "composer" });
    const label = element("label", { for: id, class: "visually-hidden" }, t("messageLabel"));
    this.input = element("textarea", { id, rows: "1", maxlength: "5000", autocomplete: "off" });
    this.sendButton = element("button", { type: "submit" }, t("send"));
    this.form.append(label, this.input, this.sendButton);
    this.root.append(this.list, this.typingLine, this.form);

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text || this.form.getAttribute("aria-disabled") === "true") return;
      this.input.value = "";
      onTyping(false);
      onSend(text);
    });
    this.input.addEventListener("keydown", (event) => { // Enter sends, Shift+Enter is a new line
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.input.addEventListener("input", () => onTyping(this.input.value.length > 0));
    this.input.addEventListener("blur", () => onTyping(false));
  }

  /** Whether a message (pushed or from history) is this user's own: by seat and id, as the server decides. */
  isMine(message) {
    return message.from === this.seat && Number(message.from_user_id) === this.userId;
  }

  /** Show a message once (a repeat, or the echo of one of ours, only updates it). Returns true when new. */
  addMessage(message) {
    const existing = this.byKey.get(`id:${message.id}`)
      ?? (message.client_msg_id && this.isMine(message) ? this.byKey.get(`c:${message.client_msg_id}`) : undefined);
    if (existing) {
      this.#identify(existing, message.id, message.sequence_number);
      if (this.isMine(message)) this.#tick(existing, message.status);
      return false;
    }
    const mine = this.isMine(message);
    const li = this.#bubble(message.text, mine ? "mine" : message.from === "system" ? "system" : "theirs",
      message.time);
    if (mine && message.client_msg_id) this.byKey.set(`c:${message.client_msg_id}`, li);
    this.#identify(li, message.id, message.sequence_number);
    if (mine) this.#tick(li, message.status === "failed" ? "sent" : message.status);
    this.#insertInOrder(li);
    return true;
  }

  /** One of ours, queued (or left unsent by an earlier page): shown at once with a pending tick. */
  addPending(outgoing) {
    if (this.byKey.has(`c:${outgoing.client_msg_id}`)) return;
    const li = this.#bubble(outgoing.message, "mine", "");
    this.byKey.set(`c:${outgoing.client_msg_id}`, li);
    this.#tick(li, "pending");
    this.list.append(li);
    this.#scroll();
  }

  /** The server stored one of ours. */
  sent(outgoing, ack) {
    const li = this.byKey.get(`c:${outgoing.client_msg_id}`);
    if (!li) return;
    this.#identify(li, ack.message_id, ack.sequence_number);
    li.querySelector(".time").textContent = ack.time ?? "";
    this.#tick(li, "sent");
    li.remove();
    this.#insertInOrder(li);
  }

  /** A tick from the server (delivered, read) or the SDK (sent, failed). */
  status(event) {
    const li = this.byKey.get(`id:${event.message_id}`)
      ?? (event.client_msg_id ? this.byKey.get(`c:${event.client_msg_id}`) : undefined);
    if (li) this.#tick(li, event.status);
    else if (TICK_RANK[event.status] > (TICK_RANK[this.early.get(event.message_id)] ?? -1)) {
      this.early.set(event.message_id, event.status);
    }
  }

  failed(outgoing) {
    const li = this.byKey.get(`c:${outgoing.client_msg_id}`);
    if (li) this.#tick(li, "failed");
  }

  typing(isTyping, text) {
    this.typingLine.textContent = text;
    this.typingLine.hidden = !isTyping;
  }

  note(text) {
    this.list.append(this.#bubble(text, "system", ""));
    this.#scroll();
  }

  setEnabled(enabled) {
    this.form.setAttribute("aria-disabled", String(!enabled));
    this.input.disabled = !enabled;
    this.sendButton.disabled = !enabled;
  }

  /** The highest sequence number shown (0 when none). */
  lastSequence() {
    let last = 0;
    for (const li of this.list.querySelectorAll("[data-seq]")) last = Math.max(last, Number(li.dataset.seq));
    return last;
  }

  #bubble(text, kind, time) {
    const li = element("li", { class: `message ${kind}` });
    li.append(element("span", { class: "text" }, text));
    const meta = element("span", { class: "meta" });
    meta.append(element("span", { class: "time" }, time ?? ""));
    li.append(meta);
    return li;
  }

  #identify(li, id, sequence) {
    if (id === undefined || id === null) return;
    li.dataset.id = String(id);
    if (sequence) li.dataset.seq = String(sequence);
    this.byKey.set(`id:${id}`, li);
    const early = this.early.get(id);
    if (early) {
      this.early.delete(id);
      this.#tick(li, early);
    }
  }

  #tick(li, status) {
    if (!(status in TICK_RANK) && status !== "failed") return;
    let tick = li.querySelector(".tick");
    if (!tick) {
      tick = element("span", { class: "tick" });
      li.querySelector(".meta").append(tick);
    }
    const current = tick.dataset.status;
    if (current && status !== "failed" && current !== "failed" && TICK_RANK[status] <= TICK_RANK[current]) return;
    if (status === "failed" && current && current !== "pending") return; // stored already: it was sent
    tick.dataset.status = status;
    tick.textContent = TICK_GLYPH[status];
    tick.setAttribute("aria-label", this.t(status));
    tick.title = this.t(status);
    li.dataset.status = status;
  }

  #insertInOrder(li) {
    const seq = Number(li.dataset.seq);
    const after = [...this.list.children].find((other) => other.dataset.seq && Number(other.dataset.seq) > seq);
    if (after) this.list.insertBefore(li, after);
    else {
      const firstPending = [...this.list.children].find((other) => other.dataset.status === "pending");
      this.list.insertBefore(li, firstPending ?? null);
    }
    this.#scroll();
  }

  #scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
