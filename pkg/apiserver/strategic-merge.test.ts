/**
 * Strategic merge patch against upstream's documented cases (apimachinery
 * pkg/util/strategicpatch/patch_test.go, with its MergeItem test schema), then against the real
 * Kubernetes schema for the lists kubectl patches every day.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { applyStrategicMergePatch, strategicMergePatch } from './strategic-merge.js';
import { PatchSchema } from '../openapi/patch-meta.js';
import type { SchemaObject } from '../openapi/upstream-spec.js';
import { StatusError } from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import { deploymentResource } from '../registry/apps/deployment.js';
import { serviceResource } from '../registry/core/service.js';
import { podResource } from '../registry/core/pod.js';
import type { ResourceDef } from '../registry/types.js';

// Upstream's MergeItem test type, as an OpenAPI schema (testdata/swagger-merge-item.json).
const ref = (n: string) => ({ $ref: `#/components/schemas/${n}` });
const mergeItemSchemas: Record<string, SchemaObject> = {
  mergeItem: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      value: { type: 'string' },
      other: { type: 'string' },
      mergingList: { type: 'array', items: ref('mergeItem'), 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
      nonMergingList: { type: 'array', items: ref('mergeItem') },
      mergingIntList: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-patch-strategy': 'merge' },
      nonMergingIntList: { type: 'array', items: { type: 'integer' } },
      mergeItemPtr: { type: 'array', items: ref('mergeItem'), 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
      simpleMap: { type: 'object', additionalProperties: { type: 'string' } },
      replacingItem: { type: 'object', 'x-kubernetes-patch-strategy': 'replace' },
      retainKeysMap: { ...ref('retainKeysMergeItem'), 'x-kubernetes-patch-strategy': 'retainKeys' },
      retainKeysMergingList: { type: 'array', items: ref('mergeItem'), 'x-kubernetes-patch-strategy': 'merge,retainKeys', 'x-kubernetes-patch-merge-key': 'name' },
    },
  },
  retainKeysMergeItem: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      value: { type: 'string' },
      other: { type: 'string' },
      simpleMap: { type: 'object', additionalProperties: { type: 'string' } },
      mergingIntList: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-patch-strategy': 'merge' },
      mergingList: { type: 'array', items: ref('mergeItem'), 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
      nonMergingList: { type: 'array', items: ref('mergeItem') },
    },
  },
};
const mergeItem = PatchSchema.fromDefinitions(mergeItemSchemas, 'mergeItem');

const y = (s: string): Record<string, unknown> => (YAML.parse(s) ?? {}) as Record<string, unknown>;

interface Case {
  description: string;
  original: string;
  patch: string;
  result?: string;
  error?: { code: number; contains: string };
}

function check(c: Case): void {
  if (c.error) {
    assert.throws(
      () => applyStrategicMergePatch(y(c.original), y(c.patch), mergeItem),
      (e: unknown) => e instanceof StatusError && e.code === c.error!.code && String(e.status.message).includes(c.error!.contains),
      c.description,
    );
    return;
  }
  assert.deepEqual(applyStrategicMergePatch(y(c.original), y(c.patch), mergeItem), y(c.result!), c.description);
}

// Patches applied to the original ("twoWay" in upstream's tables) or to the live object
// ("threeWay" applied to "current").
const upstreamCases: Case[] = [
  { description: 'unique scalars when merging lists', original: 'mergingIntList: [1, 2]', patch: 'mergingIntList: [2, 3]', result: 'mergingIntList: [1, 2, 3]' },
  { description: 'delete map from nested map', original: 'simpleMap: {key1: "1", key2: "1"}', patch: 'simpleMap: {$patch: delete}', result: 'simpleMap: {}' },
  { description: 'delete all items from merging list', original: 'mergingList: [{name: "1"}, {name: "2"}]', patch: 'mergingList: [{$patch: replace}]', result: 'mergingList: []' },
  { description: 'merge empty merging lists', original: 'mergingList: []', patch: 'mergingList: []', result: 'mergingList: []' },
  { description: 'delete all keys from map', original: 'name: "1"\nvalue: "1"', patch: '$patch: replace', result: '{}' },
  { description: 'add key and delete all keys from map', original: 'name: "1"\nvalue: "1"', patch: 'other: a\n$patch: replace', result: 'other: a' },
  {
    description: 'delete all duplicate entries in a merging list',
    original: 'mergingList: [{name: "1"}, {name: "1"}, {name: "2", value: a}, {name: "3"}, {name: "3"}]',
    patch: 'mergingList: [{name: "1", $patch: delete}, {name: "3", $patch: delete}]',
    result: 'mergingList: [{name: "2", value: a}]',
  },
  { description: 'add field to map', original: 'name: "1"\nother: a', patch: 'value: "1"', result: 'name: "1"\nvalue: "1"\nother: a' },
  { description: 'null deletes a field, and an unmatched null is ignored', original: 'name: "1"\nother: a', patch: 'name: null\nvalue: "1"\nmissing: null', result: 'value: "1"\nother: a' },
  { description: 'delete field from nested map', original: 'simpleMap: {key1: "1", key2: "1", other: a}', patch: 'simpleMap: {key2: null}', result: 'simpleMap: {key1: "1", other: a}' },
  { description: 'replace list of scalars', original: 'nonMergingIntList: [1, 4]', patch: 'nonMergingIntList: [2, 3]', result: 'nonMergingIntList: [2, 3]' },
  {
    description: 'non-merging lists of maps are replaced',
    original: 'nonMergingList: [{name: "1", value: a}, {name: "2"}]',
    patch: 'nonMergingList: [{name: "3"}]',
    result: 'nonMergingList: [{name: "3"}]',
  },
  { description: 'replace strategy on a map', original: 'replacingItem: {a: 1, b: 2}', patch: 'replacingItem: {c: 3}', result: 'replacingItem: {c: 3}' },
  {
    description: 'delete all maps from merging list with conflict',
    original: 'mergingList: [{name: "1", other: a}, {name: "2", other: b}]',
    patch: 'mergingList: [{name: "1", $patch: delete}, {name: "2", $patch: delete}]',
    result: 'mergingList: []',
  },
  { description: 'retainKeys map can add a field when no retainKeys directive present', original: 'retainKeysMap: {name: foo}', patch: 'retainKeysMap: {value: bar}', result: 'retainKeysMap: {name: foo, value: bar}' },
  { description: 'retainKeys map can delete a field when no retainKeys directive present', original: 'retainKeysMap: {name: foo, value: a}', patch: 'retainKeysMap: {value: null}', result: 'retainKeysMap: {name: foo}' },
  { description: 'retainKeys map merge an empty map', original: 'retainKeysMap: {name: foo, value: a}', patch: 'retainKeysMap: {}', result: 'retainKeysMap: {name: foo, value: a}' },
  {
    description: 'retainKeys map clears the fields not retained',
    original: 'retainKeysMap: {name: foo, value: a, other: x, simpleMap: {k: v}}',
    patch: 'retainKeysMap: {$retainKeys: [name, value], value: b}',
    result: 'retainKeysMap: {name: foo, value: b}',
  },
  {
    description: 'retainKeys list of maps changes a field and clear a field',
    original: 'retainKeysMergingList: [{name: bar}, {name: foo, value: modified, other: x}]',
    patch: '$setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]\nretainKeysMergingList: [{$retainKeys: [name, value], name: foo, value: new}]',
    result: 'retainKeysMergingList: [{name: bar}, {name: foo, value: new}]',
  },
  {
    description: 'retainKeys list of maps deletes a field and clear a field',
    original: 'retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]',
    patch: '$setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]\nretainKeysMergingList: [{$retainKeys: [name], name: foo, value: null}]',
    result: 'retainKeysMergingList: [{name: bar}, {name: foo}]',
  },
  {
    description: 'preserve the order from the patch in a merging list',
    original: 'mergingList: [{name: "1"}, {name: "2", value: b}, {name: "3"}]',
    patch: 'mergingList: [{name: "3", value: c}, {name: "1", value: a}, {name: "2", other: x}]',
    result: 'mergingList: [{name: "3", value: c}, {name: "1", value: a}, {name: "2", value: b, other: x}]',
  },
  {
    description: 'preserve the order from the patch in a merging list 2',
    original: 'mergingList: [{name: "1"}, {name: "2", value: b}, {name: "3"}]',
    patch: 'mergingList: [{name: "3", value: c}, {name: "1", value: a}]',
    result: 'mergingList: [{name: "2", value: b}, {name: "3", value: c}, {name: "1", value: a}]',
  },
  { description: 'preserve the order from the patch in a merging int list', original: 'mergingIntList: [1, 2, 3]', patch: 'mergingIntList: [3, 1, 2]', result: 'mergingIntList: [3, 1, 2]' },
  { description: 'preserve the order from the patch in a merging int list 2', original: 'mergingIntList: [1, 2, 3]', patch: 'mergingIntList: [3, 1]', result: 'mergingIntList: [2, 3, 1]' },
  {
    description: '$setElementOrder contains item that is not present in the list to be merged',
    original: 'mergingList: [{name: "1"}, {name: "3"}]',
    patch: '$setElementOrder/mergingList: [{name: "3"}, {name: "2"}, {name: "1"}]\nmergingList: [{name: "3", value: "3"}, {name: "1", value: "1"}]',
    result: 'mergingList: [{name: "3", value: "3"}, {name: "1", value: "1"}]',
  },
  { description: '$setElementOrder contains item that is not present in the int list to be merged', original: 'mergingIntList: [1, 3]', patch: '$setElementOrder/mergingIntList: [3, 2, 1]', result: 'mergingIntList: [3, 1]' },
  {
    description: 'should check if order in $setElementOrder and patch list match',
    original: 'mergingList: [{name: "1"}, {name: "3"}, {name: "2"}]',
    patch: '$setElementOrder/mergingList: [{name: "1"}, {name: "2"}, {name: "3"}]\nmergingList: [{name: "3", value: "3"}, {name: "1", value: "1"}]',
    error: { code: 400, contains: "doesn't match" },
  },
  {
    description: 'should check if order in $setElementOrder and patch int list match',
    original: 'mergingIntList: [1, 3, 2]',
    patch: '$setElementOrder/mergingIntList: [1, 2, 3]\nmergingIntList: [3, 1]',
    error: { code: 400, contains: "doesn't match" },
  },
  { description: 'missing merge key should error out', original: 'mergingList: [{name: "1", value: a}]', patch: 'mergingList: [{value: b}]', error: { code: 422, contains: 'does not contain declared merge key' } },
  { description: '$deleteFromPrimitiveList of nonexistent item in primitive list should not add the item to the list', original: 'mergingIntList: [1, 2]', patch: '$deleteFromPrimitiveList/mergingIntList: [3]', result: 'mergingIntList: [1, 2]' },
  { description: '$deleteFromPrimitiveList on empty primitive list should not add the item to the list', original: 'mergingIntList: null', patch: '$deleteFromPrimitiveList/mergingIntList: [3]', result: 'mergingIntList: null' },
  { description: '$deleteFromPrimitiveList on nonexistent primitive list should not add the primitive list', original: 'foo: [bar]', patch: '$deleteFromPrimitiveList/mergingIntList: [3]', result: 'foo: [bar]' },
  { description: '$deleteFromPrimitiveList should delete item from a list with merge patch strategy', original: 'mergingIntList: [1, 2, 3]', patch: '$deleteFromPrimitiveList/mergingIntList: [2]', result: 'mergingIntList: [1, 3]' },
  { description: '$deleteFromPrimitiveList should delete item from a list without merge patch strategy', original: 'nonMergingIntList: [1, 2, 3]', patch: '$deleteFromPrimitiveList/nonMergingIntList: [2]', result: 'nonMergingIntList: [1, 3]' },
  {
    description: 'nested patch merge with empty list (two-way)',
    original: 'name: hi',
    patch: 'mergingList: [{name: hello}, {$patch: delete, name: doesntexist}]',
    result: 'name: hi\nmergingList: [{name: hello}]',
  },
  {
    description: 'nested patch merge with empty list (three-way)',
    original: 'name: hi\nmergingList: [{name: hello2}]',
    patch: '$setElementOrder/mergingList: [{name: hello}, {name: doesntexist}]\nmergingList: [{name: hello}, {$patch: delete, name: doesntexist}]',
    result: 'name: hi\nmergingList: [{name: hello}, {name: hello2}]',
  },
  {
    description: 'delete items in lists of scalars',
    original: 'mergingIntList: [1, 2, 3, 4]',
    patch: '$setElementOrder/mergingIntList: [1, 2]\n$deleteFromPrimitiveList/mergingIntList: [3]',
    result: 'mergingIntList: [1, 2, 4]',
  },
  {
    description: 'delete all duplicate items in lists of scalars',
    original: 'mergingIntList: [1, 2, 3, 3, 4]',
    patch: '$setElementOrder/mergingIntList: [1, 2]\n$deleteFromPrimitiveList/mergingIntList: [3]',
    result: 'mergingIntList: [1, 2, 4]',
  },
  {
    description: 'add and delete items in lists of scalars',
    original: 'mergingIntList: [1, 2, 3]',
    patch: '$setElementOrder/mergingIntList: [1, 2, 4]\n$deleteFromPrimitiveList/mergingIntList: [3]\nmergingIntList: [4]',
    result: 'mergingIntList: [1, 2, 4]',
  },
  {
    description: 'merge lists of maps',
    original: 'mergingList: [{name: "1", other: a}, {name: "2", value: "2", other: b}]',
    patch: '$setElementOrder/mergingList: [{name: "4"}, {name: "1"}, {name: "2"}, {name: "3"}]\nmergingList: [{name: "4", value: "4"}, {name: "3", value: "3"}]',
    result: 'mergingList: [{name: "4", value: "4"}, {name: "1", other: a}, {name: "2", value: "2", other: b}, {name: "3", value: "3"}]',
  },
  { description: 'merge lists of scalars', original: 'mergingIntList: [1, 2, 4]', patch: '$setElementOrder/mergingIntList: [1, 2, 3]\nmergingIntList: [3]', result: 'mergingIntList: [1, 2, 3, 4]' },
  { description: 'add an item in a list of primitives and preserve order', original: 'mergingIntList: [1, 4, 2]', patch: '$setElementOrder/mergingIntList: [3, 1, 2]\nmergingIntList: [3]', result: 'mergingIntList: [3, 1, 4, 2]' },
  {
    description: 'delete an item in a list of primitives and preserve order',
    original: 'mergingIntList: [1, 2, 3]',
    patch: '$setElementOrder/mergingIntList: [2, 1]\n$deleteFromPrimitiveList/mergingIntList: [3]',
    result: 'mergingIntList: [2, 1]',
  },
  {
    description: 'delete an item in a list and preserve order',
    original: 'mergingList: [{name: "1", other: a}, {name: "2", value: "2", other: b}, {name: "3", value: "3"}]',
    patch: '$setElementOrder/mergingList: [{name: "2"}, {name: "1"}]\nmergingList: [{name: "3", $patch: delete}]',
    result: 'mergingList: [{name: "2", value: "2", other: b}, {name: "1", other: a}]',
  },
  {
    description: 'add and delete an item in a list and preserve order',
    original: 'mergingList: [{name: "1", other: a}, {name: "2", value: "2", other: b}, {name: "3", value: "3"}]',
    patch: '$setElementOrder/mergingList: [{name: "4"}, {name: "2"}, {name: "1"}]\nmergingList: [{name: "4", value: "4"}, {name: "3", $patch: delete}]',
    result: 'mergingList: [{name: "4", value: "4"}, {name: "2", value: "2", other: b}, {name: "1", other: a}]',
  },
  {
    description: 'set elements order in a list with server-only items',
    original: 'mergingList: [{name: "1", other: a}, {name: "3", value: "3"}, {name: "4", value: "4"}, {name: "2", value: "2"}, {name: "9"}]',
    patch: '$setElementOrder/mergingList: [{name: "4"}, {name: "2"}, {name: "3"}, {name: "1"}]',
    result: 'mergingList: [{name: "4", value: "4"}, {name: "2", value: "2"}, {name: "3", value: "3"}, {name: "1", other: a}, {name: "9"}]',
  },
  {
    description: 'set elements order in a list with server-only items 3',
    original: 'mergingList: [{name: "1", other: a}, {name: "2", value: "2"}, {name: "7"}, {name: "9"}, {name: "8"}, {name: "3", value: "3"}, {name: "4", value: "4"}]',
    patch: '$setElementOrder/mergingList: [{name: "2"}, {name: "1"}, {name: "4"}, {name: "3"}]',
    result: 'mergingList: [{name: "2", value: "2"}, {name: "1", other: a}, {name: "7"}, {name: "9"}, {name: "8"}, {name: "4", value: "4"}, {name: "3", value: "3"}]',
  },
  { description: 'set elements order in a int list with server-only items 2', original: 'mergingIntList: [1, 2, 9, 3, 4]', patch: '$setElementOrder/mergingIntList: [2, 1, 4, 3]', result: 'mergingIntList: [2, 1, 9, 4, 3]' },
  {
    description: 'merge nested lists through $setElementOrder',
    original: 'mergeItemPtr: [{name: "1", other: a, mergeItemPtr: [{name: "1", value: a}, {name: "2", value: "2", other: b}]}, {name: "2", other: b}]',
    patch: '$setElementOrder/mergeItemPtr: [{name: "1"}, {name: "2"}]\nmergeItemPtr: [{$setElementOrder/mergeItemPtr: [{name: "1"}, {name: "2"}], name: "1", mergeItemPtr: [{name: "1", value: "1"}]}]',
    result: 'mergeItemPtr: [{name: "1", other: a, mergeItemPtr: [{name: "1", value: "1"}, {name: "2", value: "2", other: b}]}, {name: "2", other: b}]',
  },
  {
    description: 'delete and reorder in one list, reorder in another',
    original: 'mergingList: [{name: a, value: a}, {name: b, value: b}]\nmergeItemPtr: [{name: c, value: c}, {name: d, value: d}]',
    patch: '$setElementOrder/mergingList: [{name: b}]\n$setElementOrder/mergeItemPtr: [{name: d}, {name: c}]\nmergingList: [{$patch: delete, name: a}]',
    result: 'mergingList: [{name: b, value: b}]\nmergeItemPtr: [{name: d, value: d}, {name: c, value: c}]',
  },
];

for (const c of upstreamCases) test(`upstream: ${c.description}`, () => check(c));

test('malformed directives answer 400 or 422, never a crash', () => {
  const bad: [string, string, number][] = [
    ['mergingList: [{name: "1"}]', 'mergingList: [{name: "1", $patch: explode}]', 400],
    ['simpleMap: {a: b}', 'simpleMap: {$patch: 3}', 400],
    ['retainKeysMap: {name: a}', 'retainKeysMap: {$retainKeys: name}', 400],
    ['retainKeysMap: {name: a}', 'retainKeysMap: {$retainKeys: [name], value: b}', 422],
    ['mergingIntList: [1]', '$deleteFromPrimitiveList/mergingIntList: 3', 400],
    ['mergingIntList: [1]', '$deleteFromPrimitiveList: [3]', 400],
    ['mergingList: [{name: "1"}]', '$setElementOrder/mergingList: {name: "1"}', 400],
    ['mergingList: [{name: "1"}]', '$setElementOrder: [{name: "1"}]', 400],
    ['mergingList: [{name: "1"}]', 'mergingList: [[1]]', 422],
    ['mergingIntList: [1]', 'mergingIntList: [a, {b: 1}]', 422],
    ['mergingList: [{name: "1"}]', 'mergingList: [{$patch: delete}]', 422],
  ];
  for (const [original, patch, code] of bad) {
    assert.throws(
      () => applyStrategicMergePatch(y(original), y(patch), mergeItem),
      (e: unknown) => e instanceof StatusError && e.code === code,
      `${patch} should answer ${code}`,
    );
  }
});

test('$patch: merge is the default for maps and list elements', () => {
  assert.deepEqual(applyStrategicMergePatch(y('simpleMap: {a: b}'), y('simpleMap: {$patch: merge, c: d}'), mergeItem), y('simpleMap: {a: b, c: d}'));
  assert.deepEqual(
    applyStrategicMergePatch(y('mergingList: [{name: "1", value: a}]'), y('mergingList: [{name: "1", $patch: merge, other: x}]'), mergeItem),
    y('mergingList: [{name: "1", value: a, other: x}]'),
  );
});

test('the inputs are not modified', () => {
  const original = y('mergingList: [{name: "1"}]\nsimpleMap: {a: b}');
  const patch = y('$setElementOrder/mergingList: [{name: "2"}, {name: "1"}]\nmergingList: [{name: "2"}]\nsimpleMap: {a: null}');
  const before = [structuredClone(original), structuredClone(patch)];
  applyStrategicMergePatch(original, patch, mergeItem);
  assert.deepEqual([original, patch], before);
});

// The real schema, through the exported entry point the handlers call.

const deployment = (): KubeObject =>
  y(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, finalizers: [a.example.com/x, b.example.com/y]}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: web}}
    spec:
      tolerations: [{key: a, operator: Exists}, {key: b, operator: Exists}]
      imagePullSecrets: [{name: reg1}]
      volumes: [{name: data, emptyDir: {}}, {name: cfg, configMap: {name: cfg}}]
      containers:
      - name: web
        image: nginx:1.0
        ports: [{containerPort: 80, protocol: TCP}, {containerPort: 443, protocol: TCP}]
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
        volumeMounts: [{name: data, mountPath: /data}]
      - name: sidecar
        image: busybox
`) as KubeObject;

const smp = (obj: KubeObject, patch: string, def: ResourceDef | undefined = deploymentResource) => strategicMergePatch(obj, y(patch), def) as any;

test('kubectl set image: containers merge by name', () => {
  const out = smp(deployment(), 'spec: {template: {spec: {containers: [{name: web, image: "nginx:1.2"}]}}}');
  const cs = out.spec.template.spec.containers;
  assert.deepEqual(cs.map((c: any) => [c.name, c.image]), [['web', 'nginx:1.2'], ['sidecar', 'busybox']]);
  assert.equal(cs[0].ports.length, 2, 'the rest of the container is kept');
});

test('env, volumes, volumeMounts, imagePullSecrets and ports merge by their keys; tolerations are replaced', () => {
  const out = smp(
    deployment(),
    `spec:
  template:
    spec:
      tolerations: [{key: c, operator: Exists}]
      imagePullSecrets: [{name: reg2}]
      volumes: [{name: cache, emptyDir: {}}, {name: cfg, $patch: delete}]
      containers:
      - name: web
        env: [{name: B, value: "3"}, {name: C, value: "4"}]
        ports: [{containerPort: 8080}, {containerPort: 443, $patch: delete}]
        volumeMounts: [{name: cache, mountPath: /cache}]`,
  );
  const spec = out.spec.template.spec;
  assert.deepEqual(spec.tolerations, [{ key: 'c', operator: 'Exists' }]);
  // New items that the live list does not order come before the live items (upstream's mergeSortedSlice).
  assert.deepEqual(spec.imagePullSecrets.map((s: any) => s.name), ['reg2', 'reg1']);
  assert.deepEqual(spec.volumes.map((v: any) => v.name), ['cache', 'data']);
  const web = spec.containers[0];
  assert.deepEqual(web.env, [{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
  assert.deepEqual(web.ports.map((p: any) => p.containerPort), [8080, 80]);
  assert.deepEqual(web.volumeMounts.map((m: any) => m.mountPath), ['/cache', '/data']);
});

test('kubectl apply: $setElementOrder and $retainKeys on a deployment', () => {
  const out = smp(
    deployment(),
    `metadata: {annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}}
spec:
  strategy: {$retainKeys: [type], type: Recreate}
  template:
    spec:
      $setElementOrder/containers: [{name: sidecar}, {name: web}]
      containers: [{name: web, $setElementOrder/env: [{name: B}, {name: A}], env: [{name: B, value: "9"}]}]`,
  );
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  assert.deepEqual(out.spec.template.spec.containers.map((c: any) => c.name), ['sidecar', 'web']);
  assert.deepEqual(out.spec.template.spec.containers[1].env, [{ name: 'B', value: '9' }, { name: 'A', value: '1' }]);
  assert.equal(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], '{}');
});

test('finalizers are a merging primitive list; $deleteFromPrimitiveList removes one', () => {
  const added = smp(deployment(), 'metadata: {finalizers: [c.example.com/z, a.example.com/x]}');
  assert.deepEqual(added.metadata.finalizers, ['c.example.com/z', 'a.example.com/x', 'b.example.com/y']);
  const removed = smp(deployment(), '$deleteFromPrimitiveList/finalizers: [a.example.com/x]', deploymentResource);
  assert.deepEqual(removed.metadata.finalizers, ['a.example.com/x', 'b.example.com/y'], 'the directive applies at the level it is written');
  const removed2 = smp(deployment(), 'metadata: {$deleteFromPrimitiveList/finalizers: [a.example.com/x]}');
  assert.deepEqual(removed2.metadata.finalizers, ['b.example.com/y']);
});

test('kubectl cordon / rollout restart shaped patches', () => {
  const restarted = smp(deployment(), 'spec: {template: {metadata: {annotations: {kubectl.kubernetes.io/restartedAt: "2024-01-01T00:00:00Z"}}}}');
  assert.equal(restarted.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'], '2024-01-01T00:00:00Z');
  assert.deepEqual(restarted.spec.template.metadata.labels, { app: 'web' });
  const nullDeletes = smp(deployment(), 'spec: {strategy: {rollingUpdate: null}}');
  assert.deepEqual(nullDeletes.spec.strategy, { type: 'RollingUpdate' });
});

test('Service ports merge by port', () => {
  const svc = y(`apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443}]}`) as KubeObject;
  const out = smp(svc, 'spec: {ports: [{port: 80, targetPort: 9090}, {name: metrics, port: 9100}]}', serviceResource);
  assert.deepEqual(out.spec.ports, [
    { name: 'http', port: 80, targetPort: 9090 },
    { name: 'metrics', port: 9100 },
    { name: 'https', port: 443 },
  ]);
});

test('a Scale patched on /scale uses the Scale schema', () => {
  const scale = y('apiVersion: autoscaling/v1\nkind: Scale\nmetadata: {name: web}\nspec: {replicas: 1}') as KubeObject;
  assert.deepEqual(smp(scale, 'spec: {replicas: 3}').spec, { replicas: 3 });
});

test('kinds without a schema (custom resources) answer 415, as upstream', () => {
  const crDef: ResourceDef = { ...podResource, group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', singular: 'widget' };
  const cr = y('apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {a: 1}') as KubeObject;
  assert.throws(() => strategicMergePatch(cr, { spec: { b: 2 } }, crDef), (e: unknown) => e instanceof StatusError && e.code === 415);
  assert.throws(() => strategicMergePatch({ metadata: { name: 'x' } } as KubeObject, {}, undefined), (e: unknown) => e instanceof StatusError && e.code === 415);
});
