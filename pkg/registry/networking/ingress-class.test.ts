import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { ingressClassStrategy as s } from './ingress-class.js';

const ic = (spec: Record<string, unknown>): StoredObject => ({ metadata: { name: 'nginx', creationTimestamp: '2024-01-01T00:00:00Z' }, spec });

test('parameters default to Cluster scope', () => {
  const o = ic({ controller: 'k8s.io/ingress-nginx', parameters: { kind: 'P', name: 'p' } });
  s.defaults!(o);
  assert.equal(o.spec.parameters.scope, 'Cluster');
  assert.deepEqual(s.validate!(o), []);
});

test('controller is a domain-prefixed path and immutable; parameters by scope', () => {
  assert.deepEqual(s.validate!(ic({ controller: 'nginx' })).map(fieldErrorString), ['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']);
  assert.deepEqual(s.validate!(ic({})).map(fieldErrorString), ['spec.controller: Required value']);
  assert.deepEqual(s.validate!(ic({ controller: 'a.io/b', parameters: { kind: 'P', name: 'p', scope: 'Namespace' } })).map(fieldErrorString), [
    "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
  ]);
  assert.deepEqual(s.validate!(ic({ controller: 'a.io/b', parameters: { name: 'p', scope: 'Cluster', namespace: 'x' } })).map(fieldErrorString), [
    'spec.parameters.kind: Required value: kind is required',
    "spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'",
  ]);
  assert.deepEqual(s.validateUpdate!(ic({ controller: 'a.io/c' }), ic({ controller: 'a.io/b' })).map(fieldErrorString), ['spec.controller: Invalid value: "a.io/c": field is immutable']);
});

test('printer: CONTROLLER PARAMETERS AGE', () => {
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Controller', 'Parameters', 'Age']);
  const now = new Date('2024-01-01T00:00:01Z');
  assert.deepEqual(s.table!.row(ic({ controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p' } }), now), [
    'nginx',
    'k8s.io/ingress-nginx',
    'IngressParameters.k8s.example.com/p',
    '1s',
  ]);
  assert.equal(s.table!.row(ic({ controller: 'a.io/b' }), now)[2], '<none>');
});
