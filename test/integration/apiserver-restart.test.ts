/**
 * Restarting the apiserver mid-watch: a client that resumes from its last resourceVersion sees
 * no gap and no duplicate, whether the history comes from the new apiserver's cache or etcd.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { spawnApiserver, startApiserver } from '../harness/apiserver.js';
import { req } from '../harness/client.js';

let etcd: EtcdHandle;

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  await etcd?.stop();
});

/** A watch reader that records events and the last resourceVersion it saw. */
function watchStream(url: string) {
  const events: { type: string; name: string; rv: string }[] = [];
  const ac = new AbortController();
  const done = (async () => {
    try {
      const r = await fetch(url, { signal: ac.signal });
      const reader = r.body!.getReader();
      let buf = '';
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buf += Buffer.from(value).toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line);
          events.push({ type: ev.type, name: ev.object.metadata?.name, rv: ev.object.metadata?.resourceVersion });
        }
      }
    } catch {
      // the apiserver went away, or we aborted
    }
  })();
  return { events, stop: () => ac.abort(), done };
}

async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a watch resumed after an apiserver restart sees no gap and no duplicate', async () => {
  let proc = await spawnApiserver(etcd.endpoint);
  const port = proc.port;
  const base = proc.url;
  try {
    await req(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'restart' } });
    const first = await req(base, 'POST', '/api/v1/namespaces/restart/configmaps', { metadata: { name: 'cm-0' } });
    const w1 = watchStream(`${base}/api/v1/namespaces/restart/configmaps?watch=true&resourceVersion=${first.body.metadata.resourceVersion}`);
    for (let i = 1; i <= 3; i++) await req(base, 'POST', '/api/v1/namespaces/restart/configmaps', { metadata: { name: `cm-${i}` } });
    await waitUntil(() => w1.events.length >= 3, 'the first three events');
    await proc.kill();
    await w1.done;
    const lastRV = w1.events.at(-1)!.rv;

    // While the first apiserver is down, writes go through another one.
    const other = await startApiserver(etcd.endpoint);
    try {
      for (let i = 4; i <= 6; i++) await req(other.url, 'POST', '/api/v1/namespaces/restart/configmaps', { metadata: { name: `cm-${i}` } });
      await req(other.url, 'DELETE', '/api/v1/namespaces/restart/configmaps/cm-1');
    } finally {
      await other.stop();
    }

    proc = await spawnApiserver(etcd.endpoint, port);
    const w2 = watchStream(`${base}/api/v1/namespaces/restart/configmaps?watch=true&resourceVersion=${lastRV}`);
    await req(base, 'POST', '/api/v1/namespaces/restart/configmaps', { metadata: { name: 'cm-7' } });
    await waitUntil(() => w2.events.length >= 5, 'the events after the restart');
    w2.stop();
    const all = [...w1.events, ...w2.events].map((e) => `${e.type} ${e.name}`);
    assert.deepEqual(all, ['ADDED cm-1', 'ADDED cm-2', 'ADDED cm-3', 'ADDED cm-4', 'ADDED cm-5', 'ADDED cm-6', 'DELETED cm-1', 'ADDED cm-7']);
    const rvs = [...w1.events, ...w2.events].map((e) => Number(e.rv));
    assert.deepEqual(rvs, [...rvs].sort((a, b) => a - b), 'resourceVersions increase');
    assert.equal(new Set(rvs).size, rvs.length, 'no duplicate resourceVersion');
  } finally {
    await proc.kill();
  }
});
