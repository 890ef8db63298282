import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle } from '../controller/framework/clock.js';
import { defaultConfiguration, defaultProfile } from './config/defaults.js';
import { makeNode, makePod, testScheduler } from './testing/fake.js';
import type { Pod } from './api-types.js';

/** Adds the pod to the lister (as the informer would) and to the scheduler. */
function submit(t: ReturnType<typeof testScheduler>, pod: Pod) {
  t.listers.pods.upsert(pod);
  t.scheduler.onPodAdd(pod);
}

test('a pod is scheduled, assumed at once, bound, and gets a Scheduled event', async () => {
  const t = testScheduler();
  t.scheduler.onNodeAdd(makeNode('n1', { cpu: '1' }));
  t.scheduler.onNodeAdd(makeNode('n2', { cpu: '4' }));
  submit(t, makePod('web', { cpu: '2' }));
  await t.scheduler.scheduleOne();
  assert.equal(t.scheduler.cache.getNodeInfo('n2')!.requested.milliCPU, 2000, 'assumed before the binding lands');
  await t.scheduler.drainBindings();
  assert.deepEqual(t.client.binds, [{ pod: 'default/web', node: 'n2' }]);
  assert.deepEqual(t.client.events.at(-1), { name: 'web', type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned default/web to n2' });
});

test('the mixed failure has upstream message, condition and event', async () => {
  const t = testScheduler();
  const taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
  t.scheduler.onNodeAdd(makeNode('worker', { cpu: '1' }));
  t.scheduler.onNodeAdd(makeNode('cp1', { taints: [taint] }));
  t.scheduler.onNodeAdd(makeNode('cp2', { taints: [taint] }));
  const busy = makePod('busy', { nodeName: 'worker', cpu: '800m' });
  submit(t, busy);
  submit(t, makePod('web', { cpu: '500m' }));
  await t.scheduler.scheduleOne();
  const msg =
    '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.';
  assert.deepEqual(t.client.events.at(-1), { name: 'web', type: 'Warning', reason: 'FailedScheduling', message: msg });
  const upd = t.client.statusUpdates.at(-1)!;
  assert.equal(upd.condition!.reason, 'Unschedulable');
  assert.equal(upd.condition!.status, 'False');
  assert.equal(upd.condition!.message, msg);
  assert.equal(t.scheduler.queue.whereIs(makePod('web', { uid: t.listers.pods.get('default', 'web')!.metadata!.uid })), 'unschedulable');
});

test('an unschedulable pod is retried when a node that fits appears', async () => {
  const t = testScheduler();
  t.scheduler.onNodeAdd(makeNode('small', { cpu: '1' }));
  const pod = makePod('big', { cpu: '2' });
  submit(t, pod);
  await t.scheduler.scheduleOne();
  assert.equal(t.scheduler.queue.whereIs(pod), 'unschedulable');
  t.scheduler.onNodeAdd(makeNode('large', { cpu: '8' }));
  assert.equal(t.scheduler.queue.whereIs(pod), 'backoff');
  t.clock.step(1001);
  t.scheduler.queue.flushBackoffQCompleted();
  await t.scheduler.scheduleOne();
  await t.scheduler.drainBindings();
  assert.deepEqual(t.client.binds, [{ pod: 'default/big', node: 'large' }]);
});

test('no nodes at all: "no nodes available to schedule pods"', async () => {
  const t = testScheduler();
  submit(t, makePod('p'));
  await t.scheduler.scheduleOne();
  assert.equal(t.client.events.at(-1)!.message, 'no nodes available to schedule pods');
  assert.equal(t.client.statusUpdates.at(-1)!.condition!.reason, 'Unschedulable');
});

test('preemption: the high priority pod is nominated, the victim deleted, and it binds once room is made', async () => {
  const t = testScheduler();
  t.scheduler.onNodeAdd(makeNode('n1', { cpu: '1' }));
  const low = makePod('low', { nodeName: 'n1', cpu: '1', priority: 1 });
  submit(t, low);
  const high = makePod('high', { cpu: '1', priority: 100 });
  submit(t, high);
  await t.scheduler.scheduleOne();
  assert.deepEqual(t.client.deleted, ['default/low']);
  assert.equal(t.client.statusUpdates.at(-1)!.nominatedNodeName, 'n1');
  assert.match(t.client.statusUpdates.at(-1)!.condition!.message!, /^0\/1 nodes are available: 1 Insufficient cpu\.$/);
  assert.equal(t.scheduler.queue.nominator.nominatedNodeOf(high), 'n1');
  // The victim's deletion arrives through the informer.
  t.scheduler.onPodDelete(low);
  t.clock.step(2000);
  t.scheduler.queue.flushBackoffQCompleted();
  await t.scheduler.scheduleOne();
  await t.scheduler.drainBindings();
  assert.deepEqual(t.client.binds, [{ pod: 'default/high', node: 'n1' }]);
});

test('priority comes from the PriorityClass when the pod does not carry it', () => {
  const t = testScheduler();
  t.listers.priorityClasses.items = [
    { metadata: { name: 'high' }, value: 1000 },
    { metadata: { name: 'default-pc' }, value: 7, globalDefault: true },
  ];
  const named = makePod('a');
  named.spec!.priorityClassName = 'high';
  assert.equal(t.scheduler.resolvePod(named).spec!.priority, 1000);
  assert.equal(t.scheduler.resolvePod(makePod('b')).spec!.priority, 7);
  assert.equal(t.scheduler.resolvePod(makePod('c', { priority: 3 })).spec!.priority, 3);
});

test('pods for other schedulers are ignored; each profile handles its own', async () => {
  const config = defaultConfiguration();
  config.profiles.push(defaultProfile('packer'));
  const t = testScheduler({ config });
  t.scheduler.onNodeAdd(makeNode('n1'));
  submit(t, makePod('mine', { schedulerName: 'packer' }));
  submit(t, makePod('theirs', { schedulerName: 'someone-else' }));
  assert.deepEqual(t.scheduler.queue.pendingPods(), { active: 1, backoff: 0, unschedulable: 0, gated: 0 });
  await t.scheduler.scheduleOne();
  await t.scheduler.drainBindings();
  assert.deepEqual(t.client.binds, [{ pod: 'default/mine', node: 'n1' }]);
});

test('a failed binding forgets the assumed pod and retries it', async () => {
  const t = testScheduler();
  t.scheduler.onNodeAdd(makeNode('n1', { cpu: '1' }));
  let fail = true;
  t.client.failBind = () => (fail ? new Error('conflict') : undefined);
  const pod = makePod('p', { cpu: '1' });
  submit(t, pod);
  await t.scheduler.scheduleOne();
  await t.scheduler.drainBindings();
  assert.equal(t.scheduler.cache.getNodeInfo('n1')!.requested.milliCPU, 0);
  assert.equal(t.scheduler.queue.whereIs(pod), 'backoff');
  assert.equal(t.client.statusUpdates.at(-1)!.condition!.reason, 'SchedulerError');
  fail = false;
  t.clock.step(1001);
  t.scheduler.queue.flushBackoffQCompleted();
  await t.scheduler.scheduleOne();
  await t.scheduler.drainBindings();
  assert.deepEqual(t.client.binds, [{ pod: 'default/p', node: 'n1' }]);
});

test('the informer confirming the binding moves the pod from the queue to the cache', async () => {
  const t = testScheduler();
  t.scheduler.onNodeAdd(makeNode('n1'));
  const pod = makePod('p', { cpu: '1' });
  submit(t, pod);
  await t.scheduler.scheduleOne();
  await t.scheduler.drainBindings();
  const bound = { ...pod, spec: { ...pod.spec!, nodeName: 'n1' } };
  t.scheduler.onPodUpdate(pod, bound);
  assert.ok(!t.scheduler.cache.isAssumedPod(bound));
  assert.equal(t.scheduler.cache.getNodeInfo('n1')!.pods.length, 1);
  t.scheduler.onPodDelete(bound);
  assert.equal(t.scheduler.cache.getNodeInfo('n1')!.pods.length, 0);
});

test('spreading replicas with anti-affinity and then run() on a fake clock', async () => {
  const t = testScheduler();
  for (const n of ['n1', 'n2', 'n3']) t.scheduler.onNodeAdd(makeNode(n));
  const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
  for (let i = 0; i < 3; i++) submit(t, makePod(`web-${i}`, { labels: { app: 'web' }, affinity: anti }));
  const ac = new AbortController();
  const done = t.scheduler.run(ac.signal);
  for (let i = 0; i < 20 && t.client.binds.length < 3; i++) await settle();
  ac.abort();
  await done;
  assert.deepEqual(t.client.binds.map((b) => b.node).sort(), ['n1', 'n2', 'n3']);
});

test('numFeasibleNodesToFind: all under 100 nodes, then the adaptive share', () => {
  const t = testScheduler();
  assert.equal(t.scheduler.numFeasibleNodesToFind(0, 50), 50);
  assert.equal(t.scheduler.numFeasibleNodesToFind(0, 1000), 420);
  assert.equal(t.scheduler.numFeasibleNodesToFind(0, 5000), 500);
  assert.equal(t.scheduler.numFeasibleNodesToFind(10, 500), 100);
});

test('a profile from the configuration file: MostAllocated packs pods onto the fuller node', async () => {
  const { parseConfiguration } = await import('./config/load.js');
  const config = parseConfiguration(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: bin-packer
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
`);
  const t = testScheduler({ config });
  t.scheduler.onNodeAdd(makeNode('empty', { cpu: '4', memory: '8Gi' }));
  t.scheduler.onNodeAdd(makeNode('used', { cpu: '4', memory: '8Gi' }));
  submit(t, makePod('existing', { nodeName: 'used', cpu: '2', memory: '4Gi' }));
  submit(t, makePod('p', { cpu: '1', memory: '1Gi', schedulerName: 'bin-packer' }));
  submit(t, makePod('ignored', { cpu: '1', memory: '1Gi' }));
  await t.scheduler.scheduleOne();
  await t.scheduler.drainBindings();
  assert.deepEqual(t.client.binds, [{ pod: 'default/p', node: 'used' }]);
  assert.equal(t.scheduler.queue.pendingPods().active, 0, 'default-scheduler pods are not ours');
});

test('preemption with priorities only known through PriorityClasses (no admission set spec.priority)', async () => {
  const t = testScheduler();
  t.listers.priorityClasses.items = [
    { metadata: { name: 'low' }, value: 10 },
    { metadata: { name: 'high' }, value: 1000 },
  ];
  t.scheduler.onNodeAdd(makeNode('n1', { cpu: '1' }));
  const low = makePod('low', { nodeName: 'n1', cpu: '1' });
  low.spec!.priorityClassName = 'low';
  submit(t, low);
  const high = makePod('high', { cpu: '1' });
  high.spec!.priorityClassName = 'high';
  submit(t, high);
  await t.scheduler.scheduleOne();
  assert.deepEqual(t.client.deleted, ['default/low']);
  assert.equal(t.client.statusUpdates.at(-1)!.nominatedNodeName, 'n1');
});

test('binding cycles beyond maxBindingsInFlight wait their turn while scheduling goes on', async () => {
  const t = testScheduler({ maxBindingsInFlight: 2 });
  t.scheduler.onNodeAdd(makeNode('n1', { cpu: '64', pods: '110' }));
  let open!: () => void;
  t.client.bindGate = new Promise<void>((r) => (open = r));
  for (let i = 0; i < 5; i++) submit(t, makePod(`p${i}`, { cpu: '100m' }));
  for (let i = 0; i < 5; i++) await t.scheduler.scheduleOne();
  // Every pod is assumed at once; only two bindings are on the wire.
  assert.equal(t.scheduler.cache.getNodeInfo('n1')!.requested.milliCPU, 500);
  await settle();
  assert.equal(t.client.bindsInFlight, 2);
  open();
  await t.scheduler.drainBindings();
  assert.equal(t.client.maxBindsInFlight, 2);
  assert.deepEqual(t.client.binds.map((b) => b.pod).sort(), ['default/p0', 'default/p1', 'default/p2', 'default/p3', 'default/p4']);
});
