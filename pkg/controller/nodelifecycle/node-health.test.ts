import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease, Node, Pod } from '../../api/types.js';
import { FakeClock } from '../framework/clock.js';
import { NodeHealthTracker, desiredControllerTaints, reconcileTaints } from './node-health.js';
import { evictionTime } from './taint-eviction.js';

const node = (status: string): Node => ({
  metadata: { name: 'n1' },
  status: {
    conditions: [
      { type: 'Ready', status, reason: 'KubeletReady', lastHeartbeatTime: '2024-01-01T00:00:00Z' },
      { type: 'MemoryPressure', status: 'False' },
    ],
  },
});
const lease = (renewTime: string): Lease => ({ metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { renewTime } });

test('a node whose Lease keeps being renewed stays; a silent one goes Unknown after the grace period', () => {
  const clock = new FakeClock();
  const h = new NodeHealthTracker(clock, 40_000, 60_000);
  assert.equal(h.observe(node('True'), lease('t0')).conditions, undefined);
  clock.step(30_000);
  assert.equal(h.observe(node('True'), lease('t1')).conditions, undefined);
  clock.step(39_000);
  assert.equal(h.observe(node('True'), lease('t1')).conditions, undefined);
  clock.step(2_000);
  const v = h.observe(node('True'), lease('t1'));
  assert.deepEqual(
    v.conditions!.map((c) => [c.type, c.status, c.reason, c.message]),
    [
      ['Ready', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
      ['MemoryPressure', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
    ],
  );
  // Our own write is not a heartbeat; a renewal is.
  const posted: Node = { ...node('True'), status: { conditions: v.conditions } };
  assert.equal(h.observe(posted, lease('t1')).ready?.status, 'Unknown');
  assert.equal(h.observe(posted, lease('t2')).ready?.status, 'Unknown');
});

test('taints follow the Ready condition; other taints are kept', () => {
  assert.deepEqual(desiredControllerTaints(node('Unknown')), [
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
  ]);
  assert.deepEqual(desiredControllerTaints(node('False')).map((t) => `${t.key}:${t.effect}`), ['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
  const now = Date.parse('2024-01-01T00:01:00Z');
  const tainted = reconcileTaints([{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }], desiredControllerTaints(node('Unknown')), now)!;
  assert.deepEqual(tainted[2], { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-01-01T00:01:00Z' });
  assert.equal(reconcileTaints(tainted, desiredControllerTaints(node('Unknown')), now), undefined);
  assert.deepEqual(reconcileTaints(tainted, desiredControllerTaints(node('True')), now), [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
});

test('eviction: at once without a toleration, after tolerationSeconds from the taint, never when tolerated forever', () => {
  const now = Date.parse('2024-01-01T00:01:00Z');
  const taints = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-01-01T00:00:30Z' }];
  const pod = (tolerations: NonNullable<Pod['spec']>['tolerations']): Pod => ({ spec: { containers: [], tolerations } });
  assert.equal(evictionTime(pod([]), taints, now), now);
  assert.equal(evictionTime(pod([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]), taints, now), Date.parse('2024-01-01T00:05:30Z'));
  assert.equal(evictionTime(pod([{ operator: 'Exists' }]), taints, now), undefined);
  assert.equal(evictionTime(pod([{ key: 'other', operator: 'Exists' }]), taints, now), now);
  assert.equal(evictionTime(pod([]), [{ key: 'x', effect: 'NoSchedule' }], now), undefined);
});
