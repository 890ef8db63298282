/**
 * guaranteedUpdate's first try starts from the watch cache's copy; a stale copy must never show
 * through: not as a conflict, a no-op, an error, or lost fields. Runs against a real etcd with the
 * cache made stale on purpose.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { startEtcd, type EtcdHandle } from '../../test/harness/etcd.js';
import { EtcdStore } from '../storage/etcd-store.js';
import { RegistryStore } from './store.js';
import { namespaceResource } from './core/namespace.js';
import { configMapResource } from './core/config-map.js';
import type { StoredObject } from '../api/types.js';
import { StatusError } from '../api/errors.js';

let etcd: EtcdHandle;
let client: Etcd3;
let store: RegistryStore;

before(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoint.replace('http://', '') });
  store = new RegistryStore(new EtcdStore(client), pino({ level: 'silent' }), namespaceResource);
  await store.create(namespaceResource, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
  await store.startCaches([configMapResource, namespaceResource]);
});

after(async () => {
  await store.stop();
  client.close();
  await etcd.stop();
});

/** Creates a ConfigMap, updates it, and makes the cache answer with the first version from then on. */
async function staleSetup(name: string): Promise<{ stale: StoredObject; fresh: StoredObject; restore: () => void }> {
  const stale = await store.create(configMapResource, 'ns', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } });
  const fresh = await store.update(configMapResource, 'ns', name, { ...stale, data: { a: '2', b: 'kept' } }, undefined);
  const cache = store.cache(configMapResource);
  const get = cache.get.bind(cache);
  const frozen = structuredClone(stale);
  cache.get = (ns, n) => (n === name ? frozen : get(ns, n));
  return { stale, fresh, restore: () => (cache.get = get) };
}

test('a stale cached copy: the update lands on the current object, keeping its fields', async () => {
  const { fresh, restore } = await staleSetup('cm-merge');
  try {
    const r = await store.guaranteedUpdate(configMapResource, 'ns', 'cm-merge', undefined, (cur) => ({ ...cur, data: { ...cur.data, c: 'new' } }));
    assert.ok(r.changed);
    assert.deepEqual(r.object.data, { a: '2', b: 'kept', c: 'new' });
    assert.ok(Number(r.object.metadata.resourceVersion) > Number(fresh.metadata.resourceVersion));
  } finally {
    restore();
  }
});

test('a stale cached copy: a PUT carrying the current resourceVersion is no conflict; a stale one is', async () => {
  const { stale, fresh, restore } = await staleSetup('cm-rv');
  try {
    const ok = await store.update(configMapResource, 'ns', 'cm-rv', { ...fresh, data: { a: '3' } }, undefined);
    assert.deepEqual(ok.data, { a: '3' });
    await assert.rejects(
      store.update(configMapResource, 'ns', 'cm-rv', { ...stale, data: { a: '4' } }, undefined),
      (e: unknown) => e instanceof StatusError && e.code === 409,
    );
  } finally {
    restore();
  }
});

test('a stale cached copy: no-ops and errors are decided on the current object', async () => {
  const { fresh, restore } = await staleSetup('cm-noop');
  try {
    // Setting what etcd already holds is a no-op (against the stale copy it would be a change).
    const same = await store.guaranteedUpdate(configMapResource, 'ns', 'cm-noop', undefined, (cur) => ({ ...cur, data: { a: '2', b: 'kept' } }));
    assert.equal(same.changed, false);
    assert.equal(same.object.metadata.resourceVersion, fresh.metadata.resourceVersion);
    // A mutation that refuses the old content succeeds: it sees the current one.
    const r = await store.guaranteedUpdate(configMapResource, 'ns', 'cm-noop', undefined, (cur) => {
      if (cur.data?.a !== '2') throw new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'saw old data', reason: 'Conflict', code: 409 });
      return { ...cur, data: { a: '5' } };
    });
    assert.deepEqual(r.object.data, { a: '5' });
  } finally {
    restore();
  }
});

test('a cached copy of an object gone from etcd: NotFound', async () => {
  const { restore } = await staleSetup('cm-gone');
  try {
    await store.delete(configMapResource, 'ns', 'cm-gone');
    await assert.rejects(
      store.guaranteedUpdate(configMapResource, 'ns', 'cm-gone', undefined, (cur) => ({ ...cur, data: { x: 'y' } })),
      (e: unknown) => e instanceof StatusError && e.code === 404,
    );
  } finally {
    restore();
  }
});
