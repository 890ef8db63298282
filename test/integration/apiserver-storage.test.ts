/**
 * The apiserver's storage semantics against a real etcd: create/get/update/delete, optimistic
 * concurrency, paging, watch replay, compaction, and bad input.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { req, collectWatch } from '../harness/client.js';

let etcd: EtcdHandle;
let api: ApiserverHandle;

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint);
});

after(async () => {
  await api?.stop();
  await etcd?.stop();
});

const cm = (name: string, data: Record<string, string> = { a: '1' }) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

test('create, get, update and delete a ConfigMap; keys and resourceVersions follow etcd', async () => {
  const c = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', cm('one'));
  assert.equal(c.status, 201);
  assert.ok(c.body.metadata.uid);
  assert.match(c.body.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const client = new Etcd3({ hosts: etcd.endpoint.replace('http://', '') });
  try {
    const raw = await client.get('/registry/configmaps/default/one').exec();
    assert.equal(raw.kvs.length, 1);
    assert.equal(raw.kvs[0]!.mod_revision, c.body.metadata.resourceVersion, 'resourceVersion is the mod_revision');
    assert.equal(JSON.parse(raw.kvs[0]!.value.toString()).metadata.resourceVersion, undefined, 'resourceVersion is not stored');
  } finally {
    client.close();
  }
  const dup = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', cm('one'));
  assert.equal(dup.status, 409);
  assert.equal(dup.body.reason, 'AlreadyExists');
  assert.equal(dup.body.message, 'configmaps "one" already exists');

  const g = await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps/one');
  assert.equal(g.status, 200);
  assert.deepEqual(g.body.data, { a: '1' });

  const u = await req(api.url, 'PUT', '/api/v1/namespaces/default/configmaps/one', { ...g.body, data: { a: '2' } });
  assert.equal(u.status, 200);
  assert.ok(Number(u.body.metadata.resourceVersion) > Number(g.body.metadata.resourceVersion));

  const stale = await req(api.url, 'PUT', '/api/v1/namespaces/default/configmaps/one', { ...g.body, data: { a: '3' } });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.reason, 'Conflict');
  assert.equal(stale.body.message, 'Operation cannot be fulfilled on configmaps "one": the object has been modified; please apply your changes to the latest version and try again');

  const d = await req(api.url, 'DELETE', '/api/v1/namespaces/default/configmaps/one');
  assert.equal(d.status, 200);
  const gone = await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps/one');
  assert.equal(gone.status, 404);
  assert.equal(gone.body.reason, 'NotFound');
  assert.equal(gone.body.message, 'configmaps "one" not found');
});

test('two writers with the same resourceVersion: exactly one wins', async () => {
  const c = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', cm('race'));
  const results = await Promise.all(
    [1, 2, 3, 4].map((i) => req(api.url, 'PUT', '/api/v1/namespaces/default/configmaps/race', { ...c.body, data: { w: String(i) } })),
  );
  const codes = results.map((r) => r.status).sort();
  assert.deepEqual(codes, [200, 409, 409, 409]);
});

test('200 concurrent creates give 200 objects', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'many' } });
  const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => req(api.url, 'POST', '/api/v1/namespaces/many/configmaps', cm(`c${i}`))));
  assert.ok(rs.every((r) => r.status === 201), JSON.stringify(rs.find((r) => r.status !== 201)?.body));
  const l = await req(api.url, 'GET', '/api/v1/namespaces/many/configmaps');
  assert.equal(l.body.items.length, 200);
});

test('generateName gives a 5-character suffix', async () => {
  const c = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { generateName: 'gen-' }, data: {} });
  assert.equal(c.status, 201);
  assert.match(c.body.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
});

test('paging with limit and continue is consistent at one revision', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'paging' } });
  for (let i = 0; i < 7; i++) await req(api.url, 'POST', '/api/v1/namespaces/paging/configmaps', cm(`p${i}`));
  const p1 = await req(api.url, 'GET', '/api/v1/namespaces/paging/configmaps?limit=3');
  assert.equal(p1.body.items.length, 3);
  assert.ok(p1.body.metadata.continue);
  assert.equal(p1.body.metadata.remainingItemCount, 4);
  // A write between pages does not show in later pages.
  await req(api.url, 'POST', '/api/v1/namespaces/paging/configmaps', cm('p9'));
  const p2 = await req(api.url, 'GET', `/api/v1/namespaces/paging/configmaps?limit=3&continue=${p1.body.metadata.continue}`);
  assert.equal(p2.body.metadata.resourceVersion, p1.body.metadata.resourceVersion);
  const p3 = await req(api.url, 'GET', `/api/v1/namespaces/paging/configmaps?limit=3&continue=${p2.body.metadata.continue}`);
  assert.equal(p3.body.items.length, 1);
  assert.equal(p3.body.metadata.continue, undefined);
  const names = [...p1.body.items, ...p2.body.items, ...p3.body.items].map((o: any) => o.metadata.name);
  assert.deepEqual(names, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  const bad = await req(api.url, 'GET', '/api/v1/namespaces/paging/configmaps?limit=3&continue=garbage');
  assert.equal(bad.status, 400);
});

test('a watch from N sees exactly the events after N', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'w1' } });
  const a = await req(api.url, 'POST', '/api/v1/namespaces/w1/configmaps', cm('a'));
  const b = await req(api.url, 'POST', '/api/v1/namespaces/w1/configmaps', cm('b'));
  const bu = await req(api.url, 'PUT', '/api/v1/namespaces/w1/configmaps/b', { ...b.body, data: { x: 'y' } });
  await req(api.url, 'DELETE', '/api/v1/namespaces/w1/configmaps/a');
  const w = await collectWatch(`${api.url}/api/v1/namespaces/w1/configmaps?watch=true&resourceVersion=${a.body.metadata.resourceVersion}`, (evs) => evs.length >= 3, 5000);
  assert.equal(w.status, 200);
  assert.deepEqual(
    w.events.map((e) => [e.type, e.object.metadata.name]),
    [
      ['ADDED', 'b'],
      ['MODIFIED', 'b'],
      ['DELETED', 'a'],
    ],
  );
  assert.equal(w.events[1].object.metadata.resourceVersion, bu.body.metadata.resourceVersion);
});

test('an object that stops matching the selector arrives as DELETED', async () => {
  await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'w2' } });
  const c = await req(api.url, 'POST', '/api/v1/namespaces/w2/configmaps', { metadata: { name: 's', labels: { app: 'x' } } });
  const p = collectWatch(`${api.url}/api/v1/namespaces/w2/configmaps?watch=true&labelSelector=app%3Dx&resourceVersion=${c.body.metadata.resourceVersion}`, (evs) => evs.length >= 1, 5000);
  await new Promise((r) => setTimeout(r, 200));
  await req(api.url, 'PATCH', '/api/v1/namespaces/w2/configmaps/s', { metadata: { labels: { app: 'y' } } }, { 'Content-Type': 'application/merge-patch+json' });
  const w = await p;
  assert.equal(w.events[0].type, 'DELETED');
  assert.equal(w.events[0].object.metadata.name, 's');
});

test('a compacted resourceVersion answers 410 Gone', async () => {
  const c = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', cm('compact-me'));
  const rv = Number(c.body.metadata.resourceVersion);
  // Move past the watch cache's window so the request has to go to etcd, then compact.
  await req(api.url, 'PUT', '/api/v1/namespaces/default/configmaps/compact-me', { ...c.body, data: { b: '2' } });
  const client = new Etcd3({ hosts: etcd.endpoint.replace('http://', '') });
  try {
    const head = await client.get('/none').exec();
    await client.kv.compact({ revision: Number(head.header.revision), physical: true });
  } finally {
    client.close();
  }
  const l = await req(api.url, 'GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
  assert.equal(l.status, 410);
  assert.equal(l.body.reason, 'Expired');
  // A second apiserver's watch cache starts after the compaction, so an old resourceVersion has to
  // come from etcd's history, which is gone.
  const api2 = await startApiserver(etcd.endpoint);
  try {
    const w = await collectWatch(`${api2.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, (evs) => evs.length >= 1, 5000);
    assert.equal(w.events[0]?.type, 'ERROR');
    assert.equal(w.events[0].object.code, 410);
    assert.equal(w.events[0].object.reason, 'Expired');
  } finally {
    await api2.stop();
  }
});

test('bad input gets the right Status and the server keeps serving', async () => {
  const badJSON = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', '{"metadata":', { 'Content-Type': 'application/json' });
  assert.equal(badJSON.status, 400);
  assert.equal(badJSON.body.kind, 'Status');
  const wrongKind = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } });
  assert.equal(wrongKind.status, 400);
  const wrongVersion = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } });
  assert.equal(wrongVersion.status, 400);
  assert.equal(wrongVersion.body.message, 'the API version in the data (apps/v1) does not match the expected API version (v1)');
  const badName = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', cm('Bad_Name'));
  assert.equal(badName.status, 422);
  assert.equal(badName.body.reason, 'Invalid');
  assert.equal(badName.body.details.causes[0].field, 'metadata.name');
  const big = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', JSON.stringify(cm('big', { x: 'a'.repeat(4 * 1024 * 1024) })), { 'Content-Type': 'application/json' });
  assert.equal(big.status, 413);
  const unknown = await req(api.url, 'GET', '/api/v1/namespaces/default/widgets');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.kind, 'Status');
  const media = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', 'x', { 'Content-Type': 'text/plain' });
  assert.equal(media.status, 415);
  const noNs = await req(api.url, 'POST', '/api/v1/namespaces/nope/configmaps', cm('x'));
  assert.equal(noNs.status, 404);
  assert.equal(noNs.body.message, 'namespaces "nope" not found');
  const badSel = await req(api.url, 'GET', '/api/v1/configmaps?labelSelector=a%20in%20(');
  assert.equal(badSel.status, 400);
  const array = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', '[1,2]', { 'Content-Type': 'application/json' });
  assert.equal(array.status, 400);
  const ok = await req(api.url, 'GET', '/healthz');
  assert.equal(ok.status, 200);
});
