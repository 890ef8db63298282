import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../controller/framework/clock.js';
import { ActionType } from '../framework/interface.js';
import { Status } from '../framework/status.js';
import { PrioritySort } from '../plugins/priority-sort.js';
import { SchedulingGates } from '../plugins/scheduling-gates.js';
import { makePod } from '../testing/fake.js';
import { SchedulingQueue } from './scheduling-queue.js';

const sort = new PrioritySort();

function newQueue(clock = new FakeClock(), extra: Partial<ConstructorParameters<typeof SchedulingQueue>[0]> = {}) {
  return new SchedulingQueue({ clock, less: (a, b) => sort.less(a, b), isInterested: (q, e) => q.unschedulablePlugins.has('NodeResourcesFit') && e.resource === 'Node', ...extra });
}

test('activeQ pops by priority, then by time queued', async () => {
  const clock = new FakeClock();
  const q = newQueue(clock);
  q.add(makePod('low', { priority: 1 }));
  clock.step(10);
  q.add(makePod('high-late', { priority: 10 }));
  clock.step(10);
  q.add(makePod('high-later', { priority: 10 }));
  const order = [];
  for (let i = 0; i < 3; i++) order.push((await q.pop())!.podInfo.pod.metadata!.name);
  assert.deepEqual(order, ['high-late', 'high-later', 'low']);
});

test('pop waits for a pod and returns undefined once closed', async () => {
  const q = newQueue();
  const p = q.pop();
  q.add(makePod('a'));
  assert.equal((await p)!.podInfo.pod.metadata!.name, 'a');
  const waiting = q.pop();
  q.close();
  assert.equal(await waiting, undefined);
});

test('backoff doubles per attempt from 1s and stops at 10s', async () => {
  const q = newQueue();
  q.add(makePod('a'));
  const qpi = (await q.pop())!;
  const durations = [];
  for (let attempts = 1; attempts <= 6; attempts++) {
    qpi.attempts = attempts;
    durations.push(q.backoffDuration(qpi));
  }
  assert.deepEqual(durations, [1000, 2000, 4000, 8000, 10000, 10000]);
});

test('an unschedulable pod waits for an event its rejecting plugin cares about', async () => {
  const clock = new FakeClock();
  const q = newQueue(clock);
  const pod = makePod('a');
  q.add(pod);
  const qpi = (await q.pop())!;
  qpi.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(qpi, q.currentSchedulingCycle);
  assert.equal(q.whereIs(pod), 'unschedulable');
  q.moveAllToActiveOrBackoffQueue({ resource: 'PersistentVolume', actions: ActionType.Add });
  assert.equal(q.whereIs(pod), 'unschedulable', 'an unrelated event leaves it');
  // Still within its backoff: it goes to backoffQ first.
  q.moveAllToActiveOrBackoffQueue({ resource: 'Node', actions: ActionType.Add });
  assert.equal(q.whereIs(pod), 'backoff');
  clock.step(1001);
  q.flushBackoffQCompleted();
  assert.equal(q.whereIs(pod), 'active');
});

test('an event during the attempt sends the failed pod to backoffQ, not unschedulablePods', async () => {
  const q = newQueue();
  const pod = makePod('a');
  q.add(pod);
  const qpi = (await q.pop())!;
  const cycle = q.currentSchedulingCycle;
  q.moveAllToActiveOrBackoffQueue({ resource: 'Node', actions: ActionType.Add });
  qpi.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(qpi, cycle);
  assert.equal(q.whereIs(pod), 'backoff');
});

test('errors go to backoffQ', async () => {
  const q = newQueue();
  const pod = makePod('a');
  q.add(pod);
  const qpi = (await q.pop())!;
  q.addUnschedulableIfNotPresent(qpi, q.currentSchedulingCycle, true);
  assert.equal(q.whereIs(pod), 'backoff');
});

