import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InflightLimiter, isLongRunning, parseGoDuration, requestDeadlineMs, requestTimeoutError } from './limits.js';
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

test('Go durations parse as time.ParseDuration does, with its error messages', () => {
  assert.equal(parseGoDuration('1m0s'), 60_000);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('1h2m3s4ms'), 3_723_004);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('250us'), 0.25);
  assert.equal(parseGoDuration('-2s'), -2000);
  assert.throws(() => parseGoDuration('30'), { message: 'time: missing unit in duration "30"' });
  assert.throws(() => parseGoDuration('3x'), { message: 'time: unknown unit "x" in duration "3x"' });
  assert.throws(() => parseGoDuration('abc'), { message: 'time: invalid duration "abc"' });
  assert.throws(() => parseGoDuration(''), { message: 'time: invalid duration ""' });
});

test('the deadline is the server\'s --request-timeout, shortened but never lengthened by ?timeout=', () => {
  assert.equal(requestDeadlineMs('GET', '/api/v1/pods', q(), 60_000), 60_000);
  assert.equal(requestDeadlineMs('GET', '/api/v1/pods', q('timeout=5s'), 60_000), 5000);
  assert.equal(requestDeadlineMs('GET', '/api/v1/pods', q('timeout=10m'), 60_000), 60_000);
  assert.equal(requestDeadlineMs('GET', '/api/v1/pods', q('timeout=0s'), 60_000), 60_000);
  assert.equal(requestDeadlineMs('GET', '/api/v1/pods', q('watch=true&timeout=1ms'), 60_000), undefined);
  assert.equal(requestDeadlineMs('POST', '/api/v1/namespaces/a/pods/p/exec', q('timeout=1ms'), 60_000), undefined);
  assert.equal(requestDeadlineMs('GET', '/api/v1/namespaces/a/pods/p/log', q('follow=true'), 60_000), undefined);
  assert.throws(
    () => requestDeadlineMs('GET', '/api/v1/pods', q('timeout=abc'), 60_000),
    (e: unknown) => e instanceof StatusError && e.code === 400 && e.status.message === 'invalid timeout specified in the request URL - time: invalid duration "abc"',
  );
  const t = requestTimeoutError();
  assert.deepEqual(t.status, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Timeout: request did not complete within requested timeout - context deadline exceeded',
    reason: 'Timeout',
    details: {},
    code: 504,
  });
});
