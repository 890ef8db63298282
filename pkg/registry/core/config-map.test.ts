import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configMapStrategy as s } from './config-map.js';
import { fieldErrorString } from '../../api/field-errors.js';
import type { StoredObject } from '../../api/types.js';

const cm = (fields: Record<string, unknown>): StoredObject => ({ metadata: { name: 'c', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' }, ...fields }) as StoredObject;
const errs = (o: StoredObject) => s.validate!(o).map(fieldErrorString);

test('config keys and sizes', () => {
  assert.deepEqual(errs(cm({ data: { 'a.b_c-D': 'x' }, binaryData: { bin: 'AAEC' } })), []);
  assert.deepEqual(errs(cm({ data: { 'a/b': 'x' } })), [
    `data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
  ]);
  assert.deepEqual(errs(cm({ data: { '..x': 'x' } })), [`data[..x]: Invalid value: "..x": must not start with '..'`]);
  assert.deepEqual(errs(cm({ data: { k: 'x' }, binaryData: { k: 'AA==' } })), ['data[k]: Invalid value: "k": duplicate of key present in binaryData']);
  assert.deepEqual(errs(cm({ data: { big: 'x'.repeat(1024 * 1024 + 1) } })), ['Too long: may not be more than 1048576 bytes']);
});

test('immutable ConfigMaps', () => {
  const old = cm({ immutable: true, data: { a: '1' } });
  assert.deepEqual(s.validateUpdate!(cm({ immutable: true, data: { a: '1' }, metadata: { labels: { x: 'y' } } }), old), []);
  assert.deepEqual(s.validateUpdate!(cm({ immutable: true, data: { a: '2' } }), old).map(fieldErrorString), ['data: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(s.validateUpdate!(cm({ data: { a: '1' } }), old).map(fieldErrorString), ['immutable: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(s.validateUpdate!(cm({ data: { a: '2' } }), cm({ data: { a: '1' } })), []);
});

test('printer counts data and binaryData', () => {
  assert.deepEqual(s.table!.row(cm({ data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), new Date('2024-05-01T12:00:00Z')), ['c', 3, '60m']);
  assert.deepEqual(s.table!.row(cm({}), new Date('2024-05-01T12:00:00Z'))[1], 0);
});
