import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job, Pod } from '../../api/types.js';
import { backoffDelayMs, formatIndexes, matchPodFailurePolicy, parseIndexes } from './job-utils.js';

test('backoff: 10s doubling, capped at 6 minutes', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelayMs(n)), [0, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 360_000, 360_000]);
});

test('completed indexes round-trip as intervals', () => {
  assert.equal(formatIndexes([5, 1, 2, 3, 7, 8]), '1-3,5,7-8');
  assert.deepEqual([...parseIndexes('1-3,5,7-8', 8)], [1, 2, 3, 5, 7]);
  assert.equal(formatIndexes([]), '');
});

test('pod failure policy: the first matching rule wins; exit code 0 never matches', () => {
  const job = {
    spec: {
      podFailurePolicy: {
        rules: [
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
          { action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [1] } },
        ],
      },
    },
  } as unknown as Job;
  const pod = (code: number, conditions: unknown[] = []) => ({ metadata: { namespace: 'ns', name: 'p' }, status: { phase: 'Failed', conditions, containerStatuses: [{ name: 'c', state: { terminated: { exitCode: code } } }] } }) as unknown as Pod;
  assert.equal(matchPodFailurePolicy(job, pod(2)).action, 'FailJob');
  assert.equal(matchPodFailurePolicy(job, pod(2)).message, 'Container c for pod ns/p failed with exit code 2 matching FailJob rule at index 1');
  assert.equal(matchPodFailurePolicy(job, pod(1)).action, undefined);
  assert.equal(matchPodFailurePolicy(job, pod(0)).action, undefined);
  assert.equal(matchPodFailurePolicy(job, pod(2, [{ type: 'DisruptionTarget', status: 'True' }])).action, 'Ignore');
});
