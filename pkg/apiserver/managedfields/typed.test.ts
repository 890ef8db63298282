/**
 * Field sets, comparisons, merges and removals on the real Kubernetes schema (upstream's 1.27
 * OpenAPI): associative lists by list-map-keys or patch merge key, sets, atomic lists and maps,
 * and deduced types for kinds without a schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { typeForKind, SchemaConverter } from './schema.js';
import { toFieldSet, compare, merge, removeItems, TypedError } from './typed.js';
import { FieldSet, makePath, keyPE, pathString } from './fieldpath.js';
import type { JSONMap } from './value.js';

const deployment = typeForKind({ group: 'apps', version: 'v1', kind: 'Deployment' });
const service = typeForKind({ group: '', version: 'v1', kind: 'Service' });
const configMap = typeForKind({ group: '', version: 'v1', kind: 'ConfigMap' });
const pod = typeForKind({ group: '', version: 'v1', kind: 'Pod' });
const custom = typeForKind({ group: 'example.com', version: 'v1', kind: 'Widget' });

const web = (): JSONMap => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }], args: ['-x'] },
          { name: 'sidecar', image: 'busybox' },
        ],
        tolerations: [{ key: 'k', operator: 'Exists' }],
        nodeSelector: { disk: 'ssd' },
      },
    },
  },
});

test('Deployment: containers by name, ports by containerPort+protocol (defaulted), atomic selector, args, tolerations, nodeSelector', () => {
  const v1 = toFieldSet(web(), deployment).toFieldsV1();
  assert.deepEqual(v1, {
    'f:apiVersion': {},
    'f:kind': {},
    'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:name': {} },
    'f:spec': {
      'f:replicas': {},
      'f:selector': {},
      'f:template': {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:containers': {
            'k:{"name":"nginx"}': {
              'f:args': {},
              'f:env': { 'k:{"name":"A"}': { 'f:name': {}, 'f:value': {}, '.': {} } },
              'f:image': {},
              'f:name': {},
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { 'f:containerPort': {}, '.': {} } },
              '.': {},
            },
            'k:{"name":"sidecar"}': { 'f:image': {}, 'f:name': {}, '.': {} },
          },
          'f:nodeSelector': {},
          'f:tolerations': {},
        },
      },
    },
  });
});

test('Service: ports keyed by port and protocol; selector is atomic', () => {
  const svc: JSONMap = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }, { port: 53, protocol: 'UDP' }] } };
  assert.deepEqual(toFieldSet(svc, service).toFieldsV1()['f:spec'], {
    'f:ports': {
      'k:{"port":53,"protocol":"UDP"}': { 'f:port': {}, 'f:protocol': {}, '.': {} },
      'k:{"port":80,"protocol":"TCP"}': { 'f:port': {}, 'f:targetPort': {}, '.': {} },
    },
    'f:selector': {},
  });
});

test('ConfigMap: data and labels are granular maps; finalizers and ownerReferences are associative', () => {
  const cm: JSONMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', finalizers: ['example.com/f'], ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u1' }] },
    data: { 'a.txt': 'x', b: 'y' },
  };
  const s = toFieldSet(cm, configMap);
  assert.deepEqual(s.toFieldsV1()['f:data'], { 'f:a.txt': {}, 'f:b': {} });
  assert.deepEqual((s.toFieldsV1()['f:metadata'] as JSONMap)['f:finalizers'], { 'v:"example.com/f"': {} });
  // OwnerReference is an atomic struct: the item is one leaf.
  assert.ok(s.has(makePath('metadata', 'ownerReferences', keyPE([['uid', 'u1']]))));
  assert.ok(!s.has(makePath('metadata', 'ownerReferences', keyPE([['uid', 'u1']]), 'name')));
});

test('kinds without a schema are deduced: maps granular, lists atomic', () => {
  const s = toFieldSet({ apiVersion: 'example.com/v1', kind: 'Widget', spec: { size: 1, nested: { a: 'b' }, items: [{ x: 1 }] } }, custom);
  assert.deepEqual(s.toFieldsV1()['f:spec'], { 'f:items': {}, 'f:nested': { 'f:a': {}, '.': {} }, 'f:size': {}, '.': {} });
});

test('an applied list item without its key is an error naming the list', () => {
  const bad = web();
  ((bad.spec as JSONMap).template as { spec: { containers: JSONMap[] } }).spec.containers.push({ image: 'x' });
  assert.throws(() => toFieldSet(bad, deployment, { strict: true }), (e: Error) => e instanceof TypedError && /\.spec\.template\.spec\.containers: element 2: associative list with keys has an element that omits key field "name"/.test(e.message));
  // Stored objects are read leniently: the item is skipped.
  assert.ok(!toFieldSet(bad, deployment).empty());
});

test('compare: modified leaves, added and removed items (with the item itself), empty maps as leaves', () => {
  const a = web();
  const b = web();
  const spec = (o: JSONMap) => (o.spec as { template: { spec: { containers: JSONMap[] } } }).template.spec;
  spec(b).containers[0]!.image = 'nginx:1.26';
  spec(b).containers.splice(1, 1);
  spec(b).containers.push({ name: 'log', image: 'fluent', resources: {} });
  (b.metadata as JSONMap).annotations = { note: 'x' };
  const c = compare(a, b, deployment);
  assert.deepEqual(c.modified.paths().map(pathString), ['.spec.template.spec.containers[name="nginx"].image']);
  assert.deepEqual(c.removed.paths().map(pathString), ['.spec.template.spec.containers[name="sidecar"]', '.spec.template.spec.containers[name="sidecar"].image', '.spec.template.spec.containers[name="sidecar"].name']);
  assert.deepEqual(c.added.paths().map(pathString), [
    '.metadata.annotations',
    '.metadata.annotations.note',
    '.spec.template.spec.containers[name="log"]',
    '.spec.template.spec.containers[name="log"].image',
    '.spec.template.spec.containers[name="log"].name',
    '.spec.template.spec.containers[name="log"].resources',
  ]);
  const same = compare(a, web(), deployment);
  assert.ok(same.added.empty() && same.modified.empty() && same.removed.empty());
});

test('merge: applied values win, live-only fields stay, associative items merge in order, atomic lists are replaced', () => {
  const live = web();
  const cfg: JSONMap = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { template: { spec: { containers: [{ name: 'init-log', image: 'a' }, { name: 'nginx', image: 'nginx:2', args: ['-y'] }], tolerations: [] } } },
  };
  const out = merge(live, cfg, deployment) as JSONMap;
  const podSpec = (out.spec as { template: { spec: JSONMap } }).template.spec;
  const cs = podSpec.containers as JSONMap[];
  assert.deepEqual(
    cs.map((c) => c.name),
    ['init-log', 'nginx', 'sidecar'],
  );
  assert.deepEqual(cs[1], { name: 'nginx', image: 'nginx:2', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }], args: ['-y'] });
  assert.deepEqual(podSpec.tolerations, []);
  assert.equal((out.spec as JSONMap).replicas, 2);
  assert.deepEqual((out.metadata as JSONMap).labels, { app: 'web' });
});

test('merge keeps the live order; new items follow once the shared ones before them are placed (upstream order)', () => {
  const t = new SchemaConverter({
    item: { type: 'object', properties: { name: { type: 'string' }, v: { type: 'string' } } },
    root: { type: 'object', properties: { list: { type: 'array', items: { $ref: '#/components/schemas/item' }, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] } } },
  }).named('root');
  const names = (o: unknown) => ((o as { list: JSONMap[] }).list ?? []).map((i) => i.name);
  const live = { list: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] };
  assert.deepEqual(names(merge(live, { list: [{ name: 'b' }, { name: 'x' }] }, t)), ['a', 'b', 'c', 'x']);
  assert.deepEqual(names(merge(live, { list: [{ name: 'x' }, { name: 'b' }] }, t)), ['a', 'x', 'b', 'c']);
  assert.deepEqual(names(merge(live, { list: [{ name: 'c' }, { name: 'a' }] }, t)), ['b', 'c', 'a']);
});

test('removeItems: members go with their subtree; emptied maps disappear', () => {
  const live = web();
  const toRemove = FieldSet.of(makePath('metadata', 'labels', 'app'), makePath('spec', 'template', 'spec', 'containers', keyPE([['name', 'sidecar']])), makePath('spec', 'replicas'));
  const out = removeItems(live, toRemove, deployment) as JSONMap;
  assert.equal((out.metadata as JSONMap).labels, undefined);
  assert.equal((out.spec as JSONMap).replicas, undefined);
  assert.deepEqual(((out.spec as { template: { spec: { containers: JSONMap[] } } }).template.spec.containers).map((c) => c.name), ['nginx']);
});

test('pod: volumes merge by name (merge,retainKeys), volumeMounts by mountPath, command atomic', () => {
  const p: JSONMap = { spec: { volumes: [{ name: 'v', emptyDir: { medium: 'Memory' } }, { name: 'w', emptyDir: {} }], containers: [{ name: 'c', command: ['sh'], volumeMounts: [{ name: 'v', mountPath: '/v' }] }] } };
  const s = toFieldSet(p, pod);
  assert.ok(s.has(makePath('spec', 'volumes', keyPE([['name', 'v']]), 'emptyDir', 'medium')));
  // As upstream's ToFieldSet, an empty struct sets no field.
  assert.ok(!s.has(makePath('spec', 'volumes', keyPE([['name', 'w']]), 'emptyDir')));
  assert.ok(s.has(makePath('spec', 'containers', keyPE([['name', 'c']]), 'volumeMounts', keyPE([['mountPath', '/v']]), 'name')));
  assert.ok(s.has(makePath('spec', 'containers', keyPE([['name', 'c']]), 'command')));
});

test('compare skips equal subtrees but still sees a change deep inside one, whatever the member order', () => {
  const a = web();
  const b = web();
  // Same content, members in another order: not a change.
  b.spec = { template: (b.spec as JSONMap).template!, selector: (b.spec as JSONMap).selector!, replicas: 2 } as JSONMap;
  const same = compare(a, b, deployment);
  assert.ok(same.added.empty() && same.modified.empty() && same.removed.empty());
  const c = web();
  ((((c.spec as JSONMap).template as JSONMap).spec as JSONMap).containers as JSONMap[])[1]!.image = 'busybox:2';
  const d = compare(a, c, deployment);
  assert.deepEqual(d.modified.paths().map(pathString), ['.spec.template.spec.containers[name="sidecar"].image']);
  assert.ok(d.added.empty() && d.removed.empty());
});
