/** The committed field-type table must match the installed client-node's generated models. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fieldTypesFromModels, fieldTypesTable, modelFields } from './field-types.js';

test('field-types.json matches the installed @kubernetes/client-node (regenerate with hack/gen-field-types.ts)', async () => {
  const version = (createRequire(import.meta.url)('@kubernetes/client-node/package.json') as { version: string }).version;
  const models = (await import('@kubernetes/client-node/dist/gen/models/all.js')) as Record<string, unknown>;
  const fresh = fieldTypesFromModels(models, version);
  assert.equal(fieldTypesTable().source, fresh.source);
  assert.deepEqual(Object.keys(fieldTypesTable().models), Object.keys(fresh.models));
  for (const [name, fields] of Object.entries(fresh.models)) assert.deepEqual(Object.entries(fieldTypesTable().models[name]!), Object.entries(fields), name);
});

test('modelFields looks up own models only', () => {
  assert.equal(modelFields('V1Deployment')?.spec, 'V1DeploymentSpec');
  assert.equal(modelFields('V1PodSpec')?.containers, 'Array<V1Container>');
  assert.equal(modelFields('V1ConfigMap')?.data, '{ [key: string]: string; }');
  assert.equal(modelFields('toString'), undefined);
  assert.equal(modelFields('NoSuchModel'), undefined);
});
