import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitErrorMessage, newDiagnosis, Status } from './status.js';

test('the FitError message counts reasons, sorts them as Go does, and appends the PostFilter message', () => {
  const d = newDiagnosis();
  d.nodeToStatus.set('a', Status.unschedulable('Insufficient cpu'));
  d.nodeToStatus.set('b', Status.unresolvable('node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }'));
  d.nodeToStatus.set('c', Status.unresolvable('node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }'));
  d.postFilterMsg = 'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.';
  assert.equal(
    fitErrorMessage(3, d),
    '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
  );
});

test('nodes without a status of their own count under the absent status', () => {
  const d = newDiagnosis();
  d.nodeToStatus.set('a', Status.unschedulable('No preemption victims found for incoming pod'));
  d.nodeToStatus.absentStatus = Status.unresolvable('Preemption is not helpful for scheduling');
  assert.equal(fitErrorMessage(3, d), '0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.');
});

test('a PreFilter rejection replaces the per-node reasons', () => {
  const d = newDiagnosis();
  d.preFilterMsg = 'pod has unbound immediate PersistentVolumeClaims';
  d.nodeToStatus.absentStatus = Status.unresolvable(d.preFilterMsg);
  d.postFilterMsg = 'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.';
  assert.equal(fitErrorMessage(2, d), '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
});

test('reasons are sorted by bytes, count included (10 sorts before 2)', () => {
  const d = newDiagnosis();
  for (let i = 0; i < 10; i++) d.nodeToStatus.set(`x${i}`, Status.unschedulable('b'));
  d.nodeToStatus.set('y1', Status.unschedulable('a'));
  d.nodeToStatus.set('y2', Status.unschedulable('a'));
  assert.equal(fitErrorMessage(12, d), '0/12 nodes are available: 10 b, 2 a.');
});

test('one node can report several reasons', () => {
  const d = newDiagnosis();
  d.nodeToStatus.set('a', Status.unschedulable('Insufficient cpu', 'Insufficient memory'));
  assert.equal(fitErrorMessage(1, d), '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.');
});
