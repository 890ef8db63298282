/**
 * List and watch responses written from the per-object JSON cache (pkg/apiserver/encode.ts): the
 * bytes are those JSON.stringify gives for the whole list, items agree with single GETs read
 * from etcd, selectors, namespaces and paging pick the right items, Table output still works,
 * large bodies are gzipped for clients that accept it, and an object's cached encoding never
 * outlives an update (lists and watch events show the new revision).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { req, collectWatch } from '../harness/client.js';

let etcd: EtcdHandle;
let api: ApiserverHandle;

/** ConfigMaps per namespace; with their data, one namespace's list is larger than 128 KiB. */
const PER_NS = 150;
const FILL = 'x'.repeat(1000);

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint);
  for (const ns of ['enc-a', 'enc-b']) {
    const r = await req(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
    assert.equal(r.status, 201, r.text);
    for (let i = 0; i < PER_NS; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, async (_, j) => {
          const n = i + j;
          const c = await req(api.url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, {
            metadata: { name: `cm-${String(n).padStart(3, '0')}`, labels: { parity: n % 2 ? 'odd' : 'even', ns } },
            // Keys that look like array indexes are ordered first by JavaScript objects.
            data: { fill: FILL, '7': 'seven', text: 'é ü "quoted" \\ \n' },
          });
          assert.equal(c.status, 201, c.text);
        }),
      );
    }
  }
  // resourceVersion=0 lists may trail the last create by a moment.
  for (let i = 0; i < 100; i++) {
    const l = await req(api.url, 'GET', '/api/v1/configmaps?resourceVersion=0');
    if (l.body.items.filter((o: any) => o.metadata.namespace.startsWith('enc-')).length === 2 * PER_NS) break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  await api?.stop();
  await etcd?.stop();
});

/** A GET with exactly the given headers (no automatic Accept-Encoding); the raw body bytes. */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = http.get(api.url + path, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
  });
}

/** Lists `path`, checks the body is exactly the slow path's JSON and each item equals its GET. */
async function listChecked(path: string): Promise<any> {
  const r = await rawGet(path);
  assert.equal(r.status, 200, r.body.toString());
  const text = r.body.toString('utf8');
  assert.equal(Number(r.headers['content-length']), r.body.length);
  const parsed = JSON.parse(text);
  // The same bytes JSON.stringify gives for the parsed list, i.e. what the slow path writes.
  assert.equal(text, JSON.stringify(parsed));
  assert.equal(parsed.kind, 'ConfigMapList');
  assert.equal(parsed.apiVersion, 'v1');
  assert.match(parsed.metadata.resourceVersion, /^\d+$/);
  for (const item of parsed.items.slice(0, 5)) {
    const g = await rawGet(`/api/v1/namespaces/${item.metadata.namespace}/configmaps/${item.metadata.name}`);
    assert.equal(JSON.stringify(item), g.body.toString('utf8'));
  }
  return parsed;
}

const names = (l: { items: { metadata: { namespace: string; name: string } }[] }) => l.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);

function expected(nss: string[], filter: (n: number) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const ns of nss) for (let n = 0; n < PER_NS; n++) if (filter(n)) out.push(`${ns}/cm-${String(n).padStart(3, '0')}`);
  return out;
}

test('lists from the cache are byte-for-byte the slow path, with selectors and namespaces', async () => {
  for (const rv of ['?resourceVersion=0', '?']) {
    assert.deepEqual(names(await listChecked(`/api/v1/namespaces/enc-a/configmaps${rv}`)), expected(['enc-a']));
    const all = await listChecked(`/api/v1/configmaps${rv}`);
    // Only these two namespaces hold ConfigMaps (no controller-manager runs).
    assert.deepEqual(names(all).filter((n) => n.startsWith('enc-')), expected(['enc-a', 'enc-b']));
    const odd = await listChecked(`/api/v1/namespaces/enc-b/configmaps${rv}&labelSelector=parity%3Dodd`);
    assert.deepEqual(names(odd), expected(['enc-b'], (n) => n % 2 === 1));
    const one = await listChecked(`/api/v1/configmaps${rv}&fieldSelector=metadata.name%3Dcm-007,metadata.namespace%3Denc-b`);
    assert.deepEqual(names(one), ['enc-b/cm-007']);
    const none = await listChecked(`/api/v1/namespaces/enc-a/configmaps${rv}&labelSelector=parity%3Dnone`);
    assert.deepEqual(none.items, []);
  }
});

