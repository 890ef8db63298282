/**
 * The etcd v3 store behind every resource.
 *
 * Invariants:
 * - Values are the object's JSON without `metadata.resourceVersion`; the resourceVersion of an
 *   object read back is its key's etcd mod_revision, and a list's is the store revision it was
 *   read at.
 * - Create is a transaction on create_revision == 0; update and delete compare mod_revision, so two
 *   writers that read the same version cannot both win.
 */
import { Etcd3, type IKeyValue, type IRangeRequest } from 'etcd3';
import { StorageError, fromEtcdError } from './errors.js';
import type { StoredObject } from '../api/types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change to one key, as etcd reported it. */
export interface StorageEvent {
  type: WatchEventType;
  key: string;
  /** The object after the change; for DELETED, its last state stamped with the deletion revision. */
  object: StoredObject;
  /** The object before the change, when there was one (etcd's prev_kv). */
  prevObject?: StoredObject;
  revision: number;
}

export interface ListOptions {
  /** Read at this revision (0 or unset: the newest). */
  revision?: number;
  /** Start at this key (inclusive) instead of the prefix's beginning: paging. */
  startKey?: string;
  /** Return at most this many matching objects (0 or unset: all). */
  limit?: number;
  /** Only objects for which this holds count toward the limit and are returned. */
  predicate?: (obj: StoredObject) => boolean;
}

export interface ListResult {
  items: StoredObject[];
  revision: number;
  /** The key to continue from when the list was cut by the limit. */
  nextKey?: string;
  /** How many keys remain after this page (only exact without a predicate). */
  remaining?: number;
}

/**
 * Transforms values on their way to and from etcd (encryption at rest). `key` is the etcd key,
 * so a transformer can apply to some resources only and bind ciphertext to its key.
 */
export interface ValueTransformer {
  toStorage(key: string, plain: Buffer): Buffer;
  /** Returns the plaintext, and whether the value should be rewritten (stale key or format). */
  fromStorage(key: string, stored: Buffer): Buffer;
}

/** Timing hook for etcd_request_duration_seconds. */
export type StoreObserver = (operation: string, type: string, seconds: number) => void;

function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i] = b[i]! + 1;
      return out;
    }
  }
  return Buffer.from([0]);
}

export class EtcdStore {
  /** Encryption at rest, when configured. */
  transformer: ValueTransformer | undefined;

  constructor(
    readonly client: Etcd3,
    private readonly observe: StoreObserver = () => {},
  ) {}

  /** Decodes a stored value, stamping resourceVersion with the revision given (mod_revision by default). */
  decode(kv: IKeyValue, revision?: string | number): StoredObject {
    const raw = this.transformer ? this.transformer.fromStorage(kv.key.toString('utf8'), kv.value) : kv.value;
    const obj = JSON.parse(raw.toString('utf8')) as StoredObject;
    obj.metadata ??= {};
    obj.metadata.resourceVersion = String(revision ?? kv.mod_revision);
    return obj;
  }

  encode(obj: StoredObject, key: string): Buffer {
    const rv = obj.metadata.resourceVersion;
    delete obj.metadata.resourceVersion;
    try {
      const plain = Buffer.from(JSON.stringify(obj));
      return this.transformer ? this.transformer.toStorage(key, plain) : plain;
    } finally {
      if (rv !== undefined) obj.metadata.resourceVersion = rv;
    }
  }

