import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types.js';
import { isPodAvailable, podsToDelete } from './pod-util.js';

const now = Date.parse('2024-01-01T01:00:00Z');
const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; readyMinutesAgo?: number; createdMinutesAgo?: number; restarts?: number; cost?: string } = {}): Pod {
  return {
    metadata: { name, uid: name, creationTimestamp: at(o.createdMinutesAgo ?? 30), ...(o.cost ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } } : {}) },
    spec: { containers: [], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: at(o.readyMinutesAgo ?? 20) }] : [],
      containerStatuses: o.restarts ? [{ name: 'c', restartCount: o.restarts, ready: !!o.ready, image: '', imageID: '' }] : [],
    },
  } as Pod;
}

const pick = (pods: Pod[], n: number) => podsToDelete(pods, pods, n, now).map((p) => p.metadata!.name);

test('deletion order: unscheduled, pending, not ready, lower cost, crowded node, recently ready, restarts, newest', () => {
  assert.deepEqual(pick([pod('scheduled', { node: 'n1', ready: true }), pod('unscheduled', { ready: true })], 1), ['unscheduled']);
  assert.deepEqual(pick([pod('running', { node: 'n1' }), pod('pending', { node: 'n1', phase: 'Pending' }), pod('unknown', { node: 'n1', phase: 'Unknown' })], 2), ['pending', 'unknown']);
  assert.deepEqual(pick([pod('ready', { node: 'n1', ready: true }), pod('notready', { node: 'n1' })], 1), ['notready']);
  assert.deepEqual(pick([pod('precious', { node: 'n1', ready: true, cost: '100' }), pod('cheap', { node: 'n1', ready: true, cost: '-5' })], 1), ['cheap']);
  assert.deepEqual(pick([pod('alone', { node: 'n1', ready: true }), pod('crowd1', { node: 'n2', ready: true }), pod('crowd2', { node: 'n2', ready: true })], 1).map((n) => n!.slice(0, 5)), ['crowd']);
  assert.deepEqual(pick([pod('long-ready', { node: 'n1', ready: true, readyMinutesAgo: 50 }), pod('just-ready', { node: 'n2', ready: true, readyMinutesAgo: 1 })], 1), ['just-ready']);
  assert.deepEqual(pick([pod('stable', { node: 'n1', ready: true }), pod('crashy', { node: 'n2', ready: true, restarts: 5 })], 1), ['crashy']);
  assert.deepEqual(pick([pod('old', { node: 'n1', createdMinutesAgo: 55 }), pod('new', { node: 'n2', createdMinutesAgo: 1 })], 1), ['new']);
  assert.equal(pick([pod('a'), pod('b')], 5).length, 2, 'asking for more than there are returns all');
});

test('a pod is available once ready for minReadySeconds', () => {
  const p = pod('p', { ready: true, readyMinutesAgo: 1 });
  assert.equal(isPodAvailable(p, 0, now), true);
  assert.equal(isPodAvailable(p, 30, now), true);
  assert.equal(isPodAvailable(p, 120, now), false);
  assert.equal(isPodAvailable(pod('q'), 0, now), false);
});
