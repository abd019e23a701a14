// Small helpers both pages use: the layout in the chosen language, the SDK client (this browser as one device
// of the user), DOM building, the unread count in the tab title, the standalone pages' options from the URL,
// and a session's history.

import { SwitchboardClient } from "@switchboard/client";

import { pickLanguage, translatePage, translator } from "/shared/i18n.js";
import { resolveTokenProvider } from "/shared/token.js";

export function element(tag, attributes = {}, text) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

/** One device id per user and browser, kept in localStorage: a reload is the same device (same outbox). */
export function storedDeviceId(userId) {
  const key = `switchboard-device-${userId}`;
  let id = localStorage.getItem(key);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem(key, id);
  }
  return id;
}

/** "(3) Title" while messages arrive unseen; back to "Title" when the page is looked at. */
export class TitleCounter {
  constructor(doc, base) {
    this.doc = doc;
    this.base = base;
    this.count = 0;
    this.#show();
  }

  increment(by = 1) {
    this.count += by;
    this.#show();
  }

  set(count) {
    this.count = count;
    this.#show();
  }

  reset() {
    this.set(0);
  }

  #show() {
    this.doc.title = this.count > 0 ? `(${this.count}) ${this.base}` : this.base;
  }
}

/**
 * A standalone page's options from its URL: `?user=123&edges=http://a:8000,http://b:8001&lang=zh&role=agent`.
 * Without `user`, a development user id is made once and kept in localStorage; without `edges`, this page's
 * own origin. No `tokenProvider`: a standalone page uses the development token endpoint.
 */
export function optionsFromUrl(defaultRole, storageKey) {
  const query = new URLSearchParams(location.search);
  let userId = query.get("user");
  if (!userId) {
    userId = localStorage.getItem(storageKey);
    if (!userId) {
      userId = String(1_000_000 + Math.floor(Math.random() * 1_000_000_000));
      localStorage.setItem(storageKey, userId);
    }
  }
  const edges = (query.get("edges") ?? location.origin).split(",").map((url) => url.trim()).filter(Boolean);
  return { userId: Number(userId), urls: edges, lang: query.get("lang") ?? undefined,
    role: query.get("role") ?? defaultRole };
}

/**
 * Show every message of a session, oldest first, then track it from the last one, so live messages continue
 * in order. `onShown(message, fromHistory)` lets the page send receipts.
 */
export async function loadHistory(client, sessionId, view, onShown) {
  let after = 0;
  for (;;) {
    const page = await client.sync(sessionId, after, 200);
    for (const message of page.messages) {
      view.addMessage(message);
      onShown(message, true);
      after = Math.max(after, message.sequence_number);
    }
    if (!page.has_more || page.messages.length === 0) break;
  }
  client.trackSession(sessionId, after);
}

// What every page does first: its layout in the chosen language (the page's option, else the browser's).
export function mountLayout(root, options, layout) {
  const lang = pickLanguage(options.lang);
  const t = translator(lang);
  root.replaceChildren(layout());
  translatePage(document, t, lang);
  return t;
}

// The SDK client a page talks through: the edges it was given, tokens from the page's provider, and this
// browser as one device of the user (its id kept in localStorage, so a reload is the same device).
export function pageClient(options, role, deviceName) {
  const userId = Number(options.userId);
  return new SwitchboardClient({
    urls: options.urls,
    userId,
    tokenProvider: resolveTokenProvider(options, role),
    deviceId: options.deviceId ?? storedDeviceId(userId),
    deviceInfo: { device_name: deviceName, device_type: "web", browser: navigator.userAgent.slice(0, 64) },
  });
}
