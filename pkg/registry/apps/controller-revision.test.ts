import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { controllerRevisionStrategy as s } from './controller-revision.js';

const rev = (extra: Record<string, unknown> = {}): StoredObject => ({
  metadata: {
    name: 'web-7d9f',
    namespace: 'default',
    creationTimestamp: '2024-01-01T00:00:00Z',
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true }],
  },
  data: { spec: {} },
  revision: 3,
  ...extra,
});

test('data is mandatory, revision not negative, data immutable', () => {
  assert.deepEqual(s.validate!(rev({ data: undefined, revision: -1 })).map(fieldErrorString), [
    'data: Required value: data is mandatory',
    'revision: Invalid value: -1: must be greater than or equal to 0',
  ]);
  assert.deepEqual(s.validateUpdate!(rev({ data: { x: 1 } }), rev()).map(fieldErrorString), ['data: Invalid value: {"x":1}: field is immutable']);
});

test('printer: CONTROLLER as kind.group/name, REVISION, AGE', () => {
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Controller', 'Revision', 'Age']);
  assert.deepEqual(s.table!.row(rev(), new Date('2024-01-01T00:05:00Z')), ['web-7d9f', 'statefulset.apps/web', 3, '5m']);
  const orphan = rev();
  orphan.metadata.ownerReferences = [];
  assert.equal(s.table!.row(orphan, new Date())[1], '<none>');
});
