/**
 * The incoming path: every pushed or synced message is deduped and handed to the app once, in per-session
 * order. A hole in a session's sequence is waited for briefly (the late push usually comes), then filled with
 * `sync`, or skipped when the server cannot fill it either, so one lost message never stalls a session. After
 * every (re)connect each known session is synced from its watermark: the server pushes again only what no
 * device of the user acknowledged, so what another device took meanwhile (and a session's last messages, which
 * no later message reveals as missing) comes back only this way. Watermarks are kept in the store, so a
 * reloaded page catches up from where the last one stopped.
 */
import { RetryDelay, sleep } from "./backoff.js";

const SYNC_LIMIT = 200;

export class Incoming {
  /**
   * @param {{tracker: import("./tracker.js").SequenceTracker, store: object, userId: string,
   *          request: (event: string, payload: object) => Promise<any>,
   *          deliver: (message: object) => void, isOwnPending: (clientMsgId: string) => boolean,
   *          rerender: (messageId: number) => void, gapTimeout: () => number, random: () => number,
   *          error: (err: Error) => void}} parts
   */
  constructor(parts) {
    this._p = parts;
    this._tracker = parts.tracker;
    this._retry = new RetryDelay({ random: parts.random });
    this._gapFills = new Set();
    this._gapTimers = new Set();
    this._catchingUp = null;
    this._dirty = new Set();
    this._closed = false;
  }

  /** What an earlier page handled: per session the last sequence. */
  restore(watermarks) {
    for (const [sessionId, last] of Object.entries(watermarks)) this.baseline(sessionId, last);
  }

  /** Everything up to `lastSequence` of this session is history the app has (or fetches with sync). */
  baseline(sessionId, lastSequence) {
    this._hand(sessionId, this._tracker.baseline(String(sessionId), Number(lastSequence)));
  }

  /** One `new_message`, live, offline or synced. */
  receive(msg) {
    if (!msg || typeof msg !== "object") return;
    const own = msg.client_msg_id && String(msg.from_user_id) === this._p.userId && this._p.isOwnPending(msg.client_msg_id);
    if (own) {
      // Ours, stored, its ack lost: the resend will be answered as a duplicate; the app already shows it.
      this.ownSent(msg.session_id, msg.id, msg.sequence_number);
      return;
    }
    const verdict = this._tracker.receive(msg);
    if (verdict.duplicate) this._p.rerender(msg.id);
    this._hand(msg.session_id, verdict.deliver);
    if (verdict.gap) this._scheduleGapFill(msg.session_id);
  }

  /** Our own message was stored as `seq`: it takes its place in the session's order. */
  ownSent(sessionId, messageId, seq) {
    const verdict = this._tracker.ownSent(sessionId, messageId, seq);
    this._hand(sessionId, verdict.deliver);
    this._saveWatermark(sessionId);
    if (verdict.gap) this._scheduleGapFill(sessionId);
  }

  /** After a (re)connect: fill the holes the last link left, and catch up on every known session. */
  linkUp() {
    for (const sessionId of this._tracker.gaps()) this._scheduleGapFill(sessionId);
    this._catchingUp ??= this._catchUp().finally(() => { this._catchingUp = null; });
  }

  close() {
    this._closed = true;
    for (const timer of this._gapTimers) clearTimeout(timer);
  }

  _hand(sessionId, messages) {
    for (const msg of messages) this._p.deliver(msg);
    if (messages.length) this._saveWatermark(sessionId);
  }

  /** Watermarks go to the store once per burst (a backlog of a hundred messages is one write per session). */
  _saveWatermark(sessionId) {
    this._dirty.add(sessionId);
    if (this._dirty.size > 1) return;
    queueMicrotask(() => {
      for (const id of this._dirty) {
        const last = this._tracker.last(id);
        if (last !== null) this._p.store.putWatermark(id, last).catch(this._p.error);
      }
      this._dirty.clear();
    });
  }

  async _catchUp() {
    for (const sessionId of this._tracker.known()) {
      while (!this._closed) {
        const after = this._tracker.last(sessionId);
        let reply;
        try {
          reply = await this._sync(sessionId, after);
        } catch (err) {
          if (err.transient) return; // the link went: the next one starts over
          break; // this session is refused (closed and purged, not ours any more): the next one
        }
        for (const msg of reply.messages || []) this.receive(msg);
        if (!reply.has_more || this._tracker.last(sessionId) === after) break;
      }
    }
  }

  _sync(sessionId, after) {
    return this._p.request("sync", { session_id: sessionId, after_sequence: after, limit: SYNC_LIMIT });
  }

  _scheduleGapFill(sessionId) {
    if (this._gapFills.has(sessionId) || this._closed) return;
    this._gapFills.add(sessionId);
    const timer = setTimeout(() => {
      this._gapTimers.delete(timer);
      this._fillGap(sessionId).finally(() => this._gapFills.delete(sessionId));
    }, this._p.gapTimeout());
    this._gapTimers.add(timer);
  }

  async _fillGap(sessionId) {
    while (this._tracker.hasGap(sessionId) && !this._closed) {
      const after = this._tracker.last(sessionId);
      let reply;
      try {
        reply = await this._sync(sessionId, after);
        this._retry.reset();
      } catch (err) {
        if (err.transient) {
          await sleep(this._retry.nextDelay()); // no link, or the backend is away: try again
          continue;
        }
        this._hand(sessionId, this._tracker.release(sessionId));
        return;
      }
      for (const msg of reply.messages || []) this.receive(msg);
      if (this._tracker.last(sessionId) === after && this._tracker.hasGap(sessionId)) {
        this._p.error(new Error(`sync could not fill the gap in session ${sessionId} after ${after}; skipped`));
        this._hand(sessionId, this._tracker.release(sessionId));
      }
    }
  }
}
