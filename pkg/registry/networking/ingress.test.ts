import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { ingressStrategy as s } from './ingress.js';

const ing = (spec: Record<string, unknown>, annotations?: Record<string, string>): StoredObject => ({
  metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z', ...(annotations ? { annotations } : {}) },
  spec,
});
const backend = { service: { name: 'web', port: { number: 80 } } };

test('rules, paths, pathType and backends', () => {
  assert.deepEqual(s.validate!(ing({ rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] })), []);
  assert.deepEqual(s.validate!(ing({})).map(fieldErrorString), ['spec: Invalid value: null: either `defaultBackend` or `rules` must be specified']);
  const bad = ing({
    rules: [
      { host: '10.0.0.1', http: { paths: [{ path: '/a', backend }] } },
      { host: '*.example.com', http: { paths: [{ path: 'rel', pathType: 'Exact', backend: { service: { name: 'web', port: { name: 'http', number: 80 } } } }, { path: '/x/..', pathType: 'Prefix', backend: {} }] } },
      { http: { paths: [{ path: '/', pathType: 'Regex', backend: { service: { name: 'Web', port: {} } } }] } },
    ],
  });
  assert.deepEqual(s.validate!(bad).map(fieldErrorString), [
    'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
    'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    'spec.rules[1].http.paths[0].path: Invalid value: "rel": must be an absolute path',
    'spec.rules[1].http.paths[0].backend: Invalid value: "": cannot set both port name & port number',
    "spec.rules[1].http.paths[1].path: Invalid value: \"/x/..\": cannot end with '/..'",
    'spec.rules[1].http.paths[1].backend: Invalid value: "": resource or service backend is required',
    'spec.rules[2].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    `spec.rules[2].http.paths[0].backend.service.name: Invalid value: "Web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    'spec.rules[2].http.paths[0].backend: Required value: port name or number is required',
  ]);
});

test('the class annotation and ingressClassName must agree', () => {
  assert.deepEqual(s.validateCreate!(ing({ ingressClassName: 'nginx', defaultBackend: backend }, { 'kubernetes.io/ingress.class': 'traefik' })).map(fieldErrorString), [
    'annotations.kubernetes.io/ingress.class: Invalid value: "traefik": must match `ingressClassName` when both are specified',
  ]);
});

test('printer: CLASS HOSTS ADDRESS PORTS AGE', () => {
  const now = new Date('2024-01-01T00:00:05Z');
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
  const i = ing({ ingressClassName: 'nginx', tls: [{ hosts: ['a.example.com'] }], rules: ['a', 'b', 'c', 'd'].map((h) => ({ host: `${h}.example.com` })) });
  i.status = { loadBalancer: { ingress: [{ ip: '10.0.0.2' }, { hostname: 'lb.example.com' }, { ip: '10.0.0.1' }] } };
  assert.deepEqual(s.table!.row(i, now), ['web', 'nginx', 'a.example.com,b.example.com,c.example.com + 1 more...', '10.0.0.1,10.0.0.2,lb.example.com', '80, 443', '5s']);
  const plain = ing({ defaultBackend: backend, rules: [{ http: { paths: [] } }] });
  assert.deepEqual(s.table!.row(plain, now), ['web', '<none>', '*', '', '80', '5s']);
});
