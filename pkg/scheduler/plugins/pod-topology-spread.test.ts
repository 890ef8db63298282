import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeListers, filterEach, makeNode, makePod, nodeInfos, scoreEach, testHandle } from '../testing/fake.js';
import { PodTopologySpread } from './pod-topology-spread.js';
import type { Pod } from '../api-types.js';

const ZONE = 'topology.kubernetes.io/zone';
const nodes = () => [
  makeNode('a1', { labels: { [ZONE]: 'a' } }),
  makeNode('b1', { labels: { [ZONE]: 'b' } }),
  makeNode('c1', { labels: { [ZONE]: 'c' } }),
  makeNode('nolabel'),
];
const spread = (extra: object = {}) => [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...extra }];
const web = (name: string, nodeName?: string, extra: object = {}) => makePod(name, { nodeName, labels: { app: 'web' }, ...extra });
const ok = (r: Record<string, string>) => Object.keys(r).filter((k) => r[k] === 'ok');

function run(pod: Pod, existing: Pod[], ns = nodes()) {
  const nis = nodeInfos(ns, existing);
  return filterEach(new PodTopologySpread(testHandle(nis)), pod, nis);
}

test('maxSkew 1 across 3 zones: only the emptiest zones fit; nodes without the key are unresolvable', () => {
  const r = run(web('new', undefined, { topologySpreadConstraints: spread() }), [web('w1', 'a1'), web('w2', 'b1')]);
  assert.deepEqual(ok(r), ['c1']);
  assert.equal(r.a1, "Unschedulable: node(s) didn't match pod topology spread constraints");
  assert.equal(r.nolabel, "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)");
});

test('pods of other apps, namespaces or being deleted do not count', () => {
  const deleting = web('w3', 'c1');
  deleting.metadata!.deletionTimestamp = '2024-01-01T00:00:00Z';
  const r = run(web('new', undefined, { topologySpreadConstraints: spread() }), [web('w1', 'a1'), makePod('x', { nodeName: 'b1', labels: { app: 'db' } }), web('w2', 'b1', { namespace: 'other' }), deleting]);
  assert.deepEqual(ok(r), ['b1', 'c1']);
});

test('minDomains: with fewer domains than asked, the global minimum counts as 0', () => {
  const two = [makeNode('a1', { labels: { [ZONE]: 'a' } }), makeNode('b1', { labels: { [ZONE]: 'b' } })];
  const existing = [web('w1', 'a1'), web('w2', 'b1')];
  assert.deepEqual(ok(run(web('new', undefined, { topologySpreadConstraints: spread() }), existing, two)), ['a1', 'b1']);
  assert.deepEqual(ok(run(web('new', undefined, { topologySpreadConstraints: spread({ minDomains: 3 }) }), existing, two)), []);
});

test('nodeAffinityPolicy: Honor (default) counts only nodes the pod may use; Ignore counts all', () => {
  const existing = [web('w1', 'a1'), web('w2', 'b1')];
  const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: 'In', values: ['a', 'b'] }] }] } } } as any;
  // Honor: zone c does not count, min is 1 → a and b fit (skew 1).
  assert.deepEqual(ok(run(web('new', undefined, { affinity, topologySpreadConstraints: spread() }), existing)), ['a1', 'b1', 'c1']);
  // Ignore: zone c (0 pods) is the minimum → a and b would make skew 2.
  assert.deepEqual(ok(run(web('new', undefined, { affinity, topologySpreadConstraints: spread({ nodeAffinityPolicy: 'Ignore' }) }), existing)), ['c1']);
});

test('nodeTaintsPolicy: Honor leaves out nodes whose taints the pod does not tolerate', () => {
  const ns = [makeNode('a1', { labels: { [ZONE]: 'a' } }), makeNode('b1', { labels: { [ZONE]: 'b' } }), makeNode('c1', { labels: { [ZONE]: 'c' }, taints: [{ key: 'k', effect: 'NoSchedule' }] })];
  const existing = [web('w1', 'a1'), web('w2', 'b1')];
  assert.deepEqual(ok(run(web('new', undefined, { topologySpreadConstraints: spread() }), existing, ns)), ['c1']);
  assert.deepEqual(ok(run(web('new', undefined, { topologySpreadConstraints: spread({ nodeTaintsPolicy: 'Honor' }) }), existing, ns)), ['a1', 'b1', 'c1']);
});

test('matchLabelKeys narrows the selector to pods with the same values', () => {
  const c = spread({ matchLabelKeys: ['rev'] });
  const existing = [web('w1', 'a1', { labels: { app: 'web', rev: '1' } }), web('w2', 'b1', { labels: { app: 'web', rev: '1' } })];
  assert.deepEqual(ok(run(web('new', undefined, { labels: { app: 'web', rev: '2' }, topologySpreadConstraints: c }), existing)), ['a1', 'b1', 'c1']);
});

test('ScheduleAnyway scores fewer matching pods higher', () => {
  const nis = nodeInfos(nodes().slice(0, 3), [web('w1', 'a1'), web('w2', 'a1'), web('w3', 'b1')]);
  const pod = web('new', undefined, { topologySpreadConstraints: spread({ whenUnsatisfiable: 'ScheduleAnyway' }) });
  const s = scoreEach(new PodTopologySpread(testHandle(nis)), pod, nis);
  assert.ok(s.c1! > s.b1! && s.b1! > s.a1!, JSON.stringify(s));
  assert.equal(s.c1, 100);
});

test('cluster-default constraints spread pods of the same Service', () => {
  const listers = fakeListers();
  listers.services.items = [{ metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' } } }];
  const nis = nodeInfos(nodes().slice(0, 3), [web('w1', 'a1'), web('w2', 'a1')]);
  const s = scoreEach(new PodTopologySpread(testHandle(nis, listers)), web('new'), nis);
  assert.ok(s.b1! > s.a1!, JSON.stringify(s));
  // A pod no Service or controller selects gets no default spreading.
  assert.deepEqual(scoreEach(new PodTopologySpread(testHandle(nis, listers)), makePod('lonely'), nis), { a1: 0, b1: 0, c1: 0 });
  // Nor does it filter: defaults are ScheduleAnyway.
  assert.deepEqual(ok(filterEach(new PodTopologySpread(testHandle(nis, listers)), web('new'), nis)), ['a1', 'b1', 'c1']);
});

test('List defaulting uses the configured default constraints, selector from the ReplicaSet', () => {
  const listers = fakeListers();
  listers.replicaSets.items = [{ metadata: { name: 'rs', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } } } } as any];
  const nis = nodeInfos(nodes().slice(0, 3), [web('w1', 'a1')]);
  const pl = new PodTopologySpread(testHandle(nis, listers), { defaultingType: 'List', defaultConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule' }] });
  const owned = web('new', undefined, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'x', controller: true }] });
  assert.deepEqual(ok(filterEach(pl, owned, nis)), ['b1', 'c1']);
  assert.throws(() => new PodTopologySpread(testHandle(nis), { defaultingType: 'System', defaultConstraints: spread() as any }));
});
