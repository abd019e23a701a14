/**
 * Ticks only move forward. Delivered receipts are batched on the server and read ones are not, so a message's
 * `read` can reach the sender before its `delivered`; a UI drawing each event would show read, then delivered.
 * This keeps the highest status per message (sent < delivered < read) and drops anything that is not a step
 * forward, repeats included. `failed` is believed only over `sent`: a message someone received did not fail.
 * Bounded: the oldest messages are forgotten first.
 */

const RANK = { sent: 0, failed: 0, delivered: 1, read: 2 };

export class StatusFilter {
  constructor(maxMessages = 20_000) {
    this.maxMessages = maxMessages;
    /** @type {Map<number, string>} insertion order = age */
    this._highest = new Map();
  }

  /** Whether to pass this status on; remembers it if so. Unknown shapes pass untouched. */
  accept(event) {
    const id = event?.message_id;
    const status = event?.status;
    if (id === undefined || id === null || !(status in RANK)) return true;
    const current = this._highest.get(id);
    if (current !== undefined && !forward(current, status)) return false;
    this._highest.delete(id);
    this._highest.set(id, status);
    if (this._highest.size > this.maxMessages) this._highest.delete(this._highest.keys().next().value);
    return true;
  }
}

function forward(current, status) {
  if (status === "failed") return current === "sent";
  return RANK[status] > RANK[current];
}
