/**
 * The API surface kubectl relies on: discovery (legacy and aggregated), Table output, watches
 * under Table, subresources (status, scale, binding, eviction, finalize), deletion semantics,
 * dryRun, and metrics with upstream's names.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { req, collectWatch } from '../harness/client.js';

let etcd: EtcdHandle;
let api: ApiserverHandle;

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint, { watchBookmarkIntervalMs: 200 });
});

after(async () => {
  await api?.stop();
  await etcd?.stop();
});

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const AGG = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const MERGE = { 'Content-Type': 'application/merge-patch+json' };

test('/version reports a Kubernetes 1.32+ version', async () => {
  const r = await req(api.url, 'GET', '/version');
  assert.equal(r.body.major, '1');
  assert.ok(Number(r.body.minor) >= 32);
  assert.match(r.body.gitVersion, /^v1\.\d+\.\d+/);
});

test('aggregated discovery has the exact Content-Type, shortNames, categories and subresources', async () => {
  const api1 = await req(api.url, 'GET', '/api', undefined, { Accept: AGG });
  assert.equal(api1.headers.get('content-type'), 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  const core = api1.body.items[0];
  assert.equal(core.metadata.name, '');
  const pods = core.versions[0].resources.find((r: any) => r.resource === 'pods');
  assert.deepEqual(pods.shortNames, ['po']);
  assert.deepEqual(pods.categories, ['all']);
  assert.ok(pods.subresources.some((s: any) => s.subresource === 'eviction' && s.responseKind.group === 'policy'));
  const beta = await req(api.url, 'GET', '/apis', undefined, { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json' });
  assert.equal(beta.headers.get('content-type'), 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList');
  const apps = beta.body.items.find((i: any) => i.metadata.name === 'apps');
  const deploy = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
  assert.deepEqual(deploy.subresources.find((s: any) => s.subresource === 'scale').responseKind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  const autoscaling = beta.body.items.find((i: any) => i.metadata.name === 'autoscaling');
  assert.equal(autoscaling.versions[0].version, 'v2', 'the preferred version comes first');
  const plain = await req(api.url, 'GET', '/apis');
  assert.equal(plain.body.kind, 'APIGroupList');
  assert.equal(plain.headers.get('content-type'), 'application/json');
  const legacy = await req(api.url, 'GET', '/api/v1');
  assert.ok(legacy.body.resources.some((r: any) => r.name === 'pods/eviction' && r.group === 'policy' && r.version === 'v1' && r.kind === 'Eviction'));
  const group = await req(api.url, 'GET', '/apis/apps');
  assert.equal(group.body.preferredVersion.groupVersion, 'apps/v1');
  assert.equal((await req(api.url, 'GET', '/apis/nope.example.com/v1')).status, 404);
});

test('Table lists carry PartialObjectMetadata rows unless includeObject says otherwise', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 't1', labels: { a: 'b' } }, data: { x: '1' } });
  const t = await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps?limit=500', undefined, { Accept: TABLE });
  assert.equal(t.body.kind, 'Table');
  assert.equal(t.body.apiVersion, 'meta.k8s.io/v1');
  assert.equal(t.body.columnDefinitions[0].name, 'Name');
  const row = t.body.rows.find((r: any) => r.cells[0] === 't1');
  assert.equal(row.object.kind, 'PartialObjectMetadata');
  assert.deepEqual(row.object.metadata.labels, { a: 'b' });
  const none = await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps?includeObject=None', undefined, { Accept: TABLE });
  assert.equal(none.body.rows[0].object, undefined);
  const one = await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps/t1', undefined, { Accept: TABLE });
  assert.equal(one.body.rows.length, 1);
  const others = await req(api.url, 'GET', '/apis/coordination.k8s.io/v1/leases', undefined, { Accept: TABLE });
  assert.ok(others.body.columnDefinitions.length >= 2);
});

test('a watch under the Table media type emits one-row Tables', async () => {
  const c = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'tw' } });
  const p = collectWatch(`${api.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${c.body.metadata.resourceVersion}`, (e) => e.length >= 1, 5000, { Accept: TABLE });
  await new Promise((r) => setTimeout(r, 100));
  await req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/tw', { data: { y: '2' } }, MERGE);
  const w = await p;
  assert.equal(w.events[0].type, 'MODIFIED');
  assert.equal(w.events[0].object.kind, 'Table');
  assert.equal(w.events[0].object.rows.length, 1);
  assert.equal(w.events[0].object.rows[0].cells[0], 'tw');
});

test('bookmarks arrive when asked for, and timeoutSeconds ends the watch', async () => {
  const w = await collectWatch(`${api.url}/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=0`, () => false, 10_000);
  assert.ok(w.events.some((e) => e.type === 'BOOKMARK' && /^\d+$/.test(e.object.metadata.resourceVersion)));
});

test('the status subresource changes status only, the main resource spec only; generation follows spec', async () => {
  const dep = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'gen' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'gen' } }, template: { metadata: { labels: { app: 'gen' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    status: { replicas: 99 },
  };
  const c = await req(api.url, 'POST', '/apis/apps/v1/namespaces/default/deployments', dep);
  assert.equal(c.status, 201, c.text);
  assert.equal(c.body.metadata.generation, 1);
  assert.equal(c.body.status?.replicas, undefined, 'status is not set on create');
  const s = await req(api.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/status', { status: { replicas: 1 }, spec: { replicas: 5 } }, MERGE);
  assert.equal(s.status, 200, s.text);
  assert.equal(s.body.status.replicas, 1);
  assert.equal(s.body.spec.replicas, 1, 'spec is ignored on /status');
  assert.equal(s.body.metadata.generation, 1);
  const m = await req(api.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { status: { replicas: 7 }, spec: { replicas: 2 } }, MERGE);
  assert.equal(m.body.status.replicas, 1, 'status is ignored on the main resource');
  assert.equal(m.body.spec.replicas, 2);
  assert.equal(m.body.metadata.generation, 2);
  const l = await req(api.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { metadata: { labels: { x: 'y' } } }, MERGE);
  assert.equal(l.body.metadata.generation, 2, 'metadata changes do not bump generation');
  const scale = await req(api.url, 'GET', '/apis/apps/v1/namespaces/default/deployments/gen/scale');
  assert.equal(scale.body.kind, 'Scale');
  assert.equal(scale.body.apiVersion, 'autoscaling/v1');
  assert.equal(scale.body.spec.replicas, 2);
  assert.equal(scale.body.status.selector, 'app=gen');
  const put = await req(api.url, 'PUT', '/apis/apps/v1/namespaces/default/deployments/gen/scale', { ...scale.body, spec: { replicas: 4 } });
  assert.equal(put.body.spec.replicas, 4);
  const stale = await req(api.url, 'PUT', '/apis/apps/v1/namespaces/default/deployments/gen/scale', { ...scale.body, spec: { replicas: 5 } });
  assert.equal(stale.status, 409);
  const neg = await req(api.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/scale', { spec: { replicas: -1 } }, MERGE);
  assert.equal(neg.status, 422);
});

test('dryRun=All validates and answers without writing', async () => {
  const r = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { metadata: { name: 'dry' } });
  assert.equal(r.status, 201);
  assert.equal((await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps/dry')).status, 404);
  await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'dry2' }, data: { a: '1' } });
  const p = await req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/dry2?dryRun=All', { data: { a: '2' } }, MERGE);
  assert.equal(p.body.data.a, '2');
  assert.equal((await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps/dry2')).body.data.a, '1');
  const d = await req(api.url, 'DELETE', '/api/v1/namespaces/default/configmaps/dry2?dryRun=All');
  assert.equal(d.status, 200);
  assert.equal((await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps/dry2')).status, 200);
  const bad = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=Some', { metadata: { name: 'dry3' } });
  assert.equal(bad.status, 400);
});

test('finalizers hold a deletion; removing the last one deletes; preconditions and propagationPolicy', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
  const d = await req(api.url, 'DELETE', '/api/v1/namespaces/default/configmaps/fin');
  assert.equal(d.status, 202);
  assert.ok(d.body.metadata.deletionTimestamp);
  const still = await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps/fin');
  assert.equal(still.status, 200);
  const rm = await req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: null } }, MERGE);
  assert.equal(rm.status, 200);
  assert.equal((await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps/fin')).status, 404);

  const c = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'pre' } });
  const wrong = await req(api.url, 'DELETE', '/api/v1/namespaces/default/configmaps/pre', { preconditions: { uid: 'not-it' } });
  assert.equal(wrong.status, 409);
  const orphan = await req(api.url, 'DELETE', '/api/v1/namespaces/default/configmaps/pre', { propagationPolicy: 'Orphan', preconditions: { uid: c.body.metadata.uid } });
  assert.equal(orphan.status, 202);
  assert.deepEqual(orphan.body.metadata.finalizers, ['orphan']);
  const badPolicy = await req(api.url, 'DELETE', '/api/v1/namespaces/default/configmaps/pre', { propagationPolicy: 'Sideways' });
  assert.equal(badPolicy.status, 422);
});

test('deletecollection removes what the selector matches', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'dc' } });
  for (const [n, l] of [['a', 'x'], ['b', 'x'], ['c', 'y']]) await req(api.url, 'POST', '/api/v1/namespaces/dc/configmaps', { metadata: { name: n, labels: { g: l } } });
  const r = await req(api.url, 'DELETE', '/api/v1/namespaces/dc/configmaps?labelSelector=g%3Dx');
  assert.equal(r.status, 200);
  const left = await req(api.url, 'GET', '/api/v1/namespaces/dc/configmaps');
  assert.deepEqual(left.body.items.map((o: any) => o.metadata.name), ['c']);
});

test('namespaces: deletion turns them Terminating, creates inside are refused, finalize removes them', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
  const d = await req(api.url, 'DELETE', '/api/v1/namespaces/doomed');
  assert.equal(d.status, 202);
  assert.equal(d.body.status.phase, 'Terminating');
  // Namespace lifecycle reads the watch cache, as upstream's admission reads its informer: wait
  // until the cache has seen the deletion.
  for (let i = 0; i < 100; i++) {
    const l = await req(api.url, 'GET', '/api/v1/namespaces?resourceVersion=0&fieldSelector=metadata.name%3Ddoomed');
    if (l.body.items[0]?.status?.phase === 'Terminating') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const refused = await req(api.url, 'POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'late' } });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.reason, 'Forbidden');
  assert.equal(refused.body.message, 'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');
  const ns = (await req(api.url, 'GET', '/api/v1/namespaces/doomed')).body;
  const f = await req(api.url, 'PUT', '/api/v1/namespaces/doomed/finalize', { ...ns, spec: { finalizers: [] } });
  assert.equal(f.status, 200, f.text);
  assert.equal((await req(api.url, 'GET', '/api/v1/namespaces/doomed')).status, 404);
});

test('pods: binding sets nodeName once; unscheduled pods delete at once, scheduled ones gracefully', async () => {
  const pod = (name: string) => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  await req(api.url, 'POST', '/api/v1/namespaces/default/pods', pod('unsched'));
  const d1 = await req(api.url, 'DELETE', '/api/v1/namespaces/default/pods/unsched');
  assert.equal(d1.status, 200);
  assert.equal((await req(api.url, 'GET', '/api/v1/namespaces/default/pods/unsched')).status, 404);

  await req(api.url, 'POST', '/api/v1/namespaces/default/pods', pod('bound'));
  const b = await req(api.url, 'POST', '/api/v1/namespaces/default/pods/bound/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } });
  assert.equal(b.status, 201, b.text);
  const got = (await req(api.url, 'GET', '/api/v1/namespaces/default/pods/bound')).body;
  assert.equal(got.spec.nodeName, 'node-1');
  assert.ok(got.status.conditions.some((c: any) => c.type === 'PodScheduled' && c.status === 'True'));
  const again = await req(api.url, 'POST', '/api/v1/namespaces/default/pods/bound/binding', { metadata: { name: 'bound' }, target: { name: 'node-2' } });
  assert.equal(again.status, 409);
  const d2 = await req(api.url, 'DELETE', '/api/v1/namespaces/default/pods/bound');
  assert.equal(d2.status, 202);
  assert.ok(d2.body.metadata.deletionTimestamp);
  assert.equal(d2.body.metadata.deletionGracePeriodSeconds, 30);
  const d3 = await req(api.url, 'DELETE', '/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0');
  assert.equal(d3.status, 200);
  assert.equal((await req(api.url, 'GET', '/api/v1/namespaces/default/pods/bound')).status, 404);
});

test('eviction respects a PodDisruptionBudget', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'evict' } });
  await req(api.url, 'POST', '/api/v1/namespaces/evict/pods', { metadata: { name: 'p', labels: { app: 'e' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  await req(api.url, 'PATCH', '/api/v1/namespaces/evict/pods/p/status', { status: { phase: 'Running' } }, MERGE);
  const pdb = await req(api.url, 'POST', '/apis/policy/v1/namespaces/evict/poddisruptionbudgets', { metadata: { name: 'b' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'e' } } } });
  assert.equal(pdb.status, 201, pdb.text);
  await req(api.url, 'PATCH', '/apis/policy/v1/namespaces/evict/poddisruptionbudgets/b/status', { status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } }, MERGE);
  const ev = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p', namespace: 'evict' } };
  const blocked = await req(api.url, 'POST', '/api/v1/namespaces/evict/pods/p/eviction', ev);
  assert.equal(blocked.status, 429);
  assert.equal(blocked.body.message, "Cannot evict pod as it would violate the pod's disruption budget.");
  await req(api.url, 'PATCH', '/apis/policy/v1/namespaces/evict/poddisruptionbudgets/b/status', { status: { disruptionsAllowed: 1 } }, MERGE);
  const ok = await req(api.url, 'POST', '/api/v1/namespaces/evict/pods/p/eviction', ev);
  assert.equal(ok.status, 201, ok.text);
  assert.equal((await req(api.url, 'GET', '/api/v1/namespaces/evict/pods/p')).status, 404);
});

test('JSON patch and merge patch; a bad patch is a 4xx', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'jp' }, data: { a: '1' } });
  const jp = await req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/jp', [{ op: 'add', path: '/data/b', value: '2' }], { 'Content-Type': 'application/json-patch+json' });
  assert.deepEqual(jp.body.data, { a: '1', b: '2' });
  const bad = await req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/jp', [{ op: 'remove', path: '/nope/x' }], { 'Content-Type': 'application/json-patch+json' });
  assert.ok(bad.status === 422 || bad.status === 400, String(bad.status));
  const notList = await req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/jp', { op: 'add' }, { 'Content-Type': 'application/json-patch+json' });
  assert.equal(notList.status, 400);
  const breaksMeta = await req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/jp', { metadata: { name: 'other' } }, MERGE);
  assert.equal(breaksMeta.status, 400);
  assert.equal((await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps/jp')).body.data.b, '2');
});

test('/metrics has upstream series; /readyz checks etcd', async () => {
  await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps');
  const m = await req(api.url, 'GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.text, /^apiserver_request_total\{verb="LIST",dry_run="",group="",version="v1",resource="configmaps",subresource="",scope="namespace",component="apiserver",code="200"\} \d+/m);
  assert.match(m.text, /^apiserver_request_duration_seconds_bucket\{le="0.005",verb="LIST"/m);
  assert.match(m.text, /^etcd_request_duration_seconds_count\{operation="list",type="configmaps"\} \d+/m);
  assert.match(m.text, /^apiserver_storage_objects\{resource="configmaps"\} \d+/m);
  assert.match(m.text, /^# TYPE apiserver_longrunning_requests gauge/m);
  const ready = await req(api.url, 'GET', '/readyz?verbose');
  assert.equal(ready.status, 200);
  assert.match(ready.text, /\[\+\]etcd ok/);
});

test('a watch from a resourceVersion newer than any event of its resource is served (progress from etcd or etcd itself)', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'fresh' } });
  // A consistent list reads etcd's revision, which other resources' writes have moved past the
  // pods cache's last event.
  const l = await req(api.url, 'GET', '/api/v1/namespaces/fresh/pods');
  for (let i = 0; i < 3; i++) await req(api.url, 'POST', '/api/v1/namespaces/fresh/configmaps', { metadata: { name: `bump-${i}` } });
  const l2 = await req(api.url, 'GET', '/api/v1/namespaces/fresh/pods');
  assert.ok(Number(l2.body.metadata.resourceVersion) > Number(l.body.metadata.resourceVersion));
  const p = collectWatch(`${api.url}/api/v1/namespaces/fresh/pods?watch=true&resourceVersion=${l2.body.metadata.resourceVersion}`, (e) => e.length >= 1, 10_000);
  await new Promise((r) => setTimeout(r, 200));
  await req(api.url, 'POST', '/api/v1/namespaces/fresh/pods', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const w = await p;
  assert.equal(w.status, 200);
  assert.deepEqual(w.events.map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'p']]);
  const rv0 = await req(api.url, 'GET', `/api/v1/namespaces/fresh/configmaps?resourceVersion=${l2.body.metadata.resourceVersion}`);
  assert.equal(rv0.status, 200);
  assert.equal(rv0.body.items.length, 3);
});

test('fieldValidation: Strict rejects unknown and duplicate fields, Warn warns and drops them, Ignore drops them', async () => {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fv1' }, data: { a: '1' }, bogus: 1, metadata2: {} };
  const strict = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', body);
  assert.equal(strict.status, 400);
  assert.equal(strict.body.reason, 'BadRequest');
  assert.equal(strict.body.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus", unknown field "metadata2"');
  const nested = await req(api.url, 'POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict', {
    metadata: { name: 'fvd' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x', imagee: 'typo' }] } } },
  });
  assert.equal(nested.status, 400);
  assert.match(nested.body.message, /unknown field "spec.template.spec.containers\[0\].imagee"/);
  const dup = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', '{"metadata":{"name":"fv2","name":"fv3"}}', { 'Content-Type': 'application/json' });
  assert.equal(dup.status, 400);
  assert.match(dup.body.message, /duplicate field "metadata.name"/);
  const warn = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', body);
  assert.equal(warn.status, 201);
  assert.equal(warn.headers.get('warning'), '299 - "unknown field \\"bogus\\"", 299 - "unknown field \\"metadata2\\""');
  assert.equal(warn.body.bogus, undefined, 'unknown fields are not stored');
  const ignore = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Ignore', { ...body, metadata: { name: 'fv4' } });
  assert.equal(ignore.status, 201);
  assert.equal(ignore.headers.get('warning'), null);
  const patch = await req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/fv1?fieldValidation=Strict', { datta: { x: '1' } }, MERGE);
  assert.equal(patch.status, 400);
  assert.equal(patch.body.message, 'strict decoding error: unknown field "datta"');
  const bad = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Loud', body);
  assert.equal(bad.status, 400);
});

test('pods by spec.nodeName: indexed lists and watches see binding as ADDED for the node and DELETED for the unassigned', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'idx' } });
  const mk = (name: string) => req(api.url, 'POST', '/api/v1/namespaces/idx/pods', { metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const bind = (name: string, node: string) => req(api.url, 'POST', `/api/v1/namespaces/idx/pods/${name}/binding`, { metadata: { name }, target: { name: node } });
  await mk('a1');
  await mk('b1');
  await bind('a1', 'node-a');
  await bind('b1', 'node-b');
  const p = await mk('a2');
  const rv = p.body.metadata.resourceVersion;
  const onA = collectWatch(`${api.url}/api/v1/namespaces/idx/pods?watch=true&fieldSelector=spec.nodeName%3Dnode-a&resourceVersion=${rv}`, (e) => e.length >= 1, 5000);
  const unassigned = collectWatch(`${api.url}/api/v1/namespaces/idx/pods?watch=true&fieldSelector=spec.nodeName%3D&resourceVersion=${rv}`, (e) => e.length >= 1, 5000);
  await new Promise((r) => setTimeout(r, 100));
  await bind('a2', 'node-a');
  const [wa, wu] = await Promise.all([onA, unassigned]);
  assert.deepEqual(wa.events.map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'a2']]);
  assert.deepEqual(wu.events.map((e) => [e.type, e.object.metadata.name]), [['DELETED', 'a2']]);
  const l = await req(api.url, 'GET', '/api/v1/namespaces/idx/pods?fieldSelector=spec.nodeName%3Dnode-a&resourceVersion=0');
  assert.deepEqual(l.body.items.map((o: any) => o.metadata.name).sort(), ['a1', 'a2']);
  const all = await req(api.url, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-b&resourceVersion=0');
  assert.deepEqual(all.body.items.map((o: any) => o.metadata.name), ['b1']);
  await req(api.url, 'DELETE', '/api/v1/namespaces/idx/pods/b1?gracePeriodSeconds=0');
  const after = await req(api.url, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-b&resourceVersion=0');
  assert.deepEqual(after.body.items, []);
});

test('concurrent patches without a resourceVersion all land; a patch that sets a stale one gets 409', async () => {
  const c = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'many-patches' }, data: {} });
  const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/many-patches', { data: { [`k${i}`]: String(i) } }, MERGE)));
  assert.deepEqual(rs.map((r) => r.status), Array(10).fill(200));
  const got = await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps/many-patches');
  assert.equal(Object.keys(got.body.data).length, 10);
  const stale = await req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/many-patches', { metadata: { resourceVersion: c.body.metadata.resourceVersion }, data: { x: '1' } }, MERGE);
  assert.equal(stale.status, 409);
  const staleJSON = await req(api.url, 'PATCH', '/api/v1/namespaces/default/configmaps/many-patches', [{ op: 'replace', path: '/metadata/resourceVersion', value: c.body.metadata.resourceVersion }], { 'Content-Type': 'application/json-patch+json' });
  assert.equal(staleJSON.status, 409);
});
