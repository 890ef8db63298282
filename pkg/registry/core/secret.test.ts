import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secretStrategy as s } from './secret.js';
import { fieldErrorString } from '../../api/field-errors.js';
import type { StoredObject } from '../../api/types.js';

const b64 = (v: string) => Buffer.from(v).toString('base64');
const secret = (fields: Record<string, unknown>): StoredObject => ({ metadata: { name: 's', namespace: 'default', creationTimestamp: '2024-05-01T11:59:00Z' }, ...fields }) as StoredObject;
const create = (o: StoredObject) => {
  s.defaults!(o);
  return s.validate!(o).map(fieldErrorString);
};

test('type defaults to Opaque and stringData merges into data', () => {
  const o = secret({ data: { a: b64('old'), b: b64('keep') }, stringData: { a: 'new', c: 'x' } });
  assert.deepEqual(create(o), []);
  assert.equal(o.type, 'Opaque');
  assert.equal(o.stringData, undefined);
  assert.deepEqual(o.data, { a: b64('new'), b: b64('keep'), c: b64('x') });
});

test('type-specific keys', () => {
  assert.deepEqual(create(secret({ type: 'kubernetes.io/tls', data: {} })), ['data[tls.crt]: Required value', 'data[tls.key]: Required value']);
  assert.deepEqual(create(secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c'), 'tls.key': b64('k') } })), []);
  assert.deepEqual(create(secret({ type: 'kubernetes.io/dockerconfigjson', data: {} })), ['data[.dockerconfigjson]: Required value']);
  assert.deepEqual(create(secret({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{"auths":{}}') } })), []);
  assert.deepEqual(create(secret({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('xyz') } })), [
    `data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character 'x' looking for beginning of value`,
  ]);
  assert.deepEqual(create(secret({ type: 'kubernetes.io/basic-auth' })), ['data[username]: Required value', 'data[password]: Required value']);
  assert.deepEqual(create(secret({ type: 'kubernetes.io/basic-auth', stringData: { username: 'u' } })), []);
  assert.deepEqual(create(secret({ type: 'kubernetes.io/ssh-auth' })), ['data[ssh-privatekey]: Required value']);
  assert.deepEqual(create(secret({ type: 'kubernetes.io/service-account-token' })), ['metadata.annotations[kubernetes.io/service-account.name]: Required value']);
  assert.deepEqual(create(secret({ type: 'example.com/custom', data: { 'bad key': b64('x') } })).length, 1);
});

test('data must be base64 and at most 1 MiB', () => {
  assert.deepEqual(create(secret({ data: { a: 'not base64!' } })), ['data[a]: Invalid value: "<secret contents redacted>": must be base64-encoded']);
  assert.deepEqual(create(secret({ stringData: { big: 'x'.repeat(1024 * 1024 + 1) } })), ['data: Too long: may not be more than 1048576 bytes']);
});

test('type and immutable data cannot change', () => {
  const old = secret({ type: 'Opaque', immutable: true, data: { a: b64('1') } });
  assert.deepEqual(s.validateUpdate!(secret({ type: 'kubernetes.io/tls', immutable: true, data: { a: b64('2') } }), old).map(fieldErrorString), [
    'type: Invalid value: "kubernetes.io/tls": field is immutable',
    'data: Forbidden: field is immutable when `immutable` is set',
  ]);
});

test('field selector and printer', () => {
  assert.deepEqual(s.selectableFields!({ metadata: {} } as StoredObject), { type: '' });
  const o = secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } });
  assert.deepEqual(s.table!.row(o, new Date('2024-05-01T12:00:00Z')), ['s', 'kubernetes.io/tls', 2, '60s']);
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Type', 'Data', 'Age']);
});
