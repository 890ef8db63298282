import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { podDisruptionBudgetStrategy as s } from './pod-disruption-budget.js';

const pdb = (spec: Record<string, unknown>): StoredObject => ({ metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' }, spec });

test('an empty status with the four counters', () => {
  const p = pdb({ minAvailable: 1 });
  s.prepareForCreate!(p);
  assert.deepEqual(p.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
});

test('minAvailable and maxUnavailable are exclusive and int-or-percent', () => {
  assert.deepEqual(s.validate!(pdb({ minAvailable: '50%', selector: { matchLabels: { app: 'web' } } })), []);
  assert.deepEqual(s.validate!(pdb({ minAvailable: 1, maxUnavailable: '101%' })).map(fieldErrorString), [
    'spec: Invalid value: {"minAvailable":1,"maxUnavailable":"101%"}: minAvailable and maxUnavailable cannot be both set',
    'spec.maxUnavailable: Invalid value: "101%": must not be greater than 100%',
  ]);
  assert.deepEqual(s.validate!(pdb({ maxUnavailable: -1, unhealthyPodEvictionPolicy: 'Never' })).map(fieldErrorString), [
    'spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0',
    'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
  ]);
});

test('printer: MIN AVAILABLE, MAX UNAVAILABLE, ALLOWED DISRUPTIONS, AGE', () => {
  const p = pdb({ maxUnavailable: '25%' });
  p.status = { disruptionsAllowed: 2 };
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age']);
  assert.deepEqual(s.table!.row(p, new Date('2024-01-03T00:00:00Z')), ['web', 'N/A', '25%', 2, '2d']);
});
