/**
 * The watch cache: one per resource, fed by one etcd watch on the resource's key prefix.
 *
 * It holds every object of the resource as of `revision` and a bounded window of recent events.
 * Watches that start inside the window, and `resourceVersion=0` lists, are served from memory;
 * a watch that starts before the window is served straight from etcd by the caller (see
 * `Watchers`), so no client ever sees a gap.
 */
import type { EtcdStore, StorageEvent } from './etcd-store.js';
import type { StoredObject } from '../api/types.js';
import { StorageError } from './errors.js';
import type { Logger } from 'pino';

export type CacheListener = (ev: StorageEvent) => void;

/** Computes one indexed value of an object (e.g. a pod's spec.nodeName). */
export type IndexFunc = (o: StoredObject) => string;

export interface WatchCacheOptions {
  /** How many recent events to keep for watches that resume from an older resourceVersion. */
  capacity?: number;
  logger?: Logger;
  /**
   * Indexes by field (as `spec.nodeName`): lists that pin the field to one value read only the
   * matching objects, and watches that do are only woken for events that concern that value.
   */
  indexers?: Record<string, IndexFunc>;
}

/** A watch listener that only cares about one value of one index. */
export interface Trigger {
  index: string;
  value: string;
}

export class WatchCache {
  /** The revision up to which this cache reflects etcd. */
  revision = 0;
  /**
   * The revision of the last event applied. `revision` can be ahead of it without an event: etcd's
   * progress notifications, and freshness proven by `waitUntilFresh`, after which events of
   * changes that cancelled out (a key created and deleted again) may still arrive below it.
   */
  private lastEvent = 0;
  private readonly objects = new Map<string, StoredObject>();
  private readonly events: StorageEvent[] = [];
  private eventsStart = 0;
  private readonly listeners = new Set<CacheListener>();
  /** Listeners with a trigger: index name → value → listeners. */
  private readonly triggered = new Map<string, Map<string, Set<CacheListener>>>();
  /** index name → value → object keys. */
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly waiters: { rv: number; resolve: () => void }[] = [];
  private stopWatch: (() => Promise<void>) | undefined;
  private readonly capacity: number;
  /** The oldest revision from which a watch can be replayed from memory (exclusive). */
  private windowStart = 0;
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: unknown) => void;
  private stopped = false;

  constructor(
    private readonly store: EtcdStore,
    readonly prefix: string,
    private readonly opts: WatchCacheOptions = {},
  ) {
    this.capacity = opts.capacity ?? 10_000;
    for (const name of Object.keys(opts.indexers ?? {})) this.indexes.set(name, new Map());
    this.ready = new Promise((res, rej) => {
      this.resolveReady = res;
      this.rejectReady = rej;
    });
    this.ready.catch(() => {});
  }

  get size(): number {
    return this.objects.size;
  }

  /** Loads the prefix and follows it. Restarts from a fresh list if etcd compacts past it. */
  async start(): Promise<void> {
    try {
      await this.relist();
      this.resolveReady();
    } catch (e) {
      this.rejectReady(e);
      throw e;
    }
  }

  private async relist(): Promise<void> {
    const res = await this.store.list(this.prefix);
    this.objects.clear();
    for (const idx of this.indexes.values()) idx.clear();
    for (const o of res.items) {
      const k = this.keyOf(o);
      this.objects.set(k, o);
      this.index(k, o, true);
    }
    this.events.length = 0;
    this.eventsStart = 0;
    this.revision = res.revision;
    this.lastEvent = res.revision;
    this.windowStart = res.revision;
    this.stopWatch = await this.store.watch(
      this.prefix,
      res.revision,
      (ev) => this.apply(ev),
      (err) => this.onWatchError(err),
      (rev) => this.progress(rev),
    );
    this.notifyWaiters();
  }

  private keyOf(o: StoredObject): string {
    const m = o.metadata;
    return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
  }

  private onWatchError(err: unknown): void {
    if (this.stopped) return;
    this.opts.logger?.warn({ err: String(err), prefix: this.prefix }, 'watch cache lost its etcd watch; relisting');
    void (async () => {
      await this.stopWatch?.().catch(() => {});
      for (;;) {
        if (this.stopped) return;
        try {
          await this.relist();
          return;
        } catch (e) {
          this.opts.logger?.warn({ err: String(e), prefix: this.prefix }, 'relist failed');
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
  }

  private index(key: string, o: StoredObject, add: boolean): void {
    for (const [name, idx] of this.indexes) {
      const v = this.opts.indexers![name]!(o);
      let set = idx.get(v);
      if (add) {
        if (!set) idx.set(v, (set = new Set()));
        set.add(key);
      } else if (set) {
        set.delete(key);
        if (set.size === 0) idx.delete(v);
      }
    }
  }

  private apply(ev: StorageEvent): void {
    if (ev.revision <= this.lastEvent) return;
    this.lastEvent = ev.revision;
    const k = this.keyOf(ev.object);
    const before = this.objects.get(k);
    if (before) this.index(k, before, false);
    if (ev.type === 'DELETED') this.objects.delete(k);
    else {
      this.objects.set(k, ev.object);
      this.index(k, ev.object, true);
    }
    this.events.push(ev);
    if (this.events.length - this.eventsStart > this.capacity) {
      const dropped = this.events[this.eventsStart]!;
      this.windowStart = dropped.revision;
      this.eventsStart++;
      if (this.eventsStart > this.capacity) {
        this.events.splice(0, this.eventsStart);
        this.eventsStart = 0;
      }
    }
    if (ev.revision > this.revision) this.revision = ev.revision;
    for (const l of this.listeners) l(ev);
    for (const [name, byValue] of this.triggered) {
      const fn = this.opts.indexers![name]!;
      const values = new Set([fn(ev.object)]);
      if (ev.prevObject) values.add(fn(ev.prevObject));
      for (const v of values) for (const l of byValue.get(v) ?? []) l(ev);
    }
    this.notifyWaiters();
  }

  /** etcd says every event up to `rev` has been delivered: the cache is current as of it. */
  private progress(rev: number): void {
    if (rev <= this.revision) return;
    this.revision = rev;
    this.notifyWaiters();
  }

  private notifyWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.rv <= this.revision) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /**
   * Waits until the cache has seen `rv`. A resourceVersion the cache has not reached within the
   * timeout is answered as upstream does: "Too large resource version".
   */
  async waitFor(rv: number, timeoutMs = 1500): Promise<void> {
    await this.ready;
    if (rv <= this.revision) return;
    await new Promise<void>((resolve, reject) => {
      const w = { rv, resolve: () => { clearTimeout(t); resolve(); } };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new StorageError('FutureRevision', this.prefix, `Too large resource version: ${rv}, current: ${this.revision}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /**
   * Waits until the cache holds etcd's current state of its prefix: upstream's consistent read
   * from cache. Resolves false when it could not tell within the timeout; the caller then reads
   * etcd.
   *
   * Upstream asks etcd for a progress notification on the watch stream. etcd before 3.4.31 and
   * 3.5.13 may answer such a request before the stream's pending events (etcd#15220), and this
   * repository runs 3.4.23, so instead one range request proves freshness: at etcd's current
   * revision R, no key under the prefix changed after the cache's revision C and the prefix holds
   * as many keys as the cache. Then the keys at R are those at C with the same values (a key
   * created or changed after C would show a newer mod_revision; a deleted one would lower the
   * count), so the cache's state at C is the state at R. Otherwise the cache waits for the events
   * that etcd already has (up to the newest changed key, or any event when keys were only
   * deleted) and checks again; the periodic progress notifications cover a prefix that keeps
   * changing.
   */
  async waitUntilFresh(timeoutMs = 3000): Promise<boolean> {
    await this.ready;
    const deadline = Date.now() + timeoutMs;
    let current = 0;
    for (let attempt = 0; attempt < 4; attempt++) {
      const c = this.revision;
      const size = this.objects.size;
      const r = await this.store.changedSince(this.prefix, c);
      current = r.revision;
      if (this.revision >= r.revision) return true;
      if (this.revision === c && r.changed === 0 && r.count === size) {
        // The state at c is the state at R: the cache is current as of R.
        this.progress(r.revision);
        return true;
      }
      const target = this.revision !== c ? 0 : r.maxModRevision > c ? r.maxModRevision : c + 1;
      if (target === 0) continue;
      if (!(await this.waitUntil(target, deadline))) return false;
    }
    return this.waitUntil(current, deadline);
  }

  private async waitUntil(rv: number, deadline: number): Promise<boolean> {
    const left = deadline - Date.now();
    if (left <= 0) return rv <= this.revision;
    try {
      await this.waitFor(rv, left);
      return true;
    } catch (e) {
      if (e instanceof StorageError && e.code === 'FutureRevision') return false;
      throw e;
    }
  }

  hasIndex(name: string): boolean {
    return this.indexes.has(name);
  }

  /** A snapshot of the objects, optionally of one namespace and of one index value. */
  list(filter?: (o: StoredObject) => boolean, namespace?: string, by?: Trigger): { items: StoredObject[]; revision: number } {
    const keyed: [string, StoredObject][] = [];
    const idx = by ? this.indexes.get(by.index) : undefined;
    const nsPrefix = namespace ? `${namespace}/` : undefined;
    const consider = (k: string, o: StoredObject) => {
      if (nsPrefix && !k.startsWith(nsPrefix)) return;
      if (filter && !filter(o)) return;
      keyed.push([k, o]);
    };
    if (by && idx) for (const k of idx.get(by.value) ?? []) consider(k, this.objects.get(k)!);
    else for (const [k, o] of this.objects) consider(k, o);
    // Keys sort as etcd orders them (byte order), so cached and etcd lists agree.
    keyed.sort((a, b) => cmpKey(a[0], b[0]));
    const items = new Array<StoredObject>(keyed.length);
    for (let i = 0; i < keyed.length; i++) items[i] = keyed[i]![1];
    return { items, revision: this.revision };
  }

  get(namespace: string | undefined, name: string): StoredObject | undefined {
    return this.objects.get(namespace ? `${namespace}/${name}` : name);
  }

  /**
   * Subscribes to events after `afterRevision`. Returns undefined when that revision is older than
   * the window kept in memory: the caller must then read the history from etcd.
   * Events before the subscription are replayed synchronously to `listener` first. Only events
   * after `afterRevision` ever reach it (see `lastEvent` for later ones below it).
   */
  subscribe(afterRevision: number, onEvent: CacheListener, trigger?: Trigger): (() => void) | undefined {
    if (afterRevision < this.windowStart) return undefined;
    const listener: CacheListener = (ev) => {
      if (ev.revision > afterRevision) onEvent(ev);
    };
    for (let i = this.eventsStart; i < this.events.length; i++) listener(this.events[i]!);
    if (trigger && this.indexes.has(trigger.index)) {
      let byValue = this.triggered.get(trigger.index);
      if (!byValue) this.triggered.set(trigger.index, (byValue = new Map()));
      let set = byValue.get(trigger.value);
      if (!set) byValue.set(trigger.value, (set = new Set()));
      const s = set;
      s.add(listener);
      return () => {
        s.delete(listener);
        if (s.size === 0) byValue.delete(trigger.value);
      };
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listeners.clear();
    this.triggered.clear();
    await this.stopWatch?.();
  }
}

/** Orders keys as etcd does (byte order), so cached and etcd lists agree. */
function cmpKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
