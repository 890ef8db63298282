import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { statefulSetStrategy as s } from './stateful-set.js';

function sts(spec: Record<string, unknown> = {}): StoredObject {
  return {
    metadata: { name: 'db', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: {
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'pg', image: 'postgres' }] } },
      ...spec,
    },
  };
}

function create(obj: StoredObject): string[] {
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('defaults: replicas, OrderedReady, RollingUpdate partition 0, history, PVC retention, claim templates', () => {
  const o = sts({ volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] });
  assert.deepEqual(create(o), []);
  assert.equal(o.spec.replicas, 1);
  assert.equal(o.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(o.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.equal(o.spec.revisionHistoryLimit, 10);
  assert.deepEqual(o.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.deepEqual(o.spec.volumeClaimTemplates[0], {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data' },
    spec: { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' },
    status: { phase: 'Pending' },
  });
  assert.deepEqual(o.status, { replicas: 0, availableReplicas: 0 });
});

test('an OnDelete strategy keeps no rolling update', () => {
  const o = sts({ updateStrategy: { type: 'OnDelete' } });
  assert.deepEqual(create(o), []);
  assert.deepEqual(o.spec.updateStrategy, { type: 'OnDelete' });
});

test('validation messages', () => {
  const o = sts({ podManagementPolicy: 'Sometimes', selector: {}, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1, maxUnavailable: 0 } } });
  assert.deepEqual(create(o), [
    "spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel'",
    'spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0',
    'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0',
    'spec.selector: Invalid value: {}: empty selector is invalid for statefulset',
  ]);
  assert.deepEqual(create(sts({ selector: undefined })), ['spec.selector: Required value']);
});

test('updates may change only replicas, template, strategies, retention and ordinals', () => {
  const old = sts();
  create(old);
  const ok = structuredClone(old);
  ok.spec.replicas = 5;
  ok.spec.template.spec.containers[0].image = 'postgres:16';
  assert.deepEqual(s.validateUpdate!(ok, old), []);
  const bad = structuredClone(old);
  bad.spec.serviceName = 'other';
  assert.deepEqual(s.validateUpdate!(bad, old).map(fieldErrorString), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
});

test('printer: READY ready/desired, AGE, wide CONTAINERS IMAGES', () => {
  const o = sts({ replicas: 3 });
  o.status = { readyReplicas: 1 };
  assert.deepEqual(s.table!.columns.map((c) => `${c.name}:${c.priority}`), ['Name:0', 'Ready:0', 'Age:0', 'Containers:1', 'Images:1']);
  assert.deepEqual(s.table!.row(o, new Date('2024-01-02T00:00:00Z')), ['db', '1/3', '24h', 'pg', 'postgres']);
});
