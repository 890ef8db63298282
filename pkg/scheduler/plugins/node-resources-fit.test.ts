import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, makeNode, makePod, nodeInfos, scoreEach } from '../testing/fake.js';
import { NodeResourcesBalancedAllocation } from './node-resources-balanced-allocation.js';
import { NodeResourcesFit } from './node-resources-fit.js';

test('Filter: reasons for each missing resource, and Too many pods', () => {
  const nodes = [makeNode('small', { cpu: '1', memory: '1Gi', pods: '2' }), makeNode('big', { cpu: '8', memory: '16Gi' })];
  const existing = [makePod('e1', { nodeName: 'small', cpu: '800m', memory: '512Mi' }), makePod('e2', { nodeName: 'small' })];
  const r = filterEach(new NodeResourcesFit(), makePod('p', { cpu: '500m', memory: '768Mi' }), nodeInfos(nodes, existing));
  assert.deepEqual(r, { small: 'Unschedulable: Too many pods, Insufficient cpu, Insufficient memory', big: 'ok' });
});

test('Filter: asking for more than the whole node is unresolvable (preemption cannot help)', () => {
  const r = filterEach(new NodeResourcesFit(), makePod('p', { cpu: '2' }), nodeInfos([makeNode('n', { cpu: '1' })]));
  assert.equal(r.n, 'UnschedulableAndUnresolvable: Insufficient cpu');
});

test('Filter: init containers and overhead count; extended resources can be ignored', () => {
  const ni = nodeInfos([makeNode('n', { cpu: '2', extra: { 'example.com/gpu': '1' } })]);
  const init = makePod('p', { cpu: '100m', initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '3' } } }] });
  assert.equal(filterEach(new NodeResourcesFit(), init, ni).n, 'UnschedulableAndUnresolvable: Insufficient cpu');
  const gpu = makePod('g', { requests: { 'example.com/gpu': '2' } });
  assert.equal(filterEach(new NodeResourcesFit(), gpu, ni).n, 'UnschedulableAndUnresolvable: Insufficient example.com/gpu');
  assert.equal(filterEach(new NodeResourcesFit({ ignoredResources: ['example.com/gpu'] }), gpu, ni).n, 'ok');
  assert.equal(filterEach(new NodeResourcesFit({ ignoredResourceGroups: ['example.com'] }), gpu, ni).n, 'ok');
});

// node: 4 cpu, 10000 bytes; pod: 1 cpu, 2000 bytes → cpu 25% and memory 20% used after placement.
const scoringNode = () => nodeInfos([makeNode('n', { cpu: '4', memory: '10000' })]);
const scoringPod = () => makePod('p', { cpu: '1', memory: '2000' });

test('Score: LeastAllocated (default) favours free room', () => {
  assert.equal(scoreEach(new NodeResourcesFit(), scoringPod(), scoringNode()).n, Math.trunc((75 + 80) / 2));
});

test('Score: MostAllocated favours full nodes', () => {
  assert.equal(scoreEach(new NodeResourcesFit({ scoringStrategy: { type: 'MostAllocated' } }), scoringPod(), scoringNode()).n, 22);
});

test('Score: RequestedToCapacityRatio follows the shape, scaled to 0–100', () => {
  const fit = new NodeResourcesFit({
    scoringStrategy: {
      type: 'RequestedToCapacityRatio',
      resources: [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
      ],
      requestedToCapacityRatio: {
        shape: [
          { utilization: 0, score: 0 },
          { utilization: 100, score: 10 },
        ],
      },
    },
  });
  // cpu 25 and memory 20: round(22.5) = 23.
  assert.equal(scoreEach(fit, scoringPod(), scoringNode()).n, 23);
  const weighted = new NodeResourcesFit({ scoringStrategy: { type: 'MostAllocated', resources: [{ name: 'cpu', weight: 3 }, { name: 'memory', weight: 1 }] } });
  assert.equal(scoreEach(weighted, scoringPod(), scoringNode()).n, Math.trunc((25 * 3 + 20) / 4));
});

test('Score: pods without requests are scored as 100m and 200Mi', () => {
  const nis = nodeInfos([makeNode('n', { cpu: '1', memory: '1Gi' })]);
  // cpu (1000-100)/1000 = 90; memory (1024-200)/1024 = 80.
  assert.equal(scoreEach(new NodeResourcesFit(), makePod('p'), nis).n, Math.trunc((90 + 80) / 2));
});

test('BalancedAllocation: 100 × (1 − std of the fractions); best-effort pods are skipped', () => {
  // fractions 0.25 and 0.2: std 0.025.
  assert.equal(scoreEach(new NodeResourcesBalancedAllocation(), scoringPod(), scoringNode()).n, 97);
  const nis = nodeInfos([makeNode('a', { cpu: '4', memory: '10000' }), makeNode('b', { cpu: '4', memory: '10000' })], [makePod('e', { nodeName: 'b', cpu: '1' })]);
  const s = scoreEach(new NodeResourcesBalancedAllocation(), scoringPod(), nis);
  assert.ok(s.a! > s.b!, 'the node that stays balanced wins');
  assert.deepEqual(scoreEach(new NodeResourcesBalancedAllocation(), makePod('be'), nis), { a: 0, b: 0 });
});
