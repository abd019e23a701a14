/**
 * Dedup and per-session order of incoming messages, pure.
 *
 * The server delivers at least once (offline pushes repeat until a device acknowledges; a live push can race a
 * `sync`), so messages are filtered by id. Each session's `sequence_number` is gap-free, so a message that
 * arrives ahead of its predecessor is held until the gap is filled (by the late push or by `sync`): the app
 * sees every session in order. The client's own messages never come back to the sending socket; their acks
 * occupy their slots (`ownSent`), or they would look like holes.
 */

import { BoundedSet } from "./bounded.js";

/** @typedef {{deliver: object[], duplicate: boolean, gap: boolean}} Verdict */

const verdict = (deliver = [], gap = false, duplicate = false) => ({ deliver, gap, duplicate });

export class SequenceTracker {
  constructor(maxSeen = 20_000) {
    this._seen = new BoundedSet(maxSeen);
    /** @type {Map<string, {last: number|null, held: Map<number, object|null>}>} null: our own message */
    this._sessions = new Map();
  }

  seen(id) {
    return id !== undefined && id !== null && this._seen.has(id);
  }

  _mark(id) {
    if (id !== undefined && id !== null) this._seen.add(id);
  }

  _state(sessionId) {
    let state = this._sessions.get(sessionId);
    if (!state) this._sessions.set(sessionId, (state = { last: null, held: new Map() }));
    return state;
  }

  last(sessionId) {
    return this._sessions.get(sessionId)?.last ?? null;
  }

  hasGap(sessionId) {
    return (this._sessions.get(sessionId)?.held.size ?? 0) > 0;
  }

  /** Sessions with a watermark: what a reconnect catches up on. */
  known() {
    return [...this._sessions].filter(([, s]) => s.last !== null).map(([id]) => id);
  }

  gaps() {
    return [...this._sessions].filter(([, s]) => s.held.size > 0).map(([id]) => id);
  }

  /** Everything up to `lastSequence` is history (a session just opened, joined, or shown from `sync`).
   *  A watermark only moves forward; messages held behind it are released. */
  baseline(sessionId, lastSequence) {
    const state = this._state(sessionId);
    if (state.last !== null && state.last >= lastSequence) return [];
    state.last = lastSequence;
    for (const seq of [...state.held.keys()]) if (seq <= lastSequence) state.held.delete(seq);
    return this._drain(state);
  }

  /** Judge one `new_message` (live, offline, or from `sync`). */
  receive(msg) {
    const { id, session_id: sessionId, sequence_number: seq } = msg;
    if (this.seen(id)) {
      const occupied = seq && sessionId ? this._occupy(sessionId, seq) : verdict();
      return { ...occupied, duplicate: true };
    }
    this._mark(id);
    if (!seq || !sessionId) return verdict([msg]);
    const state = this._state(sessionId);
    if (state.last === null) {
      // The first message of a session we know nothing about is its baseline; earlier ones are history.
      state.last = seq;
      return verdict([msg, ...this._drain(state)]);
    }
    // Behind the watermark but never seen here (a push from before a reload, or before a guessed baseline):
    // handed over late rather than lost.
    if (seq <= state.last) return verdict([msg]);
    if (seq === state.last + 1) {
      state.last = seq;
      return verdict([msg, ...this._drain(state)]);
    }
    state.held.set(seq, msg);
    return verdict([], true);
  }

  /** Our own message was stored as `seq`: it takes its slot without being handed to the app. */
  ownSent(sessionId, messageId, seq) {
    this._mark(messageId);
    return this._occupy(sessionId, seq);
  }

  _occupy(sessionId, seq) {
    const state = this._sessions.get(sessionId);
    if (!seq || !state || state.last === null || seq <= state.last) return verdict();
    if (seq === state.last + 1) {
      state.last = seq;
      return verdict(this._drain(state));
    }
    if (!state.held.has(seq)) state.held.set(seq, null);
    return verdict([], true);
  }

  /** Give up on a hole `sync` could not fill: hand the held messages over in order, skipping it. */
  release(sessionId) {
    const state = this._sessions.get(sessionId);
    if (!state || state.held.size === 0) return [];
    const seqs = [...state.held.keys()].sort((a, b) => a - b);
    const out = seqs.map((seq) => state.held.get(seq)).filter(Boolean);
    state.last = seqs[seqs.length - 1];
    state.held.clear();
    return out;
  }

  _drain(state) {
    const out = [];
    while (state.held.has(state.last + 1)) {
      state.last += 1;
      const msg = state.held.get(state.last);
      state.held.delete(state.last);
      if (msg) out.push(msg);
    }
    return out;
  }
}
