import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

test('crash loop backoff: 10s doubling to 300s, forgotten after twice the maximum', () => {
  let now = 1_000_000;
  const b = new Backoff(10_000, 300_000, { now: () => now });
  // First failure: not in backoff, the container restarts at once and the delay becomes 10s.
  assert.equal(b.isInBackOffSince('k', now), false);
  b.next('k', now);
  assert.equal(b.get('k'), 10_000);
  const exit2 = now + 1000;
  now = exit2 + 5000;
  assert.equal(b.isInBackOffSince('k', exit2), true);
  now = exit2 + 10_001;
  assert.equal(b.isInBackOffSince('k', exit2), false);
  b.next('k', exit2);
  assert.equal(b.get('k'), 20_000);
  for (let i = 0; i < 10; i++) b.next('k', now);
  assert.equal(b.get('k'), 300_000);
  // Ten minutes and more without an event resets it.
  now += 600_001;
  b.next('k', now + 1);
  assert.equal(b.get('k'), 10_000);
});
