import assert from "node:assert/strict";
import { test } from "node:test";

import { Backoff, RetryDelay } from "../src/backoff.js";

function clock(start = 0) {
  const c = { now: start, read: () => c.now };
  return c;
}

test("reconnect delays are full jitter over a window that grows with the time spent failing, capped", () => {
  const time = clock();
  let draw = 1;
  const backoff = new Backoff({ base: 1_000, cap: 30_000, clock: time.read, random: () => draw });
  assert.equal(backoff.nextDelay(), 1_000); // at first: the base window
  time.now = 10_000;
  assert.equal(backoff.nextDelay(), 5_000); // half the time spent failing
  time.now = 200_000;
  assert.equal(backoff.nextDelay(), 30_000); // capped
  draw = 0;
  assert.equal(backoff.nextDelay(), 0); // full jitter: anywhere down to zero
  draw = 0.25;
  assert.equal(backoff.nextDelay(), 7_500);
});

test("a link that stayed up ends the failing period; one that dropped at once does not", () => {
  const time = clock();
  const backoff = new Backoff({ base: 1_000, cap: 30_000, stableAfter: 10_000, clock: time.read, random: () => 1 });
  backoff.nextDelay();
  time.now = 20_000;
  backoff.connected();
  time.now = 20_500; // dropped after half a second: still failing since 0
  backoff.dropped();
  assert.equal(backoff.nextDelay(), 10_250);
  backoff.connected();
  time.now = 40_000; // stable for longer than stableAfter
  backoff.dropped();
  assert.equal(backoff.nextDelay(), 1_000);
});

test("maxRetries ends the attempts", () => {
  const backoff = new Backoff({ base: 10, cap: 10, maxRetries: 2, random: () => 0.5 });
  assert.equal(backoff.nextDelay(), 5);
  assert.equal(backoff.nextDelay(), 5);
  assert.equal(backoff.nextDelay(), null);
});

test("refused requests retry after short doubling delays from the upper half of the window, capped, reset", () => {
  const retry = new RetryDelay({ cap: 2_000, first: 100, random: () => 1 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => retry.nextDelay()), [100, 200, 400, 800, 1_600, 2_000]);
  retry.reset();
  const low = new RetryDelay({ cap: 2_000, first: 100, random: () => 0 });
  assert.equal(low.nextDelay(), 50);
  assert.equal(retry.nextDelay(), 100);
});
