/** Unknown-field detection for `fieldValidation=Strict`, from the served schema. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unknownFields, strictDecodingMessage } from './field-validation.js';

const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };

test('a valid object has no unknown fields', () => {
  const obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, annotations: { a: 'b' }, managedFields: [{ manager: 'x', fieldsV1: { 'f:spec': {} } }] },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', resources: { limits: { cpu: '1' } }, ports: [{ containerPort: 80 }] }] } },
    },
    status: { replicas: 1 },
  };
  assert.deepEqual(unknownFields(deployment, obj), []);
});

test('unknown fields are reported with their paths', () => {
  const obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', bogus: 1 },
    spec: { replicaz: 2, template: { spec: { containers: [{ name: 'a' }, { name: 'b', imag: 'nginx' }] } } },
  };
  const fields = unknownFields(deployment, obj)!;
  assert.deepEqual(fields, ['metadata.bogus', 'spec.replicaz', 'spec.template.spec.containers[1].imag']);
  assert.equal(
    strictDecodingMessage(deployment, ['spec.replicaz']),
    'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz"',
  );
});

test('kinds without a schema answer undefined; free-form fields take anything', () => {
  assert.equal(unknownFields({ group: 'example.com', version: 'v1', kind: 'Widget' }, {}), undefined);
  const crd = { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' };
  const obj = { spec: { versions: [{ name: 'v1', schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }] } };
  assert.deepEqual(unknownFields(crd, obj), []);
});
