import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { replicaSetStrategy as s } from './replica-set.js';

function rs(spec: Record<string, unknown> = {}): StoredObject {
  return {
    metadata: { name: 'rs1', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: {
      selector: { matchLabels: { app: 'a' } },
      template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      ...spec,
    },
  };
}

function create(obj: StoredObject): string[] {
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('defaults replicas to 1 and starts with an empty status', () => {
  const r = rs();
  assert.deepEqual(create(r), []);
  assert.equal(r.spec.replicas, 1);
  assert.deepEqual(r.status, { replicas: 0 });
});

test('validation: selector/labels mismatch, activeDeadlineSeconds, replicas', () => {
  const r = rs({ replicas: -2 });
  r.spec.template.metadata.labels = { app: 'b' };
  r.spec.template.spec.activeDeadlineSeconds = 5;
  assert.deepEqual(create(r), [
    'spec.replicas: Invalid value: -2: must be greater than or equal to 0',
    'spec.template.metadata.labels: Invalid value: {"app":"b"}: `selector` does not match template `labels`',
    'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported',
  ]);
});

test('selector immutable on update', () => {
  const errs = s.validateUpdate!(rs({ selector: { matchLabels: { app: 'b' } } }), rs()).map(fieldErrorString);
  assert.deepEqual(errs, ['spec.selector: Invalid value: {"matchLabels":{"app":"b"}}: field is immutable']);
});

test('printer: DESIRED CURRENT READY AGE and wide columns', () => {
  const r = rs({ replicas: 3, selector: { matchLabels: { b: '2', a: '1' } } });
  r.status = { replicas: 2, readyReplicas: 1 };
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(s.table!.row(r, new Date('2024-01-01T03:00:00Z')), ['rs1', 3, 2, 1, '3h', 'c', 'busybox', 'a=1,b=2']);
});
