import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/cycle-state.js';
import { NodeToStatus, Status } from '../framework/status.js';
import { PodInfo } from '../framework/types.js';
import { FakeClient, fakeListers, makeNode, makePod, nodeInfos, testFramework } from '../testing/fake.js';
import { DefaultPreemption, filterPodsWithPDBViolation } from './default-preemption.js';
import type { Pod } from '../api-types.js';

function setup(nodes = [makeNode('n1', { cpu: '2' }), makeNode('n2', { cpu: '2' })], existing: Pod[] = []) {
  const listers = fakeListers();
  listers.pods.items = [...existing];
  const nis = nodeInfos(nodes, existing);
  const client = new FakeClient(listers);
  const fwk = testFramework(nis, { listers, client });
  const pl = fwk.plugin('DefaultPreemption') as DefaultPreemption;
  return { listers, nis, client, fwk, pl };
}

/** The statuses the Filter phase would have produced. */
function filterStatuses(fwk: ReturnType<typeof setup>['fwk'], pod: Pod, state: CycleState): NodeToStatus {
  const m = new NodeToStatus();
  fwk.runPreFilterPlugins(state, pod, fwk.snapshot().list());
  for (const ni of fwk.snapshot().list()) {
    const s = fwk.runFilterPlugins(state, pod, ni);
    if (!s.isSuccess()) m.set(ni.name, s);
  }
  return m;
}

test('preempts the node whose victims have the lowest priority, deletes them and nominates', async () => {
  const existing = [makePod('low', { nodeName: 'n1', cpu: '2', priority: 1 }), makePod('mid', { nodeName: 'n2', cpu: '2', priority: 5 })];
  const { fwk, pl, client, listers } = setup(undefined, existing);
  const pod = makePod('high', { cpu: '1', priority: 10 });
  listers.pods.items.push(pod);
  const state = new CycleState();
  const r = await pl.postFilter(state, pod, filterStatuses(fwk, pod, state));
  assert.ok(r.status.isSuccess(), r.status.toString());
  assert.equal(r.result!.nominatedNodeName, 'n1');
  assert.deepEqual(client.deleted, ['default/low']);
  assert.equal(client.statusUpdates[0]!.condition!.type, 'DisruptionTarget');
  assert.equal(client.statusUpdates[0]!.condition!.reason, 'PreemptionByScheduler');
  assert.equal(client.events[0]!.reason, 'Preempted');
});

test('keeps as many pods as still fit: only the necessary victims', () => {
  const existing = [makePod('a', { nodeName: 'n1', cpu: '1', priority: 1 }), makePod('b', { nodeName: 'n1', cpu: '1', priority: 2 })];
  const { fwk, pl, nis } = setup([makeNode('n1', { cpu: '2' })], existing);
  const pod = makePod('high', { cpu: '1', priority: 10 });
  const state = new CycleState();
  fwk.runPreFilterPlugins(state, pod, nis);
  const r = pl.selectVictimsOnNode(state, pod, nis[0]!.clone(), []);
  assert.ok(r.status.isSuccess());
  assert.deepEqual(r.victims.map((v) => v.metadata!.name), ['a'], 'the lower priority pod goes, the other is reprieved');
});

test('no lower priority pods: "No preemption victims found"; unresolvable nodes: "not helpful"', async () => {
  const nodes = [makeNode('busy', { cpu: '1' }), makeNode('cp1', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), makeNode('cp2', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] })];
  const existing = [makePod('same', { nodeName: 'busy', cpu: '800m' })];
  const { fwk, pl, listers, client } = setup(nodes, existing);
  const pod = makePod('p', { cpu: '500m' });
  listers.pods.items.push(pod);
  const state = new CycleState();
  const r = await pl.postFilter(state, pod, filterStatuses(fwk, pod, state));
  assert.equal(r.status.code, 'Unschedulable');
  assert.equal(r.status.message(), 'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.');
  assert.equal(r.result!.nominatedNodeName, '');
  assert.deepEqual(client.deleted, []);
});

test('preemptionPolicy Never: not eligible', async () => {
  const { fwk, pl, listers } = setup(undefined, [makePod('low', { nodeName: 'n1', cpu: '2', priority: 1 })]);
  const pod = makePod('p', { cpu: '3', priority: 10, preemptionPolicy: 'Never' });
  listers.pods.items.push(pod);
  const state = new CycleState();
  const r = await pl.postFilter(state, pod, filterStatuses(fwk, pod, state));
  assert.equal(r.status.message(), 'preemption: not eligible due to preemptionPolicy=Never.');
});

test('PDBs: victims whose budget allows no disruption are avoided when another node will do', async () => {
  const existing = [makePod('guarded', { nodeName: 'n1', cpu: '2', priority: 1, labels: { app: 'db' } }), makePod('free', { nodeName: 'n2', cpu: '2', priority: 3 })];
  const { fwk, pl, listers, client } = setup(undefined, existing);
  listers.podDisruptionBudgets.items = [{ metadata: { name: 'db', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } }];
  const pod = makePod('high', { cpu: '1', priority: 10 });
  listers.pods.items.push(pod);
  const state = new CycleState();
  const r = await pl.postFilter(state, pod, filterStatuses(fwk, pod, state));
  assert.equal(r.result!.nominatedNodeName, 'n2', 'no PDB violation beats a lower priority victim');
  assert.deepEqual(client.deleted, ['default/free']);
});

test('filterPodsWithPDBViolation counts down the allowed disruptions, skipping already disrupted pods', () => {
  const pods = ['a', 'b', 'c'].map((n) => new PodInfo(makePod(n, { labels: { app: 'x' } })));
  const pdb = { metadata: { name: 'x', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'x' } } }, status: { disruptionsAllowed: 1, disruptedPods: { c: '2024-01-01T00:00:00Z' }, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 } };
  const r = filterPodsWithPDBViolation(pods, [pdb]);
  assert.deepEqual(r.violating.map((p) => p.pod.metadata!.name), ['b']);
  assert.deepEqual(r.nonViolating.map((p) => p.pod.metadata!.name), ['a', 'c']);
});

test('candidate choice: fewest victims when priorities tie', () => {
  const { pl } = setup();
  const v = (n: string, p: number) => makePod(n, { priority: p });
  const c = pl.selectCandidate([
    { name: 'two', victims: [v('a', 1), v('b', 1)], numPDBViolations: 0 },
    { name: 'one', victims: [v('c', 1)], numPDBViolations: 0 },
  ]);
  assert.equal(c!.name, 'one');
  assert.equal(pl.selectCandidate([{ name: 'hi', victims: [v('d', 5)], numPDBViolations: 0 }, { name: 'lo', victims: [v('e', 2), v('f', 1)], numPDBViolations: 0 }])!.name, 'lo');
  assert.ok(Status.success().isSuccess());
});
