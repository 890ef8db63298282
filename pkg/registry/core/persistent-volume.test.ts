import { test } from 'node:test';
import assert from 'node:assert/strict';
import { persistentVolumeStrategy as pv } from './persistent-volume.js';
import { persistentVolumeClaimStrategy as pvc } from './persistent-volume-claim.js';
import { fieldErrorString } from '../../api/field-errors.js';
import type { StoredObject } from '../../api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const obj = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): StoredObject =>
  ({ metadata: { name: 'v', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' }, spec, ...extra }) as StoredObject;

test('PV defaults, status and validation', () => {
  const o = obj({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } });
  pv.defaults!(o);
  pv.prepareForCreate!(o);
  assert.deepEqual(pv.validate!(o), []);
  assert.equal(o.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(o.spec.volumeMode, 'Filesystem');
  assert.equal(o.spec.hostPath.type, '');
  assert.equal(o.status.phase, 'Pending');
  assert.match(o.status.lastPhaseTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const errs = (spec: Record<string, unknown>) => {
    const x = obj(spec);
    pv.defaults!(x);
    return pv.validate!(x).map(fieldErrorString);
  };
  assert.deepEqual(errs({}), ['spec.accessModes: Required value', 'spec.capacity: Required value', 'spec.capacity: Unsupported value: {}: supported values: "storage"', 'spec: Required value: must specify a volume type']);
  assert.deepEqual(errs({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany'], local: { path: '/mnt' } }), ['spec.nodeAffinity: Required value: Local volume requires node affinity']);
  assert.deepEqual(errs({ capacity: { storage: '1Gi' }, accessModes: ['Sometimes'], nfs: { server: 's', path: 'rel' } }), [
    'spec.accessModes: Unsupported value: "Sometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    'spec.nfs.path: Invalid value: "rel": must be an absolute path',
  ]);
});

test('PV source is immutable; printer', () => {
  const old = obj({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data', type: '' }, volumeMode: 'Filesystem', persistentVolumeReclaimPolicy: 'Retain' });
  const next = structuredClone(old);
  next.spec.hostPath.path = '/other';
  const errs = pv.validateUpdate!(next, old);
  assert.equal(errs.length, 1);
  assert.equal(errs[0]!.field, 'spec.persistentvolumesource');
  assert.ok(errs[0]!.detail!.startsWith('spec.persistentvolumesource is immutable after creation\n'));
  const bound = structuredClone(old);
  bound.spec.claimRef = { namespace: 'default', name: 'data' };
  bound.spec.storageClassName = 'standard';
  bound.status = { phase: 'Bound' };
  assert.deepEqual(pv.table!.row(bound, now), ['v', '1Gi', 'RWO', 'Retain', 'Bound', 'default/data', 'standard', '<unset>', '', '60m', 'Filesystem']);
});

test('PVC defaults, validation and immutability', () => {
  const o = obj({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1024Mi' } } });
  pvc.defaults!(o);
  pvc.prepareForCreate!(o);
  assert.deepEqual(pvc.validate!(o), []);
  assert.equal(o.spec.volumeMode, 'Filesystem');
  assert.equal(o.spec.resources.requests.storage, '1Gi');
  assert.deepEqual(o.status, { phase: 'Pending' });
  assert.deepEqual(pvc.validate!(obj({})).map(fieldErrorString), ['spec.accessModes: Required value: at least 1 access mode is required', 'spec.resources[storage]: Required value']);
  // The binder may set volumeName once; other spec changes are refused.
  const bind = structuredClone(o);
  bind.spec.volumeName = 'pv-1';
  assert.deepEqual(pvc.validateUpdate!(bind, o), []);
  const bad = structuredClone(o);
  bad.spec.accessModes = ['ReadWriteMany'];
  const errs = pvc.validateUpdate!(bad, o);
  assert.equal(errs[0]!.field, 'spec');
  assert.ok(errs[0]!.detail!.startsWith('spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n'));
  // A bound claim may grow.
  const boundOld = structuredClone(bind);
  boundOld.status = { phase: 'Bound', capacity: { storage: '1Gi' } };
  const grow = structuredClone(boundOld);
  grow.spec.resources.requests.storage = '2Gi';
  assert.deepEqual(pvc.validateUpdate!(grow, boundOld), []);
  const shrink = structuredClone(boundOld);
  shrink.spec.resources.requests.storage = '512Mi';
  assert.deepEqual(pvc.validateUpdate!(shrink, boundOld).map(fieldErrorString), ['spec.resources.requests.storage: Forbidden: field can not be less than status.capacity']);
});

test('PVC printer', () => {
  const pending = obj({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard', volumeMode: 'Filesystem' }, { status: { phase: 'Pending' } });
  assert.deepEqual(pvc.table!.row(pending, now), ['v', 'Pending', '', '', '', 'standard', '<unset>', '60m', 'Filesystem']);
  const bound = obj({ volumeName: 'pv-1', accessModes: ['ReadWriteOnce'] }, { status: { phase: 'Bound', accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], capacity: { storage: '5Gi' } } });
  assert.deepEqual(pvc.table!.row(bound, now).slice(1, 5), ['Bound', 'pv-1', '5Gi', 'RWO,ROX']);
});
