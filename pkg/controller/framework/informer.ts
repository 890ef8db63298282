/**
 * Shared informers on @kubernetes/client-node's ListWatch: one list+watch per resource, shared by
 * every controller that asks the factory for it.
 *
 * What this adds to ListWatch:
 * - handlers get the old object on update (ListWatch only passes the new one);
 * - `hasSynced` turns true once the first list has been delivered to the handlers, the gate
 *   controllers wait on before starting workers;
 * - ListWatch stops on a watch or list error; this restarts it with backoff. A 410 Gone relists
 *   (ListWatch clears its resourceVersion on 410);
 * - objects are kept as they came on the wire (timestamps are strings), listed through the
 *   client here rather than client-node's typed APIs.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { ListWatch, Watch } from '../../client/client-node.js';
import type { Logger } from 'pino';
import type { KubeObject } from '../../api/types.js';
import { resourcePath, type GroupVersionResource, type RestClient } from '../../client/rest.js';
import { RealClock, type Clock } from './clock.js';

/** A resource an informer watches: its REST coordinates and type. */
export interface InformerResource extends GroupVersionResource {
  kind: string;
  namespaced: boolean;
}

export interface EventHandler<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

/** `ns/name`, or `name` for cluster-scoped objects (MetaNamespaceKeyFunc). */
export function keyOf(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

/** Splits a key into namespace and name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

const minBackoffMs = 800;
const maxBackoffMs = 30_000;

export class SharedInformer<T extends KubeObject = KubeObject> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly handlers: EventHandler<T>[] = [];
  private lw: ListWatch<any> | undefined;
  private synced = false;
  private started = false;
  private stopped = false;
  private backoffMs = minBackoffMs;
  private restartTimer: { cancel(): void } | undefined;

  constructor(
    readonly resource: InformerResource,
    private readonly kc: KubeConfig,
    private readonly client: RestClient,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Registers handlers. Added after the informer started, it first sees every cached object as an add. */
  addEventHandler(h: EventHandler<T>): void {
    this.handlers.push(h);
    if (this.synced) for (const o of this.list()) this.call(h.add, o);
  }

  /** True once the first list has been delivered. */
  hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  getByKey(key: string): T | undefined {
    const { namespace, name } = splitKey(key);
    return this.get(namespace, name);
  }

  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.byNamespace.get(namespace)?.values() ?? [])];
    const out: T[] = [];
    for (const m of this.byNamespace.values()) out.push(...m.values());
    return out;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const path = resourcePath(this.resource);
    const listFn = async () => {
      const list = await this.client.list<T>(this.resource);
      const apiVersion = this.resource.group ? `${this.resource.group}/${this.resource.version}` : this.resource.version;
      for (const item of list.items ?? []) {
        item.apiVersion ??= apiVersion;
        item.kind ??= this.resource.kind;
      }
      // ListWatch delivers the items in the continuation of this promise (microtasks); by the
      // time a setImmediate callback runs, every add has gone to the handlers.
      if (!this.synced) setImmediate(() => (this.synced = !this.stopped));
      this.backoffMs = minBackoffMs;
      return list as any;
    };
    const watch = new Watch(this.kc);
    const isStopped = () => this.stopped;
    // ListWatch keeps the controller of the watch request only once it is connected; a stop
    // while connecting would leave that request open, so abort it here.
    const abortableWatch = {
      async watch(p: string, q: Record<string, string>, cb: (phase: string, obj: any, watchObj?: any) => void, done: (err: any) => void) {
        const c = await watch.watch(p, q, cb, done);
        if (isStopped()) c.abort();
        return c;
      },
    } as unknown as Watch;
    const lw = new ListWatch<any>(path, abortableWatch, listFn, false, undefined, undefined, {
      // After a watch closes cleanly, ListWatch backs off before re-watching; keep that short.
      delayFn: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 1000)).unref()),
    });
    this.lw = lw;
    lw.on('add', (o: T) => this.onAddOrUpdate(o));
    lw.on('update', (o: T) => this.onAddOrUpdate(o));
    lw.on('delete', (o: T) => this.onDelete(o));
    lw.on('error', (err: unknown) => this.onError(err));
    void lw.start().catch((err: unknown) => this.onError(err));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.restartTimer?.cancel();
    await this.lw?.stop();
  }

  private onAddOrUpdate(o: T): void {
    this.backoffMs = minBackoffMs;
    const ns = o.metadata?.namespace ?? '';
    const name = o.metadata?.name ?? '';
    let m = this.byNamespace.get(ns);
    if (!m) this.byNamespace.set(ns, (m = new Map()));
    const old = m.get(name);
    m.set(name, o);
    for (const h of this.handlers) {
      if (old) this.call2(h.update, old, o);
      else this.call(h.add, o);
    }
  }

  private onDelete(o: T): void {
    const ns = o.metadata?.namespace ?? '';
    const name = o.metadata?.name ?? '';
    const m = this.byNamespace.get(ns);
    const old = m?.get(name);
    m?.delete(name);
    if (m && m.size === 0) this.byNamespace.delete(ns);
    for (const h of this.handlers) this.call(h.delete, old ?? o);
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(maxBackoffMs, this.backoffMs * 2);
    this.logger.debug({ resource: this.resource.resource, err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'list/watch failed; restarting');
    this.restartTimer?.cancel();
    this.restartTimer = this.clock.setTimeout(() => {
      if (this.stopped || !this.lw) return;
      void this.lw.start().catch((e: unknown) => this.onError(e));
    }, delay);
  }

  private call(fn: ((o: T) => void) | undefined, o: T): void {
    if (!fn) return;
    try {
      fn(o);
    } catch (e) {
      this.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'informer handler failed');
    }
  }

  private call2(fn: ((a: T, b: T) => void) | undefined, a: T, b: T): void {
    if (!fn) return;
    try {
      fn(a, b);
    } catch (e) {
      this.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'informer handler failed');
    }
  }
}