test('paged lists (limit and continue) return every item once, each page exactly the slow path', async () => {
  const seen: string[] = [];
  let cont = '';
  let pages = 0;
  do {
    const page = await listChecked(`/api/v1/namespaces/enc-a/configmaps?limit=40&labelSelector=parity%3Deven${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    seen.push(...names(page));
    cont = page.metadata.continue ?? '';
    pages++;
    assert.ok(pages < 10, 'too many pages');
  } while (cont);
  assert.ok(pages >= 2, `${pages} pages`);
  assert.deepEqual(seen, expected(['enc-a'], (n) => n % 2 === 0));
});

test('Table lists still work', async () => {
  const r = await req(api.url, 'GET', '/api/v1/namespaces/enc-a/configmaps?resourceVersion=0&labelSelector=parity%3Dodd', undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.kind, 'Table');
  assert.equal(r.body.rows.length, PER_NS / 2);
  assert.equal(r.body.rows[0].object.metadata.name, 'cm-001');
});

test('large lists are gzipped when the client accepts gzip, small ones and others are not', async () => {
  const plain = await rawGet('/api/v1/namespaces/enc-a/configmaps?resourceVersion=0');
  assert.ok(plain.body.length > 128 * 1024, `list is only ${plain.body.length} bytes`);
  assert.equal(plain.headers['content-encoding'], undefined);
  const gz = await rawGet('/api/v1/namespaces/enc-a/configmaps?resourceVersion=0', { 'Accept-Encoding': 'gzip' });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers['vary'], 'Accept-Encoding');
  assert.ok(gz.body.length < plain.body.length / 4, `gzip body ${gz.body.length} bytes`);
  assert.equal(gunzipSync(gz.body).toString('utf8'), plain.body.toString('utf8'));
  // A refused coding and a small body stay plain.
  const refused = await rawGet('/api/v1/namespaces/enc-a/configmaps?resourceVersion=0', { 'Accept-Encoding': 'gzip;q=0, identity' });
  assert.equal(refused.headers['content-encoding'], undefined);
  assert.equal(refused.body.toString('utf8'), plain.body.toString('utf8'));
  const small = await rawGet('/api/v1/namespaces/enc-a/configmaps?resourceVersion=0&fieldSelector=metadata.name%3Dcm-001', { 'Accept-Encoding': 'gzip' });
  assert.equal(small.headers['content-encoding'], undefined);
  assert.equal(JSON.parse(small.body.toString('utf8')).items.length, 1);
  // A large Table is gzipped too (the generic JSON path).
  const table = await rawGet('/api/v1/namespaces/enc-a/configmaps?resourceVersion=0&includeObject=Object', { 'Accept-Encoding': 'gzip', Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.equal(table.headers['content-encoding'], 'gzip');
  assert.equal(JSON.parse(gunzipSync(table.body).toString('utf8')).rows.length, PER_NS);
});

test('after updates, lists and watch events carry the new revision, never a stale cached encoding', async () => {
  const path = '/api/v1/namespaces/enc-b/configmaps';
  // Encode the current revision in a list and a watch first, so that a stale entry would show.
  const before = await listChecked(`${path}?resourceVersion=0`);
  const rv0 = before.metadata.resourceVersion;
  const watch = collectWatch(`${api.url}${path}?watch=true&resourceVersion=${rv0}`, (evs) => evs.filter((e) => e.type === 'MODIFIED').length >= 3);
  await new Promise((r) => setTimeout(r, 300));
  for (let v = 1; v <= 3; v++) {
    const cur = await req(api.url, 'GET', `${path}/cm-010`);
    const upd = await req(api.url, 'PUT', `${path}/cm-010`, { ...cur.body, data: { ...cur.body.data, version: String(v) } });
    assert.equal(upd.status, 200, upd.text);
    const consistent = await listChecked(`${path}?fieldSelector=metadata.name%3Dcm-010`);
    assert.equal(consistent.items[0].data.version, String(v));
    assert.equal(consistent.items[0].metadata.resourceVersion, upd.body.metadata.resourceVersion);
  }
  const w = await watch;
  const mods = w.events.filter((e) => e.type === 'MODIFIED');
  assert.deepEqual(mods.map((e) => e.object.data.version), ['1', '2', '3']);
  const after = await listChecked(`${path}?resourceVersion=0`);
  const item = after.items.find((i: any) => i.metadata.name === 'cm-010');
  assert.equal(item.data.version, '3');
  assert.equal(item.metadata.resourceVersion, mods[2].object.metadata.resourceVersion);
  // The other items are unchanged, and still byte-for-byte what they were.
  const others = (l: any) => l.items.filter((i: any) => i.metadata.name !== 'cm-010').map((i: any) => JSON.stringify(i));
  assert.deepEqual(others(after), others(before));
  // A label change that makes the object leave a selector is a DELETED for a selective watcher.
  const sel = collectWatch(`${api.url}${path}?watch=true&resourceVersion=${after.metadata.resourceVersion}&labelSelector=parity%3Deven`, (evs) => evs.length >= 1);
  await new Promise((r) => setTimeout(r, 300));
  const cur = await req(api.url, 'GET', `${path}/cm-010`);
  const relabel = await req(api.url, 'PUT', `${path}/cm-010`, { ...cur.body, metadata: { ...cur.body.metadata, labels: { parity: 'none' } } });
  assert.equal(relabel.status, 200, relabel.text);
  const s = await sel;
  assert.equal(s.events[0].type, 'DELETED');
  assert.equal(s.events[0].object.metadata.name, 'cm-010');
  const evens = await listChecked(`${path}?resourceVersion=0&labelSelector=parity%3Deven`);
  assert.ok(!names(evens).includes('enc-b/cm-010'));
});
