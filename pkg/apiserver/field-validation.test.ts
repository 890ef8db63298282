/**
 * Server-side field validation against the kinds' field tables: unknown fields at every depth
 * (through lists, maps, int-or-string and free-form fields), duplicate keys, and the three modes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../registry/resources.js';
import type { ResourceDef } from '../registry/types.js';
import type { KubeObject } from '../api/types.js';
import { StatusError } from '../api/errors.js';
import { validateFields, duplicateFields, parseFieldValidation } from './field-validation.js';

const def = (group: string, kind: string): ResourceDef => {
  const d = builtinResources.find((r) => r.group === group && r.kind === kind);
  assert.ok(d, `${group}/${kind} is served`);
  return d;
};
const obj = (v: unknown): KubeObject => v as KubeObject;

test('a deployment with unknown fields nested in lists, int-or-string and maps', async () => {
  const d = obj({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { 'any-key': 'v' }, annotations: { x: 'y' }, bogusMeta: 1 },
    spec: {
      replicas: 1,
      strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1, extra: true } },
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'a', image: 'nginx', resources: { limits: { cpu: '1' } } },
            { name: 'b', imagee: 'x', ports: [{ containerPort: 80, hostPortt: 1 }], env: [{ name: 'E', valueFrom: { fieldRef: { fieldPath: 'x', nope: 1 } } }] },
          ],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
        },
      },
    },
  });
  const r = await validateFields(def('apps', 'Deployment'), d, 'Warn', undefined, '');
  assert.deepEqual(r.warnings, [
    'unknown field "metadata.bogusMeta"',
    'unknown field "spec.strategy.rollingUpdate.extra"',
    'unknown field "spec.template.spec.containers[1].imagee"',
    'unknown field "spec.template.spec.containers[1].ports[0].hostPortt"',
    'unknown field "spec.template.spec.containers[1].env[0].valueFrom.fieldRef.nope"',
  ]);
  const spec = (d as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }).spec;
  assert.equal(spec.template.spec.containers[1]!.imagee, undefined, 'unknown fields are dropped');
  assert.equal(spec.template.spec.containers[1]!.name, 'b', 'known fields stay');
});

test('map values are typed: unknown fields inside a map of objects are found', async () => {
  // ResourceQuota status.hard is a map of quantities (leaves); a ConfigMap's data is a map of strings.
  const cm = obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { anything: 'goes' }, binaryData: { b: 'AA==' } });
  assert.deepEqual((await validateFields(def('', 'ConfigMap'), cm, 'Strict', undefined, '')).warnings, []);
  const pod = obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { memory: '1Gi' }, claims: [{ name: 'x', what: 1 }] } }] }, status: { phase: 'Pending', podIPs: [{ ip: '1.2.3.4', zone: 'z' }] } });
  const r = await validateFields(def('', 'Pod'), pod, 'Warn', undefined, '');
  assert.deepEqual(r.warnings, ['unknown field "spec.containers[0].resources.claims[0].what"', 'unknown field "status.podIPs[0].zone"']);
});

test('Strict throws a 400 with every problem, Ignore drops silently, duplicates are reported', async () => {
  const raw = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","name":"b"},"bogus":1}';
  const strict = validateFields(def('', 'ConfigMap'), obj(JSON.parse(raw)), 'Strict', raw, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: ');
  await assert.rejects(strict, (e: unknown) => {
    assert.ok(e instanceof StatusError);
    assert.equal(e.status.code, 400);
    assert.equal(e.status.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "metadata.name", unknown field "bogus"');
    return true;
  });
  const ignored = obj(JSON.parse(raw));
  assert.deepEqual((await validateFields(def('', 'ConfigMap'), ignored, 'Ignore', raw, '')).warnings, []);
  assert.equal((ignored as unknown as Record<string, unknown>).bogus, undefined);
  assert.deepEqual(duplicateFields('{"a":{"b":[{"c":1,"c":2}]},"a":0}'), ['a.b[0].c', 'a']);
  assert.equal(parseFieldValidation(new URLSearchParams('')), 'Warn');
  assert.throws(() => parseFieldValidation(new URLSearchParams('fieldValidation=strict')), StatusError);
});

test('kinds served under both a group-prefixed and a plain model name (events) resolve', async () => {
  const core = await validateFields(def('', 'Event'), obj({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod' }, reason: 'R', note: 'x' }), 'Warn', undefined, '');
  assert.deepEqual(core.warnings, ['unknown field "note"'], 'core/v1 Event has no note field');
  const events = await validateFields(def('events.k8s.io', 'Event'), obj({ apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e' }, note: 'x', involvedObject: {} }), 'Warn', undefined, '');
  assert.deepEqual(events.warnings, ['unknown field "involvedObject"'], 'events.k8s.io/v1 Event has note and regarding instead');
});

test('duplicate keys: escaped keys compare decoded, values are never keys, whitespace before the colon', () => {
  // "\u0061" is "a": a duplicate of "a" once decoded.
  assert.deepEqual(duplicateFields('{"a":1,"\\u0061":2}'), ['a']);
  // A value equal to a key, and strings with escaped quotes, are not keys.
  assert.deepEqual(duplicateFields('{"k":"k","s":"x\\"k\\":","t":["k","k"]}'), []);
  assert.deepEqual(duplicateFields('{ "x" \n : 1 ,\t"x"\r\n:\n2 , "y": {"z" :1, "z":[{"q":1},{"q":2,"q":3}]}}'), ['x', 'y.z', 'y.z[1].q']);
  // Malformed text never throws.
  for (const bad of ['{"a', '{"a":"\\', '{"\\x":1,"\\x":2}', '[[[', '}}}"', '']) assert.ok(Array.isArray(duplicateFields(bad)));
  assert.deepEqual(duplicateFields('{"\\x":1,"\\x":2}'), ['\\x']);
});
