import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Lease } from '../../api/types.js';
import { ApiError } from '../../client/rest.js';
import { FakeClock, settle } from './clock.js';
import { LeaderElector, LeaseLock, type LeaseClient } from './leader-election.js';

const logger = pino({ level: 'silent' });

/** An in-memory Lease store with resourceVersion compare-and-swap, like the apiserver's. */
class MemoryLeases implements LeaseClient {
  lease: Lease | undefined;
  rv = 0;
  failing = new Set<string>();

  async get(): Promise<Lease> {
    if (!this.lease) throw new ApiError(404, { reason: 'NotFound', code: 404 }, 'leases "x" not found');
    return structuredClone(this.lease);
  }

  async create(lease: Lease): Promise<Lease> {
    if (this.lease) throw new ApiError(409, { reason: 'AlreadyExists', code: 409 }, 'exists');
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }

  async update(lease: Lease): Promise<Lease> {
    const who = lease.spec?.holderIdentity ?? '';
    if (this.failing.has(who) || this.failing.has('*')) throw new Error('apiserver unreachable');
    if (!this.lease || lease.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) {
      throw new ApiError(409, { reason: 'Conflict', code: 409 }, 'conflict');
    }
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
}

interface Candidate {
  elector: LeaderElector;
  leading: boolean;
  stopped: boolean;
  abort: AbortController;
  done: Promise<void>;
}

function candidate(store: MemoryLeases, clock: FakeClock, id: string, releaseOnCancel = true): Candidate {
  const c = { leading: false, stopped: false, abort: new AbortController() } as Candidate;
  c.elector = new LeaderElector({
    lock: new LeaseLock(store, 'kube-system', 'kube-controller-manager', id),
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    logger,
    releaseOnCancel,
    random: () => 0,
    onStartedLeading: () => {
      c.leading = true;
    },
    onStoppedLeading: () => {
      c.leading = false;
      c.stopped = true;
    },
  });
  c.done = c.elector.run(c.abort.signal);
  return c;
}

/** Advances the fake clock in small steps, letting the electors' promises run in between. */
async function advance(clock: FakeClock, ms: number, stepMs = 500): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.step(Math.min(stepMs, ms - t));
    await settle(10);
  }
}

test('the first candidate creates the Lease and renews it every retry period', async () => {
  const clock = new FakeClock();
  const store = new MemoryLeases();
  const a = candidate(store, clock, 'host_a');
  await settle(10);
  assert.equal(a.leading, true);
  assert.equal(store.lease?.spec?.holderIdentity, 'host_a');
  assert.equal(store.lease?.spec?.leaseDurationSeconds, 15);
  assert.equal(store.lease?.spec?.leaseTransitions, 0);
  const firstRenew = store.lease!.spec!.renewTime;
  const acquired = store.lease!.spec!.acquireTime;
  assert.match(firstRenew!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'MicroTime');
  await advance(clock, 2_000);
  assert.notEqual(store.lease?.spec?.renewTime, firstRenew, 'renewed');
  assert.equal(store.lease?.spec?.acquireTime, acquired, 'a renewal keeps acquireTime');
  a.abort.abort();
  await a.done;
});

test('a second candidate waits while the leader renews, and takes over leaseDuration after renewals stop', async () => {
  const clock = new FakeClock();
  const store = new MemoryLeases();
  const a = candidate(store, clock, 'host_a', false);
  await settle(10);
  const b = candidate(store, clock, 'host_b');
  await advance(clock, 30_000);
  assert.equal(a.leading, true);
  assert.equal(b.leading, false, 'no second leader while the lease is renewed');
  assert.equal(store.lease?.spec?.holderIdentity, 'host_a');

  // host_a's apiserver connection breaks: it cannot renew.
  store.failing.add('host_a');
  // A renewal cycle starts a retry period after the last success and gives up renewDeadline later.
  await advance(clock, 12_000);
  assert.equal(a.stopped, true, 'the leader gives up after renewDeadline');
  assert.equal(b.leading, false, 'but the lease has not expired yet for the standby');
  await advance(clock, 10_000);
  assert.equal(b.leading, true, 'the standby takes over once leaseDuration passed without a change');
  assert.equal(store.lease?.spec?.holderIdentity, 'host_b');
  assert.equal(store.lease?.spec?.leaseTransitions, 1);
  b.abort.abort();
  await Promise.all([a.done, b.done]);
});

test('a clean stop releases the Lease so the standby takes over within a retry period', async () => {
  const clock = new FakeClock();
  const store = new MemoryLeases();
  const a = candidate(store, clock, 'host_a');
  await settle(10);
  const b = candidate(store, clock, 'host_b');
  await advance(clock, 4_000);
  assert.equal(b.leading, false);
  a.abort.abort();
  await a.done;
  assert.equal(store.lease?.spec?.holderIdentity, '');
  assert.equal(store.lease?.spec?.leaseDurationSeconds, 1);
  await advance(clock, 4_500);
  assert.equal(b.leading, true);
  assert.equal(store.lease?.spec?.holderIdentity, 'host_b');
  b.abort.abort();
  await b.done;
});

test('two candidates racing for a free lease: exactly one wins', async () => {
  const clock = new FakeClock();
  const store = new MemoryLeases();
  await store.create({ metadata: { namespace: 'kube-system', name: 'kube-controller-manager' }, spec: { holderIdentity: '', leaseDurationSeconds: 1 } });
  const cs = ['a', 'b', 'c'].map((id) => candidate(store, clock, id));
  await advance(clock, 10_000);
  assert.equal(cs.filter((c) => c.leading).length, 1);
  for (const c of cs) c.abort.abort();
  await Promise.all(cs.map((c) => c.done));
});

test('the health check fails when the leader cannot renew long past its lease', async () => {
  const clock = new FakeClock();
  const store = new MemoryLeases();
  const a = candidate(store, clock, 'host_a');
  await settle(10);
  assert.equal(a.elector.check(20_000), undefined);
  // Freeze renewals without letting the elector notice (the update hangs).
  store.update = () => new Promise<Lease>(() => {});
  clock.step(40_000);
  assert.match(String(a.elector.check(20_000)), /failed election to renew leadership on lease kube-system\/kube-controller-manager/);
  a.abort.abort();
});