/** Hands out one informer per resource; starting the factory starts them all, late ones too. */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer<any>>();
  private started = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly client: RestClient,
    private readonly logger: Logger,
    private readonly clock: Clock = new RealClock(),
  ) {}

  informerFor<T extends KubeObject = KubeObject>(resource: InformerResource): SharedInformer<T> {
    const key = `${resource.group}/${resource.version}/${resource.resource}`;
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new SharedInformer<T>(resource, this.kc, this.client, this.clock, this.logger);
      this.informers.set(key, inf);
      if (this.started) inf.start();
    }
    return inf as SharedInformer<T>;
  }

  start(): void {
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

/** Waits until every informer has synced; false if `signal` aborts first (WaitForCacheSync). */
export async function waitForCacheSync(informers: { hasSynced(): boolean }[], signal: AbortSignal, clock: Clock = new RealClock()): Promise<boolean> {
  while (!signal.aborted) {
    if (informers.every((i) => i.hasSynced())) return true;
    await clock.sleep(100, signal);
  }
  return false;
}

/** Informer resources the built-in controllers share. */
export const informerResources = {
  pods: { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  namespaces: { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
  serviceAccounts: { group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  replicationControllers: { group: '', version: 'v1', resource: 'replicationcontrollers', kind: 'ReplicationController', namespaced: true },
  replicaSets: { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  nodes: { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
  services: { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  endpoints: { group: '', version: 'v1', resource: 'endpoints', kind: 'Endpoints', namespaced: true },
  endpointSlices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true },
  configMaps: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
  secrets: { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true },
  persistentVolumeClaims: { group: '', version: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true },
  resourceQuotas: { group: '', version: 'v1', resource: 'resourcequotas', kind: 'ResourceQuota', namespaced: true },
} satisfies Record<string, InformerResource>;
