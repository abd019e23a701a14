/**
 * Delivered receipts. "Delivered" means shown, so a receipt is queued only when the app says it rendered the
 * message; receipts of a burst (an offline backlog after a reconnect) go out together after a short delay, as one
 * `message_ids` call of up to 500. A receipt the server did not acknowledge (an outage, a dropped link) is kept
 * and sent again — after a short delay, or at once on the next link — until it is; beyond `maxPending` the
 * oldest are left to the server's next push.
 */
import { RetryDelay } from "./backoff.js";

const BATCH = 500;

export class DeliveredReceipts {
  /**
   * @param {{request: (event: string, payload: object) => Promise<object>, delay: () => number,
   *          random: () => number, maxPending?: number}} parts
   */
  constructor({ request, delay, random, maxPending = 10_000 }) {
    this._request = request;
    this._delay = delay;
    this._retry = new RetryDelay({ random });
    this._maxPending = maxPending;
    /** @type {Set<number>} */
    this.pending = new Set();
    this._timer = null;
    this._flushing = false;
    this._closed = false;
  }

  add(messageId) {
    this.pending.add(messageId);
    if (this.pending.size > this._maxPending) this.pending.delete(this.pending.values().next().value);
    this._schedule(this._delay());
  }

  /** A new link: what is pending goes now. */
  resume() {
    this._retry.reset();
    if (this.pending.size) this._schedule(0);
  }

  close() {
    this._closed = true;
    clearTimeout(this._timer);
  }

  _schedule(ms) {
    if (this._timer !== null || this._flushing || this._closed) return;
    this._timer = setTimeout(() => {
      this._timer = null;
      this._flush();
    }, ms);
  }

  async _flush() {
    const ids = [...this.pending].slice(0, BATCH);
    if (!ids.length) return;
    this._flushing = true;
    let retryIn = 0;
    try {
      await this._request("message_delivered", { message_ids: ids });
      for (const id of ids) this.pending.delete(id);
      this._retry.reset();
    } catch (err) {
      if (!err.transient) for (const id of ids) this.pending.delete(id); // refused for good: not ours to retry
      else if (err.code === "NOT_CONNECTED" || err.code === "CLOSED") retryIn = null; // resume() on the next link
      else retryIn = this._retry.nextDelay();
    } finally {
      this._flushing = false;
    }
    if (this.pending.size && retryIn !== null) this._schedule(retryIn);
  }
}
