/**
 * Retry delays, pure (clock and random source injected) so the schedules are unit-testable without sleeping.
 *
 * `Backoff` spaces reconnect attempts with full jitter: each delay is uniform in [0, window], so a crowd of
 * browsers that lost the same edge does not return in lockstep. The window grows with the time spent failing,
 * `min(cap, max(base, ½ · failingFor))`, not with the attempt count: a page is back within about half the
 * outage once the server is, while a long outage still thins attempts out up to the cap. A link that drops
 * before it was stable does not end the failing period (a server accepting and dropping at once gets no storm).
 *
 * `RetryDelay` spaces retries of a request refused for now over a live link (UNAVAILABLE, RATE_LIMITED…):
 * short, doubling, drawn from the upper half of the window, capped, reset when the backend answers again.
 */

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Backoff {
  /**
   * @param {{base: number, cap: number, maxRetries?: number|null, stableAfter?: number,
   *          clock?: () => number, random?: () => number}} options  durations in ms
   */
  constructor({ base, cap, maxRetries = null, stableAfter, clock = Date.now, random = Math.random }) {
    this.base = base;
    this.cap = cap;
    this.maxRetries = maxRetries;
    this.stableAfter = stableAfter ?? Math.max(base, 10_000);
    this._clock = clock;
    this._random = random;
    this.attempt = 0;
    this._failingSince = null;
    this._connectedAt = null;
  }

  window() {
    const failingFor = this._failingSince === null ? 0 : this._clock() - this._failingSince;
    return Math.min(this.cap, Math.max(this.base, failingFor / 2));
  }

  /** The delay before the next attempt, or null when `maxRetries` attempts were spent. */
  nextDelay() {
    if (this.maxRetries !== null && this.attempt >= this.maxRetries) return null;
    if (this._failingSince === null) this._failingSince = this._clock();
    this.attempt += 1;
    return this._random() * this.window();
  }

  connected() {
    this._connectedAt = this._clock();
  }

  dropped() {
    if (this._connectedAt !== null && this._clock() - this._connectedAt >= this.stableAfter) this.reset();
    this._connectedAt = null;
  }

  reset() {
    this.attempt = 0;
    this._failingSince = null;
    this._connectedAt = null;
  }
}

export class RetryDelay {
  constructor({ cap = 2_000, first = 100, random = Math.random } = {}) {
    this.cap = cap;
    this.first = first;
    this._random = random;
    this.failures = 0;
  }

  nextDelay() {
    const window = Math.min(this.cap, this.first * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    return window * (0.5 + 0.5 * this._random());
  }

  reset() {
    this.failures = 0;
  }
}