  private async timed<T>(operation: string, type: string, fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      this.observe(operation, type, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  async get(key: string, type = ''): Promise<StoredObject | null> {
    return this.timed('get', type, async () => {
      const res = await this.client.kv.range({ key: Buffer.from(key) }).catch((e) => {
        throw fromEtcdError(e, key);
      });
      const kv = res.kvs[0];
      return kv ? this.decode(kv) : null;
    });
  }

  /** The store's current revision. */
  async currentRevision(): Promise<number> {
    const res = await this.client.kv.range({ key: Buffer.from('/registry/__revision_probe'), count_only: true } as IRangeRequest);
    return Number(res.header.revision);
  }

  /**
   * At etcd's current revision: how many keys the prefix holds, and how many of them, up to
   * which mod_revision, changed after `afterRevision`. Only keys travel back, not values.
   */
  async changedSince(prefix: string, afterRevision: number, type = ''): Promise<{ revision: number; count: number; changed: number; maxModRevision: number }> {
    return this.timed('getCurrentResourceVersion', type, async () => {
      const res = await this.client.kv
        .range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), keys_only: true, min_mod_revision: afterRevision + 1 } as IRangeRequest)
        .catch((e) => {
          throw fromEtcdError(e, prefix);
        });
      let maxModRevision = 0;
      for (const kv of res.kvs) maxModRevision = Math.max(maxModRevision, Number(kv.mod_revision));
      return { revision: Number(res.header.revision), count: Number(res.count), changed: res.kvs.length, maxModRevision };
    });
  }

  /**
   * Lists the keys under a prefix at one revision. With a limit, reads in batches until that many
   * objects matched, and tells where to continue.
   */
  async list(prefix: string, opts: ListOptions = {}, type = ''): Promise<ListResult> {
    return this.timed('list', type, async () => {
      const end = prefixEnd(prefix);
      let start = Buffer.from(opts.startKey ?? prefix);
      let revision = opts.revision ?? 0;
      const limit = opts.limit ?? 0;
      const items: StoredObject[] = [];
      for (;;) {
        const batch = limit > 0 ? Math.max(limit - items.length, opts.predicate ? Math.min(limit * 2, 1000) : 0) : 0;
        const req: IRangeRequest = { key: start, range_end: end, revision: revision || undefined };
        if (batch > 0) req.limit = batch;
        const res = await this.client.kv.range(req).catch((e) => {
          throw fromEtcdError(e, prefix);
        });
        if (!revision) revision = Number(res.header.revision);
        let i = 0;
        for (; i < res.kvs.length; i++) {
          const kv = res.kvs[i]!;
          const obj = this.decode(kv);
          if (opts.predicate && !opts.predicate(obj)) continue;
          items.push(obj);
          if (limit > 0 && items.length >= limit) break;
        }
        if (limit > 0 && items.length >= limit) {
          // More keys left either in this batch or beyond it.
          const consumedAll = i >= res.kvs.length - 1;
          const lastKey = res.kvs[Math.min(i, res.kvs.length - 1)]!.key.toString('utf8');
          if (!consumedAll || res.more) {
            const remaining = Number(res.count) - (i + 1);
            return { items, revision, nextKey: lastKey + '\x00', remaining: opts.predicate ? undefined : remaining };
          }
          return { items, revision };
        }
        if (!res.more) return { items, revision };
        const last = res.kvs[res.kvs.length - 1]!.key;
        start = Buffer.concat([last, Buffer.from([0])]);
      }
    });
  }

  /** Creates the key; fails with KeyExists if it is there. */
  async create(key: string, obj: StoredObject, type = ''): Promise<StoredObject> {
    return this.timed('create', type, async () => {
      const value = this.encode(obj, key);
      const k = Buffer.from(key);
      const res = await this.client.kv.txn({
        compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: k, value } }],
        failure: [],
      });
      if (!res.succeeded) throw new StorageError('KeyExists', key);
      obj.metadata.resourceVersion = String(res.header.revision);
      return obj;
    });
  }

  /** Replaces the key if its mod_revision is still `expected`; Conflict otherwise, KeyNotFound if gone. */
  async update(key: string, obj: StoredObject, expected: number, type = ''): Promise<StoredObject> {
    return this.timed('update', type, async () => {
      const value = this.encode(obj, key);
      const k = Buffer.from(key);
      const res = await this.client.kv.txn({
        compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: expected }],
        success: [{ request_put: { key: k, value } }],
        failure: [{ request_range: { key: k } }],
      });
      if (!res.succeeded) {
        const cur = res.responses[0]?.response_range?.kvs?.[0];
        if (!cur) throw new StorageError('KeyNotFound', key);
        throw new StorageError('Conflict', key);
      }
      obj.metadata.resourceVersion = String(res.header.revision);
      return obj;
    });
  }

  /**
   * Deletes the key if its mod_revision is still `expected` (any revision when unset). Returns the
   * last state, stamped with the deletion's revision.
   */
  async delete(key: string, expected: number | undefined, type = ''): Promise<StoredObject> {
    return this.timed('delete', type, async () => {
      const k = Buffer.from(key);
      const res = await this.client.kv.txn({
        compare: expected ? [{ key: k, target: 'Mod', result: 'Equal', mod_revision: expected }] : [{ key: k, target: 'Create', result: 'Greater', create_revision: 0 }],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      });
      if (!res.succeeded) {
        const cur = res.responses[0]?.response_range?.kvs?.[0];
        if (!cur) throw new StorageError('KeyNotFound', key);
        throw new StorageError('Conflict', key);
      }
      const prev = res.responses[0]?.response_delete_range?.prev_kvs?.[0];
      if (!prev) throw new StorageError('KeyNotFound', key);
      return this.decode(prev, res.header.revision);
    });
  }

  /** Compacts etcd's history up to `revision`; watches and lists before it then answer 410. */
  async compact(revision: number): Promise<void> {
    try {
      await this.client.kv.compact({ revision, physical: false });
    } catch (e) {
      // Compacting to a revision already compacted is harmless; another apiserver may have done it.
      if (!String(e).includes('compacted')) throw e;
    }
  }

  /**
   * Watches the keys under a prefix from `afterRevision` (exclusive). Events arrive in revision
   * order. Returns a function that stops the watch. A compacted start revision rejects with
   * StorageError Compacted.
   */
  async watch(
    prefix: string,
    afterRevision: number,
    onEvent: (ev: StorageEvent) => void,
    onError: (err: unknown) => void,
    onProgress?: (revision: number) => void,
  ): Promise<() => Promise<void>> {
    if (afterRevision > 0) {
      // etcd reports a compacted start only as a cancelled watch; probe first so the caller gets a
      // clean 410 instead of a stream that ends at once.
      await this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), revision: afterRevision, count_only: true } as IRangeRequest).catch((e) => {
        throw fromEtcdError(e, prefix);
      });
    }
    const builder = this.client.watch().prefix(prefix).withPreviousKV();
    if (afterRevision > 0) builder.startRevision(String(afterRevision + 1));
    const watcher = await builder.create();
    watcher.on('data', (res) => {
      // A response without events is etcd's progress notification: every event up to its
      // revision has been delivered on this watch.
      if (res.events.length === 0) {
        if (res.header?.revision) onProgress?.(Number(res.header.revision));
        return;
      }
      for (const ev of res.events) {
        const key = ev.kv.key.toString('utf8');
        try {
          if (ev.type === 'Delete') {
            if (!ev.prev_kv) continue;
            const last = this.decode(ev.prev_kv, ev.kv.mod_revision);
            onEvent({ type: 'DELETED', key, object: last, prevObject: this.decode(ev.prev_kv), revision: Number(ev.kv.mod_revision) });
          } else {
            const obj = this.decode(ev.kv);
            const created = ev.kv.create_revision === ev.kv.mod_revision;
            onEvent({
              type: created ? 'ADDED' : 'MODIFIED',
              key,
              object: obj,
              prevObject: ev.prev_kv && !created ? this.decode(ev.prev_kv) : undefined,
              revision: Number(ev.kv.mod_revision),
            });
          }
        } catch (err) {
          onError(err);
        }
      }
    });
    watcher.on('error', (err) => onError(fromEtcdError(err, prefix)));
    return async () => {
      watcher.removeAllListeners('data');
      await watcher.cancel().catch(() => {});
    };
  }
}

export { prefixEnd };
