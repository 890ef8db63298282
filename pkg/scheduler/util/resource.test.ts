import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makePod } from '../testing/fake.js';
import { computePodRequests, DEFAULT_MEMORY_REQUEST, quantityFor } from './resource.js';

test('quantities: cpu in millicores, others in whole units rounded up', () => {
  assert.equal(quantityFor('cpu', '0.1'), 100);
  assert.equal(quantityFor('cpu', '250m'), 250);
  assert.equal(quantityFor('cpu', '2'), 2000);
  assert.equal(quantityFor('memory', '1Gi'), 1024 ** 3);
  assert.equal(quantityFor('memory', '1.5k'), 1500);
  assert.equal(quantityFor('memory', '100m'), 1);
  assert.equal(quantityFor('pods', '110'), 110);
});

test('requests: containers summed, the largest init container wins, overhead added', () => {
  const pod = makePod('p', {
    cpu: '1',
    memory: '1G',
    initContainers: [
      { name: 'i1', image: 'x', resources: { requests: { cpu: '2', memory: '1G' } } },
      { name: 'i2', image: 'x', resources: { requests: { cpu: '500m', memory: '3G' } } },
    ],
    overhead: { cpu: '100m', memory: '10M' },
  });
  const r = computePodRequests(pod);
  assert.equal(r.milliCPU, 2100);
  assert.equal(r.memory, 3_010_000_000);
});

test('sidecars (restartable init containers) add to the pod and to later init containers', () => {
  const pod = makePod('p', {
    cpu: '1',
    initContainers: [
      { name: 'sidecar', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '500m' } } },
      { name: 'init', image: 'x', resources: { requests: { cpu: '1200m' } } },
    ],
  });
  // containers 1 + sidecar 0.5 = 1.5; init 1.2 + sidecar 0.5 = 1.7 wins.
  assert.equal(computePodRequests(pod).milliCPU, 1700);
});

test('non-zero requests: containers asking for nothing count as 100m and 200Mi', () => {
  const r = computePodRequests(makePod('p'), true);
  assert.equal(r.milliCPU, 100);
  assert.equal(r.memory, DEFAULT_MEMORY_REQUEST);
  assert.equal(computePodRequests(makePod('p')).milliCPU, 0);
  assert.equal(computePodRequests(makePod('p', { cpu: '0' }), true).milliCPU, 0);
});

test('extended resources are scalar', () => {
  const r = computePodRequests(makePod('p', { requests: { 'example.com/gpu': '2', 'hugepages-2Mi': '4Mi' } }));
  assert.equal(r.scalar.get('example.com/gpu'), 2);
  assert.equal(r.scalar.get('hugepages-2Mi'), 4 * 1024 * 1024);
});
