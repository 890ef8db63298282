import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { leaseStrategy as s } from './lease.js';

const lease = (spec: Record<string, unknown>): StoredObject => ({ metadata: { name: 'kube-scheduler', namespace: 'kube-system', creationTimestamp: '2024-01-01T00:00:00Z' }, spec });

test('lease fields', () => {
  assert.deepEqual(s.validate!(lease({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 })), []);
  assert.deepEqual(s.validate!(lease({ leaseDurationSeconds: 0, leaseTransitions: -1, preferredHolder: 'b' })).map(fieldErrorString), [
    'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
    'spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined',
  ]);
  assert.deepEqual(s.validate!(lease({ strategy: 'Newest' })).map(fieldErrorString), ['spec.strategy: Unsupported value: "Newest": supported values: "OldestEmulationVersion"']);
  assert.deepEqual(s.validate!(lease({ strategy: 'example.com/mine', preferredHolder: 'b' })), []);
});

test('printer: HOLDER and AGE', () => {
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Holder', 'Age']);
  assert.deepEqual(s.table!.row(lease({ holderIdentity: 'node-1_abc' }), new Date('2024-01-01T00:00:07Z')), ['kube-scheduler', 'node-1_abc', '7s']);
  assert.deepEqual(s.table!.row(lease({}), new Date('2024-01-01T00:00:07Z'))[1], '');
});
