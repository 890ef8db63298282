import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types.js';
import { terminatedPodsToDelete } from './gc-controller.js';

const pod = (name: string, phase: string, created: string): Pod => ({ metadata: { name, creationTimestamp: created }, status: { phase } });

test('the oldest terminated pods beyond the threshold go; running ones never', () => {
  const pods = [pod('new', 'Succeeded', '2024-01-03T00:00:00Z'), pod('old', 'Failed', '2024-01-01T00:00:00Z'), pod('mid', 'Succeeded', '2024-01-02T00:00:00Z'), pod('run', 'Running', '2023-01-01T00:00:00Z')];
  assert.deepEqual(terminatedPodsToDelete(pods, 1).map((p) => p.metadata!.name), ['old', 'mid']);
  assert.deepEqual(terminatedPodsToDelete(pods, 3), []);
  assert.deepEqual(terminatedPodsToDelete(pods, 0), []);
});
