import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { storageClassStrategy as s } from './storage-class.js';

const sc = (extra: Record<string, unknown>, annotations?: Record<string, string>): StoredObject => ({
  metadata: { name: 'local', creationTimestamp: '2024-01-01T00:00:00Z', ...(annotations ? { annotations } : {}) },
  ...extra,
});

function check(obj: StoredObject): string[] {
  s.defaults!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('defaults: Delete and Immediate', () => {
  const o = sc({ provisioner: 'rancher.io/local-path' });
  assert.deepEqual(check(o), []);
  assert.equal(o.reclaimPolicy, 'Delete');
  assert.equal(o.volumeBindingMode, 'Immediate');
});

test('provisioner required, policies known, topologies well formed', () => {
  assert.deepEqual(check(sc({})), ['provisioner: Required value']);
  assert.deepEqual(check(sc({ provisioner: 'x', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' })), [
    'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
    'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
  ]);
  const topo = sc({ provisioner: 'x', allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: [] }, { key: 'zone', values: ['a', 'a'] }] }] });
  assert.deepEqual(check(topo), [
    'allowedTopologies[0].matchLabelExpressions[0].values: Required value',
    'allowedTopologies[0].matchLabelExpressions[1].values[1]: Duplicate value: "a"',
    'allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: "zone"',
  ]);
});

test('parameters, provisioner, reclaimPolicy and binding mode are fixed', () => {
  const old = sc({ provisioner: 'x', parameters: { a: '1' }, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
  const next = sc({ provisioner: 'y', parameters: { a: '2' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' });
  assert.deepEqual(s.validateUpdate!(next, old).map(fieldErrorString), [
    'parameters: Forbidden: updates to parameters are forbidden.',
    'provisioner: Forbidden: updates to provisioner are forbidden.',
    'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
    'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
  ]);
  assert.deepEqual(s.validateUpdate!(sc({ ...old, allowVolumeExpansion: true }), old), []);
});

test('printer: the default class is marked; PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE', () => {
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']);
  const now = new Date('2024-01-01T00:00:02Z');
  const d = sc({ provisioner: 'rancher.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true }, { 'storageclass.kubernetes.io/is-default-class': 'true' });
  assert.deepEqual(s.table!.row(d, now), ['local (default)', 'rancher.io/local-path', 'Retain', 'WaitForFirstConsumer', true, '2s']);
  assert.deepEqual(s.table!.row(sc({ provisioner: 'x' }), now), ['local', 'x', 'Delete', 'Immediate', false, '2s']);
});
