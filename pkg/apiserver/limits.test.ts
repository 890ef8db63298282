import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InflightLimiter, isLongRunning } from './limits.js';
import { StatusError } from '../api/errors.js';

const q = (s = '') => new URLSearchParams(s);

test('reads and writes have separate limits; the overflow gets 429 with Retry-After 1', () => {
  const l = new InflightLimiter({ maxRequestsInflight: 2, maxMutatingRequestsInflight: 1 });
  const r1 = l.acquire('GET', '/api/v1/pods', q());
  l.acquire('GET', '/api/v1/pods', q());
  assert.throws(() => l.acquire('GET', '/api/v1/pods', q()), (e: unknown) => e instanceof StatusError && e.code === 429 && e.status.details?.retryAfterSeconds === 1);
  const w1 = l.acquire('POST', '/api/v1/namespaces/a/pods', q());
  assert.throws(() => l.acquire('DELETE', '/api/v1/namespaces/a/pods/x', q()), (e: unknown) => e instanceof StatusError && e.code === 429);
  r1();
  r1(); // releasing twice is harmless
  l.acquire('GET', '/api/v1/pods', q());
  w1();
  l.acquire('PATCH', '/api/v1/namespaces/a/pods/x', q());
  assert.deepEqual(l.inflight(), { readOnly: 2, mutating: 1 });
});

test('watches, exec and system:masters are not limited', () => {
  const l = new InflightLimiter({ maxRequestsInflight: 1, maxMutatingRequestsInflight: 1 });
  l.acquire('GET', '/api/v1/pods', q());
  l.acquire('GET', '/api/v1/pods', q('watch=true'));
  l.acquire('GET', '/api/v1/pods', q(), { username: 'admin', groups: ['system:masters'] });
  assert.ok(isLongRunning('POST', '/api/v1/namespaces/a/pods/p/exec', q()));
  assert.ok(isLongRunning('GET', '/api/v1/watch/namespaces/a/pods', q()));
  assert.ok(isLongRunning('GET', '/api/v1/namespaces/a/pods/p/log', q('follow=true')));
  assert.ok(!isLongRunning('GET', '/api/v1/namespaces/a/pods/p/log', q()));
});
