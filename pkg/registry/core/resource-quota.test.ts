import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceQuotaStrategy as rq } from './resource-quota.js';
import { limitRangeStrategy as lr } from './limit-range.js';
import { fieldErrorString } from '../../api/field-errors.js';
import type { StoredObject } from '../../api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const obj = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): StoredObject =>
  ({ metadata: { name: 'q', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' }, spec, ...extra }) as StoredObject;

test('resource quota validation', () => {
  const errs = (spec: Record<string, unknown>) => {
    const o = obj(spec);
    rq.defaults!(o);
    rq.prepareForCreate!(o);
    return rq.validate!(o).map(fieldErrorString);
  };
  assert.deepEqual(errs({ hard: { pods: '10', 'requests.cpu': '4', 'limits.memory': '8Gi', 'count/deployments.apps': '5' } }), []);
  assert.deepEqual(errs({ hard: { pods: '1.5' } }), ['spec.hard[pods]: Invalid value: "1500m": must be an integer']);
  assert.deepEqual(errs({ hard: { gpus: '1' } }), [
    'spec.hard[gpus]: Invalid value: "gpus": must be a standard resource type or fully qualified',
    'spec.hard[gpus]: Invalid value: "gpus": must be a standard resource for quota',
  ]);
  assert.deepEqual(errs({ hard: { cpu: '-1' } }), ['spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0']);
  assert.deepEqual(errs({ hard: { pods: '1' }, scopes: ['BestEffort', 'NotBestEffort'] }), ['spec.scopes: Invalid value: ["BestEffort","NotBestEffort"]: conflicting scopes']);
  assert.deepEqual(errs({ hard: { cpu: '1' }, scopes: ['BestEffort'] }), ['spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource']);
  assert.deepEqual(rq.validateUpdate!(obj({ scopes: ['Terminating'] }), obj({})).map(fieldErrorString), ['spec.scopes: Invalid value: ["Terminating"]: field is immutable']);
});

test('resource quota status and printer', () => {
  const o = obj({ hard: { pods: '10' } });
  rq.prepareForCreate!(o);
  assert.deepEqual(o.status, {});
  o.status = { hard: { 'limits.cpu': '2', 'requests.cpu': '1', pods: '10', 'limits.memory': '1Gi' }, used: { pods: '3', 'requests.cpu': '500m' } };
  assert.deepEqual(rq.table!.row(o, now), ['q', '60m', 'pods: 3/10, requests.cpu: 500m/1', 'limits.cpu: 0/2, limits.memory: 0/1Gi']);
  assert.deepEqual(rq.table!.columns.map((c) => c.name), ['Name', 'Age', 'Request', 'Limit']);
});

test('limit range defaults and validation', () => {
  const o = obj({ limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { memory: '256Mi' } }] });
  lr.defaults!(o);
  assert.deepEqual(o.spec.limits[0].default, { memory: '256Mi', cpu: '2' });
  assert.deepEqual(o.spec.limits[0].defaultRequest, { memory: '256Mi', cpu: '2' });
  assert.deepEqual(lr.validate!(o), []);
  const errs = (limits: unknown[]) => lr.validate!(obj({ limits })).map(fieldErrorString);
  assert.deepEqual(errs([{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }]), ['spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1']);
  assert.deepEqual(errs([{ type: 'Pod', default: { cpu: '1' } }]), ["spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"]);
  assert.deepEqual(errs([{ type: 'Widget' }]), ['spec.limits[0].type: Invalid value: "Widget": must be a standard limit type or fully qualified']);
  assert.deepEqual(errs([{ type: 'PersistentVolumeClaim' }]), ['spec.limits[0].limits: Required value: either minimum or maximum storage value is required, but neither was provided']);
  assert.deepEqual(errs([{ type: 'Container', maxLimitRequestRatio: { cpu: '0.5' } }]), ['spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1']);
  assert.deepEqual(errs([{ type: 'Container' }, { type: 'Container' }]), ['spec.limits[1].type: Duplicate value: "Container"']);
  assert.deepEqual(lr.table!.row(o, now), ['q', '2024-05-01T11:00:00Z']);
  assert.deepEqual(lr.table!.columns.map((c) => `${c.name}/${c.type}`), ['Name/string', 'Created At/date']);
});
