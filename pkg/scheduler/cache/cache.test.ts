import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../controller/framework/clock.js';
import { makeNode, makePod } from '../testing/fake.js';
import { normalizedImageName, SchedulerCache } from './cache.js';
import { Snapshot } from './snapshot.js';

test('NodeInfo aggregates requests (init containers and overhead), pod count, host ports and images', () => {
  const cache = new SchedulerCache(new FakeClock());
  cache.addNode(makeNode('n1', { images: [{ names: ['registry/app:v1'], sizeBytes: 100 }] }));
  cache.addNode(makeNode('n2', { images: [{ names: ['registry/app:v1', 'busybox'], sizeBytes: 100 }] }));
  cache.addPod(
    makePod('a', {
      nodeName: 'n1',
      cpu: '500m',
      memory: '1Gi',
      hostPorts: [8080],
      initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '2' } } }],
      overhead: { cpu: '100m' },
    }),
  );
  cache.addPod(makePod('b', { nodeName: 'n1', cpu: '250m' }));
  const n1 = cache.getNodeInfo('n1')!;
  assert.equal(n1.requested.milliCPU, 2100 + 250);
  assert.equal(n1.requested.memory, 1024 ** 3);
  assert.equal(n1.pods.length, 2);
  assert.ok(n1.usedPorts.checkConflict('', 'TCP', 8080));
  assert.ok(!n1.usedPorts.checkConflict('', 'UDP', 8080));
  assert.equal(n1.nonZeroRequested.memory, 1024 ** 3 + 200 * 1024 * 1024);
  assert.equal(n1.imageStates.get('registry/app:v1')!.nodes.size, 2);
  assert.equal(cache.getNodeInfo('n2')!.imageStates.get('busybox:latest')!.size, 100);
  assert.equal(normalizedImageName('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.equal(normalizedImageName('app@sha256:abc'), 'app@sha256:abc');
});

test('an assumed pod counts at once, is confirmed by the informer, and can be forgotten', () => {
  const cache = new SchedulerCache(new FakeClock());
  cache.addNode(makeNode('n1'));
  const pod = makePod('a', { cpu: '1' });
  const assumed = { ...pod, spec: { ...pod.spec!, nodeName: 'n1' } };
  cache.assumePod(assumed);
  assert.ok(cache.isAssumedPod(assumed));
  assert.equal(cache.getNodeInfo('n1')!.requested.milliCPU, 1000);
  assert.throws(() => cache.assumePod(assumed));
  cache.addPod(assumed);
  assert.ok(!cache.isAssumedPod(assumed));
  assert.equal(cache.getNodeInfo('n1')!.pods.length, 1);

  const other = makePod('b', { cpu: '1' });
  const assumedB = { ...other, spec: { ...other.spec!, nodeName: 'n1' } };
  cache.assumePod(assumedB);
  cache.forgetPod(assumedB);
  assert.equal(cache.getNodeInfo('n1')!.requested.milliCPU, 1000);
});

test('a confirmed pod that landed elsewhere moves to its real node', () => {
  const cache = new SchedulerCache(new FakeClock());
  cache.addNode(makeNode('n1'));
  cache.addNode(makeNode('n2'));
  const pod = makePod('a', { cpu: '1' });
  cache.assumePod({ ...pod, spec: { ...pod.spec!, nodeName: 'n1' } });
  cache.addPod({ ...pod, spec: { ...pod.spec!, nodeName: 'n2' } });
  assert.equal(cache.getNodeInfo('n1')!.pods.length, 0);
  assert.equal(cache.getNodeInfo('n2')!.pods.length, 1);
});

test('assumed pods expire a TTL after their binding finished, never before it finished', () => {
  const clock = new FakeClock();
  const cache = new SchedulerCache(clock, 30_000);
  cache.addNode(makeNode('n1'));
  const pod = makePod('a', { cpu: '1' });
  const assumed = { ...pod, spec: { ...pod.spec!, nodeName: 'n1' } };
  cache.assumePod(assumed);
  clock.step(60_000);
  assert.deepEqual(cache.cleanupAssumedPods(), [], 'binding not finished: kept');
  cache.finishBinding(assumed);
  clock.step(29_000);
  assert.equal(cache.cleanupAssumedPods().length, 0);
  clock.step(2_000);
  assert.equal(cache.cleanupAssumedPods().length, 1);
  assert.equal(cache.getNodeInfo('n1')!.requested.milliCPU, 0);
});

test('pods seen before their node wait on a node-less entry; removing a node keeps its pods counted', () => {
  const cache = new SchedulerCache(new FakeClock());
  cache.addPod(makePod('a', { nodeName: 'n1', cpu: '1' }));
  assert.equal(cache.nodeCount(), 0);
  cache.addNode(makeNode('n1'));
  assert.equal(cache.getNodeInfo('n1')!.requested.milliCPU, 1000);
  cache.removeNode(makeNode('n1'));
  assert.equal(cache.nodeCount(), 0);
  assert.equal(cache.getNodeInfo('n1')!.pods.length, 1);
});

test('the snapshot interleaves zones and tracks pods with affinity', () => {
  const cache = new SchedulerCache(new FakeClock());
  for (const [n, z] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b'], ['b2', 'b']]) cache.addNode(makeNode(n!, { labels: { 'topology.kubernetes.io/zone': z! } }));
  cache.addPod(makePod('p', { nodeName: 'b2', affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'x', labelSelector: {} }] } } }));
  const s = new Snapshot();
  s.update(cache);
  assert.deepEqual(s.list().map((n) => n.name), ['a1', 'b1', 'a2', 'b2']);
  assert.deepEqual(s.havePodsWithRequiredAntiAffinityList().map((n) => n.name), ['b2']);
  assert.deepEqual(s.havePodsWithAffinityList().map((n) => n.name), ['b2']);
});
