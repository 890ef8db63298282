import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, makeNode, makePod, nodeInfos, scoreEach } from '../testing/fake.js';
import { NodeAffinity } from './node-affinity.js';

const nis = () =>
  nodeInfos([
    makeNode('a', { labels: { zone: 'a', disk: 'ssd', cores: '8' } }),
    makeNode('b', { labels: { zone: 'b', cores: '2' } }),
    makeNode('c', { labels: { zone: 'c', disk: 'hdd', cores: 'many' } }),
  ]);
const required = (...matchExpressions: object[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } }) as any;
const ok = (r: Record<string, string>) => Object.keys(r).filter((k) => r[k] === 'ok');

test('nodeSelector must match every label', () => {
  const r = filterEach(new NodeAffinity(), makePod('p', { nodeSelector: { disk: 'ssd' } }), nis());
  assert.deepEqual(ok(r), ['a']);
  assert.equal(r.b, "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector");
});

test('required terms: In, NotIn, Exists, DoesNotExist, Gt, Lt', () => {
  const f = (...e: object[]) => ok(filterEach(new NodeAffinity(), makePod('p', { affinity: required(...e) }), nis()));
  assert.deepEqual(f({ key: 'zone', operator: 'In', values: ['a', 'c'] }), ['a', 'c']);
  assert.deepEqual(f({ key: 'disk', operator: 'NotIn', values: ['ssd'] }), ['b', 'c']);
  assert.deepEqual(f({ key: 'disk', operator: 'Exists' }), ['a', 'c']);
  assert.deepEqual(f({ key: 'disk', operator: 'DoesNotExist' }), ['b']);
  assert.deepEqual(f({ key: 'cores', operator: 'Gt', values: ['4'] }), ['a'], 'a non-integer label never matches Gt');
  assert.deepEqual(f({ key: 'cores', operator: 'Lt', values: ['4'] }), ['b']);
  assert.deepEqual(f({ key: 'zone', operator: 'In', values: ['a', 'b'] }, { key: 'disk', operator: 'Exists' }), ['a'], 'expressions of a term are ANDed');
});

test('terms are ORed; an empty term selects nothing; matchFields selects by name', () => {
  const terms = (nodeSelectorTerms: object[]) => makePod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } } as any });
  assert.deepEqual(ok(filterEach(new NodeAffinity(), terms([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }]), nis())), ['a', 'b']);
  assert.deepEqual(ok(filterEach(new NodeAffinity(), terms([{}]), nis())), []);
  assert.deepEqual(ok(filterEach(new NodeAffinity(), terms([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] }]), nis())), ['c']);
});

test('addedAffinity applies to every pod of the profile', () => {
  const pl = new NodeAffinity({ addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] } } });
  const r = filterEach(pl, makePod('p'), nis());
  assert.equal(r.a, "UnschedulableAndUnresolvable: node(s) didn't match scheduler-enforced node affinity");
  assert.deepEqual(ok(r), ['b', 'c']);
});

test('preferred terms add their weights, normalized to 100', () => {
  const pod = makePod('p', {
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } },
          { weight: 30, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
        ],
      },
    } as any,
  });
  assert.deepEqual(scoreEach(new NodeAffinity(), pod, nis()), { a: 100, b: 0, c: 25 });
  assert.deepEqual(scoreEach(new NodeAffinity(), makePod('q'), nis()), { a: 0, b: 0, c: 0 }, 'no preferences: PreScore skips');
});
