import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicationControllerStrategy as s } from './replication-controller.js';
import { fieldErrorString } from '../../api/field-errors.js';
import type { StoredObject } from '../../api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const rc = (spec: Record<string, unknown>): StoredObject => ({ metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-05-01T11:58:00Z' }, spec }) as StoredObject;
const template = (labels: Record<string, string>, spec: Record<string, unknown> = {}) => ({ metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }], ...spec } });

test('selector and labels come from the template; replicas default to 1', () => {
  const o = rc({ template: template({ app: 'web' }) });
  s.defaults!(o);
  s.prepareForCreate!(o);
  assert.deepEqual(s.validate!(o), []);
  assert.deepEqual(o.spec.selector, { app: 'web' });
  assert.deepEqual(o.metadata.labels, { app: 'web' });
  assert.equal(o.spec.replicas, 1);
  assert.equal(o.spec.template.spec.restartPolicy, 'Always');
  assert.equal(o.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.equal(o.spec.template.spec.enableServiceLinks, undefined, 'templates do not get pod-only defaults');
  assert.deepEqual(o.status, { replicas: 0 });
});

test('validation', () => {
  const errs = (spec: Record<string, unknown>) => {
    const o = rc(spec);
    s.defaults!(o);
    return s.validate!(o).map(fieldErrorString);
  };
  assert.deepEqual(errs({ selector: { app: 'x' }, template: template({ app: 'web' }) }), ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']);
  assert.deepEqual(errs({ replicas: -1, template: template({ app: 'web' }) }), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
  assert.deepEqual(errs({ template: template({ app: 'web' }, { restartPolicy: 'Never' }) }), ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
  assert.deepEqual(errs({ template: template({ app: 'web' }, { containers: [] }) }), ['spec.template.spec.containers: Required value']);
  assert.deepEqual(errs({}), ['spec.selector: Required value', 'spec.template: Required value']);
  assert.deepEqual(s.validateStatusUpdate!({ metadata: {}, status: { replicas: 1, readyReplicas: 2 } } as StoredObject, rc({})).map(fieldErrorString), [
    'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
  ]);
});

test('field selector and printer', () => {
  assert.deepEqual(s.selectableFields!({ metadata: {} } as StoredObject), { 'status.replicas': '0' });
  const o = rc({ template: template({ app: 'web' }) });
  s.defaults!(o);
  o.status = { replicas: 3, readyReplicas: 2 };
  o.spec.replicas = 3;
  assert.deepEqual(s.table!.row(o, now), ['web', 3, 3, 2, '2m', 'web', 'nginx:1.25', 'app=web']);
  assert.deepEqual(s.selectableFields!(o), { 'status.replicas': '3' });
});
