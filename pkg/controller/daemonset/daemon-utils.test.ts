import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonSet, Node } from '../../api/types.js';
import { nodeShouldRunDaemonPod, targetNodeName, templateForNode, toleratesTaint } from './daemon-utils.js';

const node = (name: string, labels: Record<string, string>, taints: unknown[] = []) => ({ metadata: { name, labels }, spec: { taints } }) as unknown as Node;
const ds = (spec: Record<string, unknown>) => ({ spec: { template: { spec: { containers: [], ...spec } } } }) as unknown as DaemonSet;

test('nodeSelector and required node affinity decide eligibility', () => {
  const d = ds({ nodeSelector: { role: 'w' }, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } } });
  assert.equal(nodeShouldRunDaemonPod(node('n', { role: 'w', zone: 'a' }), d).shouldRun, true);
  assert.equal(nodeShouldRunDaemonPod(node('n', { role: 'w', zone: 'b' }), d).shouldRun, false);
  assert.equal(nodeShouldRunDaemonPod(node('n', { zone: 'a' }), d).shouldRun, false);
});

test('taints: NoSchedule stops new pods only, NoExecute both; default tolerations apply', () => {
  const d = ds({});
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'x', effect: 'NoSchedule' }]), d), { shouldRun: false, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'x', effect: 'NoExecute' }]), d), { shouldRun: false, shouldContinueRunning: false });
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }]), d), { shouldRun: true, shouldContinueRunning: true });
  // network-unavailable only for hostNetwork pods.
  const nu = node('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]);
  assert.equal(nodeShouldRunDaemonPod(nu, d).shouldRun, false);
  assert.equal(nodeShouldRunDaemonPod(nu, ds({ hostNetwork: true })).shouldRun, true);
  assert.equal(toleratesTaint({ operator: 'Exists' }, { key: 'any', effect: 'NoExecute' }), true);
  assert.equal(toleratesTaint({ key: 'k', value: 'v' }, { key: 'k', value: 'w', effect: 'NoSchedule' }), false);
});

test('pods target their node through a metadata.name affinity', () => {
  const t = templateForNode({ spec: { containers: [] } }, 'n7');
  assert.equal(targetNodeName({ spec: t.spec }), 'n7');
  assert.equal(t.spec!.tolerations!.length, 6);
});
