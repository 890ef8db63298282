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

export interface WatchCacheOptions {
  /** How many recent events to keep for watches that resume from an older resourceVersion. */
  capacity?: number;
  logger?: Logger;
}

export class WatchCache {
  /** The revision up to which this cache reflects etcd. */
  revision = 0;
  private readonly objects = new Map<string, StoredObject>();
  private readonly events: StorageEvent[] = [];
  private eventsStart = 0;
  private readonly listeners = new Set<CacheListener>();
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
    for (const o of res.items) this.objects.set(this.keyOf(o), o);
    this.events.length = 0;
    this.eventsStart = 0;
    this.revision = res.revision;
    this.windowStart = res.revision;
    this.stopWatch = await this.store.watch(
      this.prefix,
      res.revision,
      (ev) => this.apply(ev),
      (err) => this.onWatchError(err),
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

  private apply(ev: StorageEvent): void {
    if (ev.revision <= this.revision) return;
    const k = this.keyOf(ev.object);
    if (ev.type === 'DELETED') this.objects.delete(k);
    else this.objects.set(k, ev.object);
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
    this.revision = ev.revision;
    for (const l of this.listeners) l(ev);
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
  async waitFor(rv: number, timeoutMs = 3000): Promise<void> {
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

  /** A snapshot of the objects whose key starts with `keyPrefix` (`ns/` for one namespace). */
  list(filter?: (o: StoredObject) => boolean, namespace?: string): { items: StoredObject[]; revision: number } {
    const items: StoredObject[] = [];
    for (const o of this.objects.values()) {
      if (namespace && o.metadata.namespace !== namespace) continue;
      if (filter && !filter(o)) continue;
      items.push(o);
    }
    items.sort((a, b) => cmpKey(this.keyOf(a), this.keyOf(b)));
    return { items, revision: this.revision };
  }

  get(namespace: string | undefined, name: string): StoredObject | undefined {
    return this.objects.get(namespace ? `${namespace}/${name}` : name);
  }

  /**
   * Subscribes to events after `afterRevision`. Returns undefined when that revision is older than
   * the window kept in memory: the caller must then read the history from etcd.
   * Events before the subscription are replayed synchronously to `listener` first.
   */
  subscribe(afterRevision: number, listener: CacheListener): (() => void) | undefined {
    if (afterRevision < this.windowStart) return undefined;
    for (let i = this.eventsStart; i < this.events.length; i++) {
      const ev = this.events[i]!;
      if (ev.revision > afterRevision) listener(ev);
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listeners.clear();
    await this.stopWatch?.();
  }
}

/** Orders keys as etcd does (byte order), so cached and etcd lists agree. */
function cmpKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