test('pods left unschedulable for more than 5 minutes are retried', async () => {
  const clock = new FakeClock();
  const q = newQueue(clock);
  const pod = makePod('a');
  q.add(pod);
  const qpi = (await q.pop())!;
  qpi.unschedulablePlugins = new Set(['TaintToleration']);
  q.addUnschedulableIfNotPresent(qpi, q.currentSchedulingCycle);
  clock.step(4 * 60_000);
  q.flushUnschedulablePodsLeftover();
  assert.equal(q.whereIs(pod), 'unschedulable');
  clock.step(60_001);
  q.flushUnschedulablePodsLeftover();
  assert.equal(q.whereIs(pod), 'active');
  assert.deepEqual(q.pendingPods(), { active: 1, backoff: 0, unschedulable: 0, gated: 0 });
});

test('run() flushes on the injected clock', async () => {
  const clock = new FakeClock();
  const q = newQueue(clock);
  const pod = makePod('a');
  q.add(pod);
  const qpi = (await q.pop())!;
  q.addUnschedulableIfNotPresent(qpi, q.currentSchedulingCycle, true);
  const ac = new AbortController();
  const done = q.run(ac.signal);
  for (let i = 0; i < 3; i++) {
    clock.step(1000);
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(q.whereIs(pod), 'active');
  ac.abort();
  await done;
});

test('a spec update moves an unschedulable pod back; a status-only update does not', async () => {
  const q = newQueue();
  const pod = makePod('a', { labels: { x: '1' } });
  q.add(pod);
  const qpi = (await q.pop())!;
  qpi.unschedulablePlugins = new Set(['NodeAffinity']);
  q.addUnschedulableIfNotPresent(qpi, q.currentSchedulingCycle);
  const statusOnly = { ...pod, status: { ...pod.status, conditions: [{ type: 'PodScheduled', status: 'False' }] } };
  q.update(pod, statusOnly);
  assert.equal(q.whereIs(pod), 'unschedulable');
  const relabeled = { ...pod, metadata: { ...pod.metadata, labels: { x: '2' } } };
  q.update(statusOnly, relabeled);
  assert.notEqual(q.whereIs(pod), 'unschedulable');
});

test('assigned pods move pods whose required affinity selects them', async () => {
  const q = newQueue();
  const pod = makePod('a', {
    affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'zone' }] } },
  });
  q.add(pod);
  const qpi = (await q.pop())!;
  qpi.unschedulablePlugins = new Set(['InterPodAffinity']);
  q.addUnschedulableIfNotPresent(qpi, q.currentSchedulingCycle);
  q.assignedPodAdded(makePod('other', { labels: { app: 'web' }, nodeName: 'n' }));
  assert.equal(q.whereIs(pod), 'unschedulable');
  q.assignedPodAdded(makePod('db', { labels: { app: 'db' }, nodeName: 'n' }));
  assert.notEqual(q.whereIs(pod), 'unschedulable');
});

test('gated pods wait until their scheduling gates are removed', async () => {
  const gates = new SchedulingGates();
  const q = newQueue(new FakeClock(), { preEnqueue: (p) => gates.preEnqueue(p) });
  const pod = makePod('a');
  pod.spec!.schedulingGates = [{ name: 'example.com/wait' }];
  q.add(pod);
  assert.equal(q.whereIs(pod), 'gated');
  assert.equal(q.pendingPods().gated, 1);
  q.moveAllToActiveOrBackoffQueue({ resource: 'Node', actions: ActionType.Add });
  assert.equal(q.whereIs(pod), 'gated');
  const ungated = { ...pod, spec: { ...pod.spec!, schedulingGates: [] } };
  q.update(pod, ungated);
  assert.equal(q.whereIs(pod), 'active');
  assert.ok(Status.success().isSuccess());
});

test('deleting a pod removes it from every queue and from the nominator', async () => {
  const q = newQueue();
  const pod = makePod('a', { nominatedNodeName: 'n1' });
  q.add(pod);
  assert.equal(q.nominator.nominatedPodsForNode('n1').length, 1);
  q.delete(pod);
  assert.equal(q.whereIs(pod), undefined);
  assert.equal(q.nominator.nominatedPodsForNode('n1').length, 0);
});
