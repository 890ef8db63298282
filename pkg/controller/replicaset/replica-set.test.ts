import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types.js';
import { calculateStatus, slowStartBatch, type ReplicaSetLike } from './replica-set.js';

test('slow start creates in batches of 1, 2, 4, … and stops after the first failing batch', async () => {
  let calls = 0;
  const ok = await slowStartBatch(10, 1, async () => {
    calls++;
  });
  assert.deepEqual(ok, { successes: 10 });
  assert.equal(calls, 10);

  calls = 0;
  const r = await slowStartBatch(20, 1, async () => {
    const n = ++calls;
    await Promise.resolve();
    if (n === 5) throw new Error('quota exceeded');
  });
  // Batches 1, 2 succeed (3 calls); the batch of 4 has the failure; nothing after it runs.
  assert.equal(calls, 7);
  assert.equal(r.successes, 6);
  assert.match(String(r.error), /quota exceeded/);
});

test('status counts fully labeled, ready and available pods, and carries ReplicaFailure while managing fails', () => {
  const now = Date.parse('2024-01-01T00:10:00Z');
  const pod = (labels: Record<string, string>, readySince?: string) =>
    ({ metadata: { labels }, status: { phase: 'Running', conditions: readySince ? [{ type: 'Ready', status: 'True', lastTransitionTime: readySince }] : [] } }) as Pod;
  const rs = { metadata: { name: 'web', generation: 2 }, spec: { replicas: 4, minReadySeconds: 60, template: { metadata: { labels: { app: 'web', tier: 'fe' } } } }, status: { replicas: 1 } } as ReplicaSetLike;
  const pods = [pod({ app: 'web', tier: 'fe' }, '2024-01-01T00:00:00Z'), pod({ app: 'web', tier: 'fe' }, '2024-01-01T00:09:30Z'), pod({ app: 'web' })];
  const failed = calculateStatus(rs, pods, new Error('pods "web-x" is forbidden: exceeded quota'), now);
  assert.deepEqual(
    { ...failed, conditions: undefined },
    { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, conditions: undefined },
  );
  assert.deepEqual(failed.conditions, [{ type: 'ReplicaFailure', status: 'True', lastTransitionTime: '2024-01-01T00:10:00Z', reason: 'FailedCreate', message: 'pods "web-x" is forbidden: exceeded quota' }]);
  const recovered = calculateStatus({ ...rs, status: failed }, pods, undefined, now);
  assert.equal(recovered.conditions, undefined, 'the condition goes once managing works again');
});
