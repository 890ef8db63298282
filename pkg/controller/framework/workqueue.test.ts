import { test } from 'node:test';
import assert from 'node:assert/strict';
import client from 'prom-client';
import { FakeClock, settle } from './clock.js';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter } from './rate-limiter.js';
import { RateLimitingQueue } from './workqueue.js';
import { WorkqueueMetricsProvider } from './workqueue-metrics.js';

function newQueue(clock = new FakeClock(), registry?: client.Registry) {
  return new RateLimitingQueue<string>({
    name: 'test',
    clock,
    rateLimiter: defaultControllerRateLimiter(clock),
    metrics: registry ? new WorkqueueMetricsProvider(registry, clock) : undefined,
  });
}

test('queued keys are deduplicated and handed out in order', async () => {
  const q = newQueue();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
});

test('a key added while it is processed waits until done, and is never processed twice at once', async () => {
  const q = newQueue();
  q.add('a');
  const first = await q.get();
  assert.equal(first, 'a');
  q.add('a');
  assert.equal(q.len(), 0, 'not queued while processing');
  let second: string | undefined;
  void q.get().then((k) => (second = k));
  await settle();
  assert.equal(second, undefined, 'a second worker does not get the key being processed');
  q.done('a');
  await settle();
  assert.equal(second, 'a', 'requeued once done');
});

test('addAfter holds a key until its time; the earliest time wins', async () => {
  const clock = new FakeClock();
  const q = newQueue(clock);
  q.addAfter('a', 1000);
  q.addAfter('a', 500);
  q.addAfter('a', 2000);
  assert.equal(q.len(), 0);
  clock.step(499);
  assert.equal(q.len(), 0);
  clock.step(1);
  assert.equal(q.len(), 1);
  clock.step(5000);
  assert.equal(q.len(), 1, 'the later timers did not add it again');
});

test('addRateLimited backs off exponentially per key; forget resets it', () => {
  const clock = new FakeClock();
  const q = newQueue(clock);
  const delays: number[] = [];
  const limiter = new ItemExponentialFailureRateLimiter<string>(5, 1000 * 1000);
  for (let i = 0; i < 5; i++) delays.push(limiter.when('k'));
  assert.deepEqual(delays, [5, 10, 20, 40, 80]);
  assert.equal(limiter.numRequeues('k'), 5);
  limiter.forget('k');
  assert.equal(limiter.when('k'), 5);
  for (let i = 0; i < 40; i++) limiter.when('big');
  assert.equal(limiter.when('big'), 1000 * 1000, 'capped at 1000s');

  q.addRateLimited('x');
  assert.equal(q.numRequeues('x'), 1);
  clock.step(5);
  assert.equal(q.len(), 1);
  q.forget('x');
  assert.equal(q.numRequeues('x'), 0);
});

test('the token bucket allows a burst of 100, then 10 per second', () => {
  const clock = new FakeClock();
  const b = new BucketRateLimiter<string>(10, 100, clock);
  for (let i = 0; i < 100; i++) assert.equal(b.when(`k${i}`), 0);
  assert.equal(b.when('k100'), 100);
  assert.equal(b.when('k101'), 200);
  clock.step(1000);
  // 10 tokens came back and two were owed: the next reservation waits nothing more.
  assert.equal(b.when('k102'), 0);
  const max = new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(5, 1000), new BucketRateLimiter(10, 1, clock));
  assert.equal(max.when('a'), 5);
  assert.equal(max.when('b'), 100);
});

test('shutDown wakes waiting workers and refuses new keys; shutDownWithDrain waits for in-flight work', async () => {
  const q = newQueue();
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);
  q.add('a');
  assert.equal(q.len(), 0);

  const q2 = newQueue();
  q2.add('a');
  const k = await q2.get();
  let drained = false;
  const d = q2.shutDownWithDrain().then(() => (drained = true));
  await settle();
  assert.equal(drained, false);
  q2.done(k!);
  await d;
  assert.equal(drained, true);
});

test('workqueue metrics carry upstream names with the queue name label', async () => {
  const clock = new FakeClock();
  const registry = new client.Registry();
  const q = newQueue(clock, registry);
  q.add('a');
  q.add('b');
  q.addRateLimited('c');
  clock.step(2000);
  const k = await q.get();
  clock.step(3000);
  const text = await registry.metrics();
  assert.match(text, /workqueue_depth\{name="test"\} 2/);
  assert.match(text, /workqueue_adds_total\{name="test"\} 3/);
  assert.match(text, /workqueue_retries_total\{name="test"\} 1/);
  assert.match(text, /workqueue_queue_duration_seconds_count\{name="test"\} 1/);
  assert.match(text, /workqueue_unfinished_work_seconds\{name="test"\} 3/);
  assert.match(text, /workqueue_longest_running_processor_seconds\{name="test"\} 3/);
  q.done(k!);
  const after = await registry.metrics();
  assert.match(after, /workqueue_work_duration_seconds_count\{name="test"\} 1/);
  assert.match(after, /workqueue_work_duration_seconds_sum\{name="test"\} 3/);
  assert.match(after, /workqueue_unfinished_work_seconds\{name="test"\} 0/);
});
