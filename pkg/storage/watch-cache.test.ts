/**
 * WatchCache freshness (`waitUntilFresh`) against a scripted store: when a range proves the cache
 * current it moves to etcd's revision, and events of changes that cancelled out, arriving later
 * below that revision, still reach watches that started before them and no others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchCache } from './watch-cache.js';
import type { EtcdStore, StorageEvent } from './etcd-store.js';
import type { StoredObject } from '../api/types.js';

const cm = (name: string, rv: number): StoredObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: String(rv) } });

interface Fresh {
  revision: number;
  count: number;
  changed: number;
  maxModRevision: number;
}

/** A store with one object at revision 10 whose watch and freshness answers the test drives. */
function scripted() {
  let emit!: (ev: StorageEvent) => void;
  const answers: Fresh[] = [];
  const asked: number[] = [];
  const store = {
    list: async () => ({ items: [cm('a', 5)], revision: 10 }),
    watch: async (_p: string, _after: number, onEvent: (ev: StorageEvent) => void) => {
      emit = onEvent;
      return async () => {};
    },
    changedSince: async (_p: string, after: number) => {
      asked.push(after);
      const a = answers.shift();
      if (!a) throw new Error('no scripted answer');
      return a;
    },
  } as unknown as EtcdStore;
  const ev = (type: StorageEvent['type'], name: string, rv: number): StorageEvent => ({ type, key: `/registry/configmaps/ns/${name}`, object: cm(name, rv), revision: rv });
  return { store, answers, asked, emit: (e: StorageEvent) => emit(e), ev };
}

test('a proven-fresh cache takes etcd\'s revision; cancelled-out events still reach older watches only', async () => {
  const s = scripted();
  const cache = new WatchCache(s.store, '/registry/configmaps/');
  await cache.start();
  // x was created at 11 and deleted at 12; etcd has those events in flight to the cache.
  s.answers.push({ revision: 12, count: 1, changed: 0, maxModRevision: 0 });
  assert.equal(await cache.waitUntilFresh(1000), true);
  assert.deepEqual(s.asked, [10]);
  assert.equal(cache.revision, 12);
  assert.deepEqual(cache.list().items.map((o) => o.metadata.name), ['a']);
  const fromOld: string[] = [];
  const fromNew: string[] = [];
  cache.subscribe(10, (e) => fromOld.push(`${e.type} ${e.object.metadata.name}@${e.revision}`));
  cache.subscribe(12, (e) => fromNew.push(`${e.type} ${e.object.metadata.name}@${e.revision}`));
  s.emit(s.ev('ADDED', 'x', 11));
  s.emit(s.ev('DELETED', 'x', 12));
  assert.equal(cache.revision, 12, 'late events below the proven revision do not move it back');
  assert.deepEqual(cache.list().items.map((o) => o.metadata.name), ['a']);
  s.emit(s.ev('ADDED', 'b', 13));
  assert.equal(cache.revision, 13);
  assert.deepEqual(fromOld, ['ADDED x@11', 'DELETED x@12', 'ADDED b@13']);
  assert.deepEqual(fromNew, ['ADDED b@13']);
  // A watch from 11 started now replays what came after 11.
  const from11: string[] = [];
  cache.subscribe(11, (e) => from11.push(`${e.type} ${e.object.metadata.name}@${e.revision}`));
  assert.deepEqual(from11, ['DELETED x@12', 'ADDED b@13']);
  await cache.stop();
});

test('changed keys make the cache wait for their events, then check again', async () => {
  const s = scripted();
  const cache = new WatchCache(s.store, '/registry/configmaps/');
  await cache.start();
  s.answers.push({ revision: 15, count: 2, changed: 1, maxModRevision: 14 });
  s.answers.push({ revision: 16, count: 2, changed: 0, maxModRevision: 0 });
  const fresh = cache.waitUntilFresh(2000);
  await new Promise((r) => setTimeout(r, 20));
  s.emit(s.ev('ADDED', 'c', 14));
  assert.equal(await fresh, true);
  assert.deepEqual(s.asked, [10, 14]);
  assert.equal(cache.revision, 16);
  assert.deepEqual(cache.list().items.map((o) => o.metadata.name), ['a', 'c']);
  await cache.stop();
});

test('a cache whose count disagrees and that gets no event in time is not fresh', async () => {
  const s = scripted();
  const cache = new WatchCache(s.store, '/registry/configmaps/');
  await cache.start();
  // Something was deleted; its event never comes within the timeout.
  s.answers.push({ revision: 20, count: 0, changed: 0, maxModRevision: 0 });
  assert.equal(await cache.waitUntilFresh(100), false);
  assert.equal(cache.revision, 10);
  await cache.stop();
});
