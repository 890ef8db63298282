/**
 * The watch cache against a real etcd: consistent lists (resourceVersion unset) served from the
 * cache once it is provably current, also when another writer changed etcd behind the
 * apiserver's back; resourceVersion=0 lists from the cache; a watch from a consistent list's
 * resourceVersion; a watcher too slow to keep up is closed and resumes from its last
 * resourceVersion.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { req, collectWatch } from '../harness/client.js';

let etcd: EtcdHandle;
let api: ApiserverHandle;
let raw: Etcd3;

/** The small watch buffer the slow-watcher test overruns. */
const watchBuffer = 256 * 1024;

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint, { maxWatchBufferBytes: watchBuffer });
  raw = new Etcd3({ hosts: etcd.endpoint.replace('http://', '') });
});

after(async () => {
  raw?.close();
  await api?.stop();
  await etcd?.stop();
});

async function namespace(name: string): Promise<void> {
  const r = await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name } });
  assert.equal(r.status, 201, r.text);
}

/** How many times the apiserver listed `type` from etcd, from its etcd_request_duration_seconds. */
async function etcdLists(type: string): Promise<number> {
  const m = await req(api.url, 'GET', '/metrics');
  const re = new RegExp(`^etcd_request_duration_seconds_count\\{operation="list",type="${type}"\\} (\\d+)$`, 'm');
  return Number(re.exec(m.text)?.[1] ?? 0);
}

async function etcdRevision(): Promise<number> {
  const r = await raw.get('/registry/none').exec();
  return Number(r.header.revision);
}

/** Writes a ConfigMap straight into etcd, as another apiserver would. */
async function putRaw(ns: string, name: string, data: Record<string, string>): Promise<void> {
  const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, uid: `uid-${name}`, creationTimestamp: '2024-01-01T00:00:00Z' }, data };
  await raw.put(`/registry/configmaps/${ns}/${name}`).value(JSON.stringify(obj));
}

const names = (l: { body: { items: { metadata: { name: string } }[] } }) => l.body.items.map((i) => i.metadata.name);

test('a consistent list sees writes made straight to etcd at once: creates, updates and deletes', async () => {
  await namespace('cons');
  for (let i = 0; i < 3; i++) assert.equal((await req(api.url, 'POST', '/api/v1/namespaces/cons/configmaps', { metadata: { name: `own-${i}` }, data: { v: '1' } })).status, 201);
  // Not through this apiserver: the cache learns of it only from its etcd watch.
  await putRaw('cons', 'other', { v: 'a' });
  const rev = await etcdRevision();
  const l1 = await req(api.url, 'GET', '/api/v1/namespaces/cons/configmaps');
  assert.equal(l1.status, 200);
  assert.deepEqual(names(l1), ['other', 'own-0', 'own-1', 'own-2']);
  assert.ok(Number(l1.body.metadata.resourceVersion) >= rev, 'the list is as new as etcd was when it was asked for');

  await putRaw('cons', 'other', { v: 'b' });
  const l2 = await req(api.url, 'GET', '/api/v1/namespaces/cons/configmaps');
  assert.equal(l2.body.items.find((i: { metadata: { name: string } }) => i.metadata.name === 'other').data.v, 'b');

  await raw.delete().key('/registry/configmaps/cons/own-1').exec();
  const l3 = await req(api.url, 'GET', '/api/v1/namespaces/cons/configmaps');
  assert.deepEqual(names(l3), ['other', 'own-0', 'own-2']);

  // A delete and a create in one go keep the count; the newer key's revision gives it away.
  await raw.delete().key('/registry/configmaps/cons/own-2').exec();
  await putRaw('cons', 'late', { v: '1' });
  const l4 = await req(api.url, 'GET', '/api/v1/namespaces/cons/configmaps');
  assert.deepEqual(names(l4), ['late', 'other', 'own-0']);
});

