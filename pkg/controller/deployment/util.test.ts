import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from '../../api/types.js';
import { computeHash, fnv32a, safeEncodeString } from './hash.js';
import { equalIgnoreHash, getProportion, maxSurge, maxUnavailable, newRSNewReplicas, resolveFenceposts, scaledValueFromIntOrPercent, setNewReplicaSetAnnotations } from './util.js';

function dep(replicas: number, maxSurgeV: number | string, maxUnavailableV: number | string): Deployment {
  return { metadata: { name: 'd' }, spec: { replicas, selector: {}, template: {}, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: maxSurgeV, maxUnavailable: maxUnavailableV } } } } as Deployment;
}

test('maxSurge rounds up and maxUnavailable down; both zero means one unavailable', () => {
  assert.equal(scaledValueFromIntOrPercent('25%', 10, true), 3);
  assert.equal(scaledValueFromIntOrPercent('25%', 10, false), 2);
  assert.equal(scaledValueFromIntOrPercent(2, 10, false), 2);
  assert.throws(() => scaledValueFromIntOrPercent('abc', 10, true), /string is not a percentage/);
  assert.deepEqual(resolveFenceposts('1%', '1%', 2), { surge: 1, unavailable: 0 });
  assert.deepEqual(resolveFenceposts('0%', '1%', 2), { surge: 0, unavailable: 1 });
  assert.equal(maxSurge(dep(3, '25%', '25%')), 1);
  assert.equal(maxUnavailable(dep(3, '25%', '25%')), 0, 'floor(0.75) = 0, and surge is 1 so it stays 0');
  assert.equal(maxUnavailable(dep(10, '25%', '25%')), 2);
  assert.equal(maxUnavailable(dep(2, 0, 5)), 2, 'capped at replicas');
  assert.equal(maxUnavailable(dep(0, 1, 1)), 0);
});

test('the new ReplicaSet grows within replicas+maxSurge', () => {
  const d = dep(3, 1, 0);
  const old = { spec: { replicas: 3 } } as ReplicaSet;
  const nrs = { spec: { replicas: 0 } } as ReplicaSet;
  assert.equal(newRSNewReplicas(d, [old, nrs], nrs), 1);
  const old2 = { spec: { replicas: 2 } } as ReplicaSet;
  const nrs1 = { spec: { replicas: 1 } } as ReplicaSet;
  assert.equal(newRSNewReplicas(d, [old2, nrs1], nrs1), 2);
  assert.equal(newRSNewReplicas(d, [{ spec: { replicas: 3 } } as ReplicaSet, nrs1], nrs1), 1, 'no room');
});

test('proportional scaling splits by the max-replicas annotation', () => {
  const d = dep(20, 0, 1);
  const rs = { metadata: { annotations: { 'deployment.kubernetes.io/max-replicas': '10' } }, spec: { replicas: 5 } } as unknown as ReplicaSet;
  assert.equal(getProportion(rs, d, 10, 0), 5, '5 of 10 → 10 of 20');
  assert.equal(getProportion(rs, d, 3, 0), 3, 'capped at what is left to add');
});

test('the pod-template-hash is stable, changes with the template and the collision count, and uses the safe alphabet', () => {
  const t = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'a' }] } } as any;
  const h = computeHash(t);
  assert.equal(h, computeHash(JSON.parse(JSON.stringify(t))));
  assert.equal(h, computeHash({ spec: t.spec, metadata: { creationTimestamp: null, labels: { app: 'x' } } } as any), 'null fields do not count');
  assert.notEqual(h, computeHash({ ...t, spec: { containers: [{ name: 'c', image: 'b' }] } }));
  assert.notEqual(h, computeHash(t, 1));
  assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(fnv32a(Buffer.from('')), 0x811c9dc5);
  assert.equal(fnv32a(Buffer.from('a')), 0xe40c292c);
  assert.equal(safeEncodeString('0123'), '4567', 'bytes 48..51 modulo 27');
  assert.ok(equalIgnoreHash({ metadata: { labels: { app: 'x', 'pod-template-hash': 'abc' } } } as any, { metadata: { labels: { app: 'x' }, creationTimestamp: null } } as any));
});

test('rolling back to an old ReplicaSet raises its revision and records the old one', () => {
  const d = { metadata: { annotations: { note: 'n' } }, spec: { replicas: 1, strategy: { type: 'Recreate' } } } as unknown as Deployment;
  const rs = { metadata: { annotations: { 'deployment.kubernetes.io/revision': '1' } }, spec: {} } as unknown as ReplicaSet;
  assert.equal(setNewReplicaSetAnnotations(d, rs, '3', true), true);
  assert.deepEqual(rs.metadata!.annotations, { note: 'n', 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
  setNewReplicaSetAnnotations(d, rs, '5', true);
  assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/revision-history'], '1,3');
});
