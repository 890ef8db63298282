import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, makeNode, makePod, nodeInfos } from '../testing/fake.js';
import { NodeName } from './node-name.js';
import { NodePorts } from './node-ports.js';
import { NodeUnschedulable } from './node-unschedulable.js';
import { PrioritySort } from './priority-sort.js';
import { newQueuedPodInfo } from '../framework/types.js';

test('NodeUnschedulable: cordoned nodes only take pods tolerating the unschedulable taint', () => {
  const nis = nodeInfos([makeNode('cordoned', { unschedulable: true }), makeNode('open')]);
  assert.deepEqual(filterEach(new NodeUnschedulable(), makePod('p'), nis), { cordoned: 'UnschedulableAndUnresolvable: node(s) were unschedulable', open: 'ok' });
  const tolerant = makePod('t', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
  assert.equal(filterEach(new NodeUnschedulable(), tolerant, nis).cordoned, 'ok');
});

test('NodeName: a pod naming a node fits only that node', () => {
  const nis = nodeInfos([makeNode('a'), makeNode('b')]);
  assert.deepEqual(filterEach(new NodeName(), makePod('p', { nodeName: 'a' }), nis), { a: 'ok', b: "UnschedulableAndUnresolvable: node(s) didn't match the requested node name" });
});

test('NodePorts: a used host port (same protocol, overlapping IP) rejects', () => {
  const existing = makePod('e', { nodeName: 'a', hostPorts: [8080] });
  const nis = nodeInfos([makeNode('a'), makeNode('b')], [existing]);
  assert.deepEqual(filterEach(new NodePorts(), makePod('p', { hostPorts: [8080] }), nis), { a: "Unschedulable: node(s) didn't have free ports for the requested pod ports", b: 'ok' });
  assert.deepEqual(filterEach(new NodePorts(), makePod('q', { hostPorts: [9090] }), nis), { a: 'ok', b: 'ok' });
  const udp = makePod('u');
  udp.spec!.containers[0]!.ports = [{ containerPort: 8080, hostPort: 8080, protocol: 'UDP' }];
  assert.equal(filterEach(new NodePorts(), udp, nis).a, 'ok');
  const specific = makePod('s');
  specific.spec!.containers[0]!.ports = [{ containerPort: 8080, hostPort: 8080, hostIP: '10.0.0.1' }];
  assert.equal(filterEach(new NodePorts(), specific, nis).a, "Unschedulable: node(s) didn't have free ports for the requested pod ports", '0.0.0.0 covers every IP');
});

test('PrioritySort: higher priority first, then older', () => {
  const s = new PrioritySort();
  const hi = newQueuedPodInfo(makePod('hi', { priority: 100 }), 2);
  const lo = newQueuedPodInfo(makePod('lo', { priority: 1 }), 1);
  const lo2 = newQueuedPodInfo(makePod('lo2', { priority: 1 }), 3);
  assert.ok(s.less(hi, lo));
  assert.ok(s.less(lo, lo2));
  assert.ok(!s.less(lo2, lo));
});