test('consistent and resourceVersion=0 lists of a current cache do not list etcd, and carry etcd\'s revision', async () => {
  await namespace('quiet');
  for (let i = 0; i < 5; i++) await req(api.url, 'POST', '/api/v1/namespaces/quiet/configmaps', { metadata: { name: `c-${i}` } });
  // Warm: the first consistent list may wait for the cache to see the creates.
  await req(api.url, 'GET', '/api/v1/namespaces/quiet/configmaps');
  const before = await etcdLists('configmaps');
  for (let round = 0; round < 3; round++) {
    // Other resources move etcd's revision past the ConfigMaps' last event.
    await req(api.url, 'POST', '/api/v1/namespaces/quiet/secrets', { metadata: { name: `s-${round}` } });
    const rev = await etcdRevision();
    const l = await req(api.url, 'GET', '/api/v1/namespaces/quiet/configmaps');
    assert.equal(l.status, 200);
    assert.equal(l.body.items.length, 5);
    assert.ok(Number(l.body.metadata.resourceVersion) >= rev, `list resourceVersion ${l.body.metadata.resourceVersion} is at least etcd's ${rev}`);
    const l0 = await req(api.url, 'GET', '/api/v1/namespaces/quiet/configmaps?resourceVersion=0');
    assert.equal(l0.body.items.length, 5);
  }
  assert.equal(await etcdLists('configmaps'), before, 'every list came from the watch cache');
  // A paged list still reads etcd, at one revision.
  const paged = await req(api.url, 'GET', '/api/v1/namespaces/quiet/configmaps?limit=2');
  assert.equal(paged.body.items.length, 2);
  assert.ok(paged.body.metadata.continue);
  assert.equal(await etcdLists('configmaps'), before + 1);
});

test('a watch from a consistent list\'s resourceVersion sees exactly the later events', async () => {
  await namespace('follow');
  await req(api.url, 'POST', '/api/v1/namespaces/follow/configmaps', { metadata: { name: 'before' } });
  await req(api.url, 'POST', '/api/v1/namespaces/follow/secrets', { metadata: { name: 'bump' } });
  const l = await req(api.url, 'GET', '/api/v1/namespaces/follow/configmaps');
  const w = collectWatch(`${api.url}/api/v1/namespaces/follow/configmaps?watch=true&resourceVersion=${l.body.metadata.resourceVersion}`, (e) => e.length >= 2, 10_000);
  await new Promise((r) => setTimeout(r, 200));
  await req(api.url, 'POST', '/api/v1/namespaces/follow/configmaps', { metadata: { name: 'after' } });
  await req(api.url, 'DELETE', '/api/v1/namespaces/follow/configmaps/before');
  const got = await w;
  assert.equal(got.status, 200);
  assert.deepEqual(
    got.events.map((e) => [e.type, e.object.metadata.name]),
    [
      ['ADDED', 'after'],
      ['DELETED', 'before'],
    ],
  );
});

test('a watcher that does not read is closed once its buffer is full, and resumes from its last resourceVersion', async () => {
  await namespace('slow');
  const start = await req(api.url, 'GET', '/api/v1/namespaces/slow/configmaps');
  const url = new URL(`${api.url}/api/v1/namespaces/slow/configmaps?watch=true&resourceVersion=${start.body.metadata.resourceVersion}`);
  const chunks: Buffer[] = [];
  let ended = false;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(url, resolve).on('error', reject));
  try {
    assert.equal(res.statusCode, 200);
    // Stop reading: TCP pushes back, and the server's queue for this watcher grows.
    res.pause();
    res.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise<void>((resolve) => {
      res.on('end', () => {
        ended = true;
        resolve();
      });
      res.on('close', () => resolve());
    });
    // 40 ConfigMaps of 200 KB: more than the socket buffers and the 256 KiB watch buffer hold.
    const big = 'x'.repeat(200 * 1024);
    const total = 40;
    for (let i = 0; i < total; i++) {
      const r = await req(api.url, 'POST', '/api/v1/namespaces/slow/configmaps', { metadata: { name: `big-${String(i).padStart(2, '0')}` }, data: { big } });
      assert.equal(r.status, 201);
    }
    res.resume();
    await Promise.race([done, new Promise((r) => setTimeout(r, 20_000))]);
    assert.ok(ended, 'the server ended the stream');
    const events = Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string; resourceVersion: string } } });
    assert.ok(events.length < total, `the slow watcher got ${events.length} of ${total} events before it was closed`);
    assert.ok(events.every((e) => e.type === 'ADDED'));
    const seen = events.map((e) => e.object.metadata.name);
    assert.deepEqual(seen, Array.from({ length: events.length }, (_, i) => `big-${String(i).padStart(2, '0')}`), 'no gap before the close');
    // Resuming from the last resourceVersion seen delivers the rest, in order, without repeats.
    const lastRV = events.at(-1)?.object.metadata.resourceVersion ?? start.body.metadata.resourceVersion;
    const rest = await collectWatch(`${api.url}/api/v1/namespaces/slow/configmaps?watch=true&resourceVersion=${lastRV}`, (e) => e.length >= total - events.length, 20_000);
    assert.deepEqual(
      [...seen, ...rest.events.map((e) => e.object.metadata.name)],
      Array.from({ length: total }, (_, i) => `big-${String(i).padStart(2, '0')}`),
    );
  } finally {
    res.destroy();
  }
});
