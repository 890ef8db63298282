import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slowStartBatch } from './replica-set.js';

test('slow start creates in batches of 1, 2, 4, … and stops after the first failing batch', async () => {
  let calls = 0;
  const ok = await slowStartBatch(10, 1, async () => {
    calls++;
  });
  assert.deepEqual(ok, { successes: 10 });
  assert.equal(calls, 10);

  calls = 0;
  const r = await slowStartBatch(20, 1, async () => {
    const n = ++calls;
    await Promise.resolve();
    if (n === 5) throw new Error('quota exceeded');
  });
  // Batches 1, 2 succeed (3 calls); the batch of 4 has the failure; nothing after it runs.
  assert.equal(calls, 7);
  assert.equal(r.successes, 6);
  assert.match(String(r.error), /quota exceeded/);
});
