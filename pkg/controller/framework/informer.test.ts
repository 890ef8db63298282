import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { kubeConfigFromString } from '../../client/kubeconfig.js';
import { RestClient } from '../../client/rest.js';
import { FakeClock, settle } from './clock.js';
import { SharedInformerFactory, informerResources } from './informer.js';

const pod = (name: string, rv: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', resourceVersion: rv, uid: name } });

/** A fake apiserver: `lists` answer successive lists, `watches` successive watches (undefined: hang). */
async function fakeServer(lists: { status?: number; rv?: string; items?: unknown[] }[], watches: (unknown[] | undefined)[]) {
  const seen: string[] = [];
  const open: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push(`${url.searchParams.get('watch') ? 'watch' : 'list'} ${url.searchParams.get('resourceVersion') ?? ''}`);
    if (url.searchParams.get('watch')) {
      const events = watches.shift();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (!events) {
        open.push(res);
        return;
      }
      for (const e of events) res.write(JSON.stringify(e) + '\n');
      res.end();
      return;
    }
    const l = lists.shift() ?? { status: 500 };
    if (l.status) {
      res.writeHead(l.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: l.status, reason: 'InternalError', message: 'boom' }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: l.rv }, items: l.items }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = kubeConfigFromString(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {}}]
current-context: c
`);
  return {
    kc,
    seen,
    close: async () => {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function until(what: string, f: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('an informer delivers the list, then updates with the old object; a 410 in the watch relists', async (t) => {
  const srv = await fakeServer(
    [
      { rv: '10', items: [pod('a', '5'), pod('b', '6')] },
      { rv: '20', items: [pod('b', '15'), pod('c', '16')] },
    ],
    [[{ type: 'MODIFIED', object: pod('a', '11') }, { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } }], undefined],
  );
  const client = new RestClient(srv.kc);
  const factory = new SharedInformerFactory(srv.kc, client, pino({ level: 'silent' }));
  t.after(async () => {
    await factory.stop();
    await client.close();
    await srv.close();
  });
  const inf = factory.informerFor(informerResources.pods);
  const log: string[] = [];
  inf.addEventHandler({
    add: (o) => log.push(`add ${o.metadata!.name}@${o.metadata!.resourceVersion}`),
    update: (old, cur) => log.push(`update ${cur.metadata!.name} ${old.metadata!.resourceVersion}->${cur.metadata!.resourceVersion}`),
    delete: (o) => log.push(`delete ${o.metadata!.name}`),
  });
  assert.equal(inf.hasSynced(), false);
  factory.start();
  await until('synced', () => inf.hasSynced());
  await until('the relist and the watch after it', () => log.length >= 6 && srv.seen.length >= 4);
  assert.deepEqual(log, ['add a@5', 'add b@6', 'update a 5->11', 'delete a', 'update b 6->15', 'add c@16']);
  assert.deepEqual(srv.seen.slice(0, 4), ['list ', 'watch 10', 'list ', 'watch 20']);
  assert.deepEqual(inf.list('ns').map((p) => p.metadata!.name).sort(), ['b', 'c']);
  assert.equal(inf.get('ns', 'c')!.kind, 'Pod');
  // A handler added late sees the cache as adds.
  const late: string[] = [];
  inf.addEventHandler({ add: (o) => late.push(o.metadata!.name!) });
  assert.deepEqual(late.sort(), ['b', 'c']);
});

test('a failed list is retried after a backoff on the injected clock', async (t) => {
  const srv = await fakeServer([{ status: 500 }, { rv: '3', items: [pod('a', '2')] }], [undefined]);
  const client = new RestClient(srv.kc);
  const clock = new FakeClock();
  const factory = new SharedInformerFactory(srv.kc, client, pino({ level: 'silent' }), clock);
  t.after(async () => {
    await factory.stop();
    await client.close();
    await srv.close();
  });
  const inf = factory.informerFor(informerResources.pods);
  factory.start();
  await until('the first list failed', () => srv.seen.length === 1 && clock.waiters() === 1);
  await settle();
  assert.equal(inf.hasSynced(), false);
  clock.step(800);
  await until('synced after the retry', () => inf.hasSynced());
  assert.deepEqual(inf.list().map((p) => p.metadata!.name), ['a']);
});
