/**
 * Typing, both ways. Outgoing: a keystroke handler may call `typing(session, true)` on every key; `true` goes
 * out at most once per `throttle` per session (the peer's indicator is kept alive by those refreshes), and
 * `false` goes at once, only if `true` was the last state sent. Incoming: a peer's `is_typing: true` lights the
 * indicator until `false` comes or nothing refreshed it for `timeout` — a peer whose page closed mid-word must
 * not type forever.
 */

export class TypingSender {
  /**
   * @param {{send: (sessionId: string, isTyping: boolean) => void, throttle: () => number, clock?: () => number}} parts
   */
  constructor({ send, throttle, clock = Date.now }) {
    this._send = send;
    this._throttle = throttle;
    this._clock = clock;
    /** @type {Map<string, number>} session → when `true` was last sent */
    this._typingSince = new Map();
  }

  typing(sessionId, isTyping) {
    const last = this._typingSince.get(sessionId);
    if (isTyping) {
      if (last !== undefined && this._clock() - last < this._throttle()) return;
      this._typingSince.set(sessionId, this._clock());
      this._send(sessionId, true);
    } else if (last !== undefined) {
      this._typingSince.delete(sessionId);
      this._send(sessionId, false);
    }
  }
}

export class TypingWatcher {
  /**
   * @param {{emit: (event: object) => void, timeout: () => number}} parts
   */
  constructor({ emit, timeout }) {
    this._emit = emit;
    this._timeout = timeout;
    /** @type {Map<string, ReturnType<typeof setTimeout>>} "session user" → its expiry */
    this._timers = new Map();
  }

  receive(event) {
    const key = `${event.session_id} ${event.user_id}`;
    clearTimeout(this._timers.get(key));
    this._timers.delete(key);
    if (event.is_typing) {
      this._timers.set(key, setTimeout(() => {
        this._timers.delete(key);
        this._emit({ session_id: event.session_id, user_id: event.user_id, is_typing: false, expired: true });
      }, this._timeout()));
    }
    this._emit(event);
  }

  close() {
    for (const timer of this._timers.values()) clearTimeout(timer);
    this._timers.clear();
  }
}
