import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { priorityClassStrategy as s } from './priority-class.js';

const pc = (name: string, extra: Record<string, unknown>): StoredObject => ({ metadata: { name, creationTimestamp: '2024-01-01T00:00:00Z' }, ...extra });

test('preemptionPolicy defaults to PreemptLowerPriority', () => {
  const o = pc('high', { value: 1000 });
  s.defaults!(o);
  assert.equal(o.preemptionPolicy, 'PreemptLowerPriority');
  assert.deepEqual(s.validate!(o), []);
});

test('value range and the system- prefix', () => {
  assert.deepEqual(s.validate!(pc('huge', { value: 1000000001 })).map(fieldErrorString), ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
  assert.deepEqual(s.validate!(pc('system-node-critical', { value: 2000001000 })), []);
  assert.deepEqual(s.validate!(pc('system-cluster-critical', { value: 5 })).map(fieldErrorString), [
    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000",
  ]);
  assert.deepEqual(s.validate!(pc('system-mine', { value: 5 })).map(fieldErrorString), [
    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
  ]);
  assert.deepEqual(s.validate!(pc('p', { value: 1, preemptionPolicy: 'Always' })).map(fieldErrorString), ['preemptionPolicy: Unsupported value: "Always": supported values: "Never", "PreemptLowerPriority"']);
});

test('value and preemptionPolicy are immutable', () => {
  const old = pc('p', { value: 1, preemptionPolicy: 'Never' });
  assert.deepEqual(s.validateUpdate!(pc('p', { value: 2, preemptionPolicy: 'PreemptLowerPriority' }), old).map(fieldErrorString), [
    'value: Forbidden: may not be changed in an update.',
    'preemptionPolicy: Invalid value: "PreemptLowerPriority": field is immutable',
  ]);
  assert.deepEqual(s.validateUpdate!(pc('p', { value: 1, preemptionPolicy: 'Never', description: 'x' }), old), []);
});

test('printer: VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY', () => {
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy']);
  assert.deepEqual(s.table!.row(pc('high', { value: 1000, globalDefault: true, preemptionPolicy: 'Never' }), new Date('2024-01-01T00:00:03Z')), ['high', 1000, true, '3s', 'Never']);
  assert.deepEqual(s.table!.row(pc('low', { value: -5 }), new Date('2024-01-01T00:00:03Z')), ['low', -5, false, '3s', '']);
});
