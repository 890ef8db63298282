import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../client/rest.js';
import { retryThrottled } from './client.js';

const throttled = (secs?: number) => new ApiError(429, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', code: 429, details: secs === undefined ? {} : { retryAfterSeconds: secs } }, 'Too many requests, please try again later.');

test('a 429 is retried after its Retry-After, as client-go does', async () => {
  const slept: number[] = [];
  let calls = 0;
  const v = await retryThrottled(
    async () => {
      calls++;
      if (calls < 3) throw throttled(calls === 1 ? 2 : undefined);
      return 'bound';
    },
    async (ms) => {
      slept.push(ms);
    },
  );
  assert.equal(v, 'bound');
  assert.equal(calls, 3);
  assert.deepEqual(slept, [2000, 1000], 'retryAfterSeconds, else 1s');
});

test('other errors are not retried, and throttling gives up after 10 retries', async () => {
  let calls = 0;
  await assert.rejects(
    retryThrottled(async () => {
      calls++;
      throw new ApiError(409, undefined, 'conflict');
    }, async () => {}),
    /conflict/,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    retryThrottled(async () => {
      calls++;
      throw throttled(1);
    }, async () => {}),
    (e: unknown) => e instanceof ApiError && e.code === 429,
  );
  assert.equal(calls, 11);
});
