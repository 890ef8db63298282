/**
 * The garbage collector (pkg/controller/garbagecollector). It watches every resource discovery
 * lists as deletable, builds the ownerReferences graph, and:
 * - Background: deletes objects whose owners are all gone;
 * - Foreground: an owner with the `foregroundDeletion` finalizer and a deletionTimestamp has its
 *   dependents deleted (those with dependents of their own in the foreground too); once no
 *   dependent with blockOwnerDeletion is left, the finalizer is removed and the apiserver deletes
 *   the owner;
 * - Orphan: an owner with the `orphan` finalizer has its reference removed from every dependent,
 *   then the finalizer removed.
 * Discovery is read again every 30 seconds, so new resources (CRDs) get monitors.
 */
import type { Logger } from 'pino';
import type { KubeObject, OwnerReference } from '../../api/types.js';
import { discoverPreferredResources, parseAPIVersion, RESTMapper, supportingAllVerbs, type APIResource } from '../../client/discovery.js';
import { isConflict, isNotFound, type RestClient } from '../../client/rest.js';
import type { Clock } from '../framework/clock.js';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { waitForCacheSync, type InformerResource, type SharedInformer, type SharedInformerFactory } from '../framework/informer.js';
import { defaultControllerRateLimiter } from '../framework/rate-limiter.js';
import { errMessage } from '../framework/worker.js';
import { RateLimitingQueue } from '../framework/workqueue.js';
import { workqueueMetricsFor } from '../framework/workqueue-metrics.js';
import { DependencyGraph, foregroundFinalizer, hasFinalizer, orphanFinalizer, type GraphEvent, type GraphNode, type ObjectIdentity } from './graph.js';

/** Resources the collector never watches (upstream's ignoredResources). */
const ignoredResources = new Set(['/events', 'events.k8s.io/events']);

export interface GarbageCollectorOptions {
  workers: number;
  /** How often discovery is read again for new resources. */
  discoveryResyncMs?: number;
}

class RestMappingError extends Error {}
class NamespacedOwnerOfClusterScopedObjectError extends Error {}

/** A bounded set (the absent owner cache), oldest entries dropped first. */
class BoundedSet {
  private readonly s = new Set<string>();
  constructor(private readonly max: number) {}
  has(k: string): boolean {
    return this.s.has(k);
  }
  add(k: string): void {
    this.s.delete(k);
    this.s.add(k);
    if (this.s.size > this.max) this.s.delete(this.s.values().next().value!);
  }
}

type Outcome = 'forget' | 'requeue';

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector-controller';
  private readonly client: RestClient;
  private readonly informers: SharedInformerFactory;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly graph: DependencyGraph;
  private readonly graphChanges: RateLimitingQueue<GraphEvent>;
  private readonly attemptToDelete: RateLimitingQueue<GraphNode>;
  private readonly attemptToOrphan: RateLimitingQueue<GraphNode>;
  private readonly mapper = new RESTMapper();
  private readonly monitors = new Map<string, SharedInformer>();
  private readonly absentOwners = new BoundedSet(500);

  constructor(
    ctx: ControllerContext,
    private readonly opts: GarbageCollectorOptions,
  ) {
    this.client = ctx.client;
    this.informers = ctx.informers;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    const metrics = workqueueMetricsFor(ctx.metrics, ctx.clock);
    const q = <T>(name: string) => new RateLimitingQueue<T>({ name, clock: ctx.clock, rateLimiter: defaultControllerRateLimiter(ctx.clock), metrics });
    this.graphChanges = q<GraphEvent>('garbage_collector_graph_changes');
    this.attemptToDelete = q<GraphNode>('garbage_collector_attempt_to_delete');
    this.attemptToOrphan = q<GraphNode>('garbage_collector_attempt_to_orphan');
    this.graph = new DependencyGraph({
      attemptToDelete: (n) => this.attemptToDelete.add(n),
      attemptToOrphan: (n) => this.attemptToOrphan.add(n),
      markAbsent: (id) => this.absentOwners.add(absentKey(id.namespace, id.uid)),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    const queues = [this.graphChanges, this.attemptToDelete, this.attemptToOrphan];
    signal.addEventListener('abort', () => queues.forEach((q) => q.shutDown()), { once: true });
    const graphWorker = this.runGraphChanges();
    // Discovery must work once before anything can be collected.
    while (!signal.aborted) {
      try {
        await this.syncMonitors(signal);
        break;
      } catch (e) {
        this.logger.warn({ err: errMessage(e) }, 'failed to discover resources; retrying');
        await this.clock.sleep(1000, signal);
      }
    }
    const resync = this.resyncLoop(signal);
    if (!(await waitForCacheSync([...this.monitors.values()], signal))) {
      await Promise.all([graphWorker, resync]);
      return;
    }
    this.logger.info({ monitors: this.monitors.size }, 'all resource monitors have synced; proceeding to collect garbage');
    const workers = Math.max(1, this.opts.workers);
    await Promise.all([
      graphWorker,
      resync,
      ...Array.from({ length: workers }, () => this.runNodeWorker(this.attemptToDelete, (n) => this.attemptToDeleteWorker(n))),
      ...Array.from({ length: workers }, () => this.runNodeWorker(this.attemptToOrphan, (n) => this.attemptToOrphanWorker(n))),
    ]);
  }

  /** Reads discovery; every new deletable, listable, watchable resource gets a monitor. */
  private async syncMonitors(signal: AbortSignal): Promise<void> {
    const { resources, failed } = await discoverPreferredResources(this.client, signal);
    if (failed.size) this.logger.warn({ groups: [...failed.keys()] }, 'discovery failed for some groups');
    this.mapper.reset(resources);
    for (const r of supportingAllVerbs(resources, ['delete', 'list', 'watch'])) {
      if (ignoredResources.has(`${r.group}/${r.resource}`)) continue;
      const key = `${r.group}/${r.version}/${r.resource}`;
      if (this.monitors.has(key)) continue;
      this.addMonitor(key, r);
    }
  }

  private addMonitor(key: string, r: APIResource): void {
    const resource: InformerResource = { group: r.group, version: r.version, resource: r.resource, kind: r.kind, namespaced: r.namespaced };
    const inf = this.informers.informerFor(resource);
    this.monitors.set(key, inf);
    inf.addEventHandler({
      add: (obj) => this.graphChanges.add({ type: 'add', obj }),
      update: (oldObj, obj) => this.graphChanges.add({ type: 'update', obj, oldObj }),
      delete: (obj) => this.graphChanges.add({ type: 'delete', obj }),
    });
  }

  private async resyncLoop(signal: AbortSignal): Promise<void> {
    const period = this.opts.discoveryResyncMs ?? 30_000;
    while (!signal.aborted) {
      await this.clock.sleep(period, signal);
      if (signal.aborted) return;
      try {
        await this.syncMonitors(signal);
      } catch (e) {
        this.logger.info({ err: errMessage(e) }, 'discovery resync failed');
      }
    }
  }

  /** Applies graph changes one at a time, in the order they came. */
  private async runGraphChanges(): Promise<void> {
    for (;;) {
      const ev = await this.graphChanges.get();
      if (ev === undefined) return;
      try {
        this.graph.process(ev);
      } catch (e) {
        this.logger.error({ err: errMessage(e) }, 'failed to process a graph change');
      } finally {
        this.graphChanges.forget(ev);
        this.graphChanges.done(ev);
      }
    }
  }

  private async runNodeWorker(queue: RateLimitingQueue<GraphNode>, work: (n: GraphNode) => Promise<Outcome>): Promise<void> {
    for (;;) {
      const n = await queue.get();
      if (n === undefined) return;
      try {
        const outcome = await work(n);
        if (outcome === 'requeue') queue.addRateLimited(n);
        else queue.forget(n);
      } catch (e) {
        if (!queue.shuttingDown()) {
          if (e instanceof NamespacedOwnerOfClusterScopedObjectError) queue.forget(n);
          else {
            this.logger.debug({ item: n.toString(), err: errMessage(e) }, 'error syncing item');
            queue.addRateLimited(n);
          }
        }
      } finally {
        queue.done(n);
      }
    }
  }

  // ---- deletion ----

  private async attemptToDeleteWorker(n: GraphNode): Promise<Outcome> {
    if (n.virtual) {
      const fromGraph = this.graph.get(n.identity.uid);
      // Gone from the graph meanwhile, or observed since: nothing left for this virtual node.
      if (!fromGraph || !fromGraph.virtual) return 'forget';
    }
    const enqueuedVirtualDelete = await this.attemptToDeleteItem(n);
    if (enqueuedVirtualDelete) return 'forget';
    // A virtual node that exists must be waited for until an informer sees it.
    return n.virtual ? 'requeue' : 'forget';
  }

  /** Returns true when it found the object gone and queued a virtual delete event. */
  private async attemptToDeleteItem(item: GraphNode): Promise<boolean> {
    // Deletion without foreground is a one-way trip: wait for the object to go.
    if (item.beingDeleted && !item.deletingDependents) return false;
    let latest: KubeObject;
    try {
      latest = await this.getObject(item.identity);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      this.enqueueVirtualDelete(item.identity);
      return true;
    }
    if (latest.metadata?.uid !== item.identity.uid) {
      this.enqueueVirtualDelete(item.identity);
      return true;
    }
    if (item.deletingDependents) {
      await this.processDeletingDependentsItem(item);
      return false;
    }
    const ownerRefs = latest.metadata?.ownerReferences ?? [];
    if (!ownerRefs.length) return false;

    const { solid, dangling, waiting } = await this.classifyReferences(item, ownerRefs);
    if (solid.length) {
      if (!dangling.length && !waiting.length) return false;
      // Drop references to owners that are gone or deleting in the foreground: the latter would
      // otherwise wait forever for this object, which another owner keeps.
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      this.logger.debug({ item: item.toString(), drop: [...drop] }, 'removing dangling and waiting references');
      await this.patchOwnerReferences(item.identity, (refs) => refs.filter((r) => !drop.has(r.uid)));
      return false;
    }
    if (waiting.length && item.dependents.size) {
      if ([...item.dependents].some((d) => d.deletingDependents)) {
        // A cycle could block for ever: stop blocking our owners before deleting.
        await this.patchOwnerReferences(item.identity, (refs) => refs.map((r) => (r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r)));
      }
      this.logger.debug({ item: item.toString() }, 'an owner is deleting dependents and this item has dependents: deleting it in the foreground');
      await this.deleteObject(item.identity, 'Foreground');
      return false;
    }
    const policy = hasFinalizer(latest, orphanFinalizer) ? 'Orphan' : hasFinalizer(latest, foregroundFinalizer) ? 'Foreground' : 'Background';
    this.logger.debug({ item: item.toString(), policy }, 'deleting item');
    await this.deleteObject(item.identity, policy);
    return false;
  }

  /** A foreground-deleting owner: delete what blocks it, or finish when nothing does. */
  private async processDeletingDependentsItem(item: GraphNode): Promise<void> {
    const blocking = item.blockingDependents();
    if (!blocking.length) {
      this.logger.debug({ item: item.toString() }, 'no blocking dependents left: removing the foregroundDeletion finalizer');
      await this.removeFinalizer(item.identity, foregroundFinalizer);
      return;
    }
    for (const dep of blocking) if (!dep.deletingDependents) this.attemptToDelete.add(dep);
  }

  /** Splits references into live owners, absent ones, and ones deleting in the foreground. */
  private async classifyReferences(item: GraphNode, refs: OwnerReference[]): Promise<{ solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[] }> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const owner = await this.ownerIfPresent(item, ref);
      if (!owner) dangling.push(ref);
      else if (owner.metadata?.deletionTimestamp && hasFinalizer(owner, foregroundFinalizer)) waiting.push(ref);
      else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  /** The owner read from the apiserver, or undefined when it is absent (isDangling). */
  private async ownerIfPresent(item: GraphNode, ref: OwnerReference): Promise<KubeObject | undefined> {
    if (this.absentOwners.has(absentKey('', ref.uid)) || this.absentOwners.has(absentKey(item.identity.namespace, ref.uid))) return undefined;
    const mapping = this.mapper.mapping(ref.apiVersion, ref.kind);
    if (!mapping) throw new RestMappingError(`unable to map ${ref.apiVersion}, Kind=${ref.kind} to a resource`);
    if (!item.identity.namespace && mapping.namespaced) {
      throw new NamespacedOwnerOfClusterScopedObjectError(`cluster-scoped ${item} refers to a namespaced owner`);
    }
    const ns = mapping.namespaced ? item.identity.namespace : '';
    const { group, version } = parseAPIVersion(ref.apiVersion);
    let owner: KubeObject;
    try {
      owner = await this.client.get({ group, version, resource: mapping.resource }, ns || undefined, ref.name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      this.absentOwners.add(absentKey(ns, ref.uid));
      return undefined;
    }
    if (owner.metadata?.uid !== ref.uid) {
      this.absentOwners.add(absentKey(ns, ref.uid));
      return undefined;
    }
    return owner;
  }

  private enqueueVirtualDelete(id: ObjectIdentity): void {
    this.graphChanges.add({ type: 'delete', virtual: true, obj: { apiVersion: id.apiVersion, kind: id.kind, metadata: { name: id.name, namespace: id.namespace || undefined, uid: id.uid } } });
  }

  // ---- orphaning ----

  private async attemptToOrphanWorker(owner: GraphNode): Promise<Outcome> {
    const errs: unknown[] = [];
    await Promise.all(
      [...owner.dependents].map(async (dep) => {
        try {
          await this.patchOwnerReferences(dep.identity, (refs) => refs.filter((r) => r.uid !== owner.identity.uid));
        } catch (e) {
          if (!isNotFound(e)) errs.push(e);
        }
      }),
    );
    if (errs.length) {
      this.logger.debug({ owner: owner.toString(), err: errMessage(errs[0]) }, 'orphaning dependents failed');
      return 'requeue';
    }
    this.logger.debug({ owner: owner.toString() }, 'dependents orphaned: removing the orphan finalizer');
    await this.removeFinalizer(owner.identity, orphanFinalizer);
    return 'forget';
  }

  // ---- API ----

  private mappingFor(id: ObjectIdentity): { gvr: { group: string; version: string; resource: string }; namespace: string | undefined } {
    const mapping = this.mapper.mapping(id.apiVersion, id.kind);
    if (!mapping) throw new RestMappingError(`unable to map ${id.apiVersion}, Kind=${id.kind} to a resource`);
    const { group, version } = parseAPIVersion(id.apiVersion);
    if (mapping.namespaced && !id.namespace) throw new NamespacedOwnerOfClusterScopedObjectError(`${id.kind} ${id.name} is namespaced but has no namespace`);
    return { gvr: { group, version, resource: mapping.resource }, namespace: mapping.namespaced ? id.namespace : undefined };
  }

  private async getObject(id: ObjectIdentity): Promise<KubeObject> {
    const { gvr, namespace } = this.mappingFor(id);
    return this.client.get(gvr, namespace, id.name);
  }

  private async deleteObject(id: ObjectIdentity, propagationPolicy: 'Orphan' | 'Foreground' | 'Background'): Promise<void> {
    const { gvr, namespace } = this.mappingFor(id);
    await this.client.delete(gvr, namespace, id.name, { propagationPolicy, preconditions: { uid: id.uid } });
  }

  /** Rewrites an object's ownerReferences from its latest version, with its resourceVersion as precondition. */
  private async patchOwnerReferences(id: ObjectIdentity, change: (refs: OwnerReference[]) => OwnerReference[]): Promise<void> {
    const { gvr, namespace } = this.mappingFor(id);
    for (let attempt = 0; ; attempt++) {
      const latest = await this.client.get(gvr, namespace, id.name);
      if (latest.metadata?.uid !== id.uid) return;
      const refs = latest.metadata?.ownerReferences ?? [];
      const next = change(refs);
      if (next.length === refs.length && next.every((r, i) => r === refs[i])) return;
      try {
        await this.client.patch(gvr, namespace, id.name, 'merge', { metadata: { ownerReferences: next.length ? next : null, resourceVersion: latest.metadata?.resourceVersion } });
        return;
      } catch (e) {
        if (!isConflict(e) || attempt >= 4) throw e;
      }
    }
  }

  private async removeFinalizer(id: ObjectIdentity, finalizer: string): Promise<void> {
    const { gvr, namespace } = this.mappingFor(id);
    for (let attempt = 0; ; attempt++) {
      let latest: KubeObject;
      try {
        latest = await this.client.get(gvr, namespace, id.name);
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      if (latest.metadata?.uid !== id.uid || !hasFinalizer(latest, finalizer)) return;
      const rest = (latest.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
      try {
        await this.client.patch(gvr, namespace, id.name, 'merge', { metadata: { finalizers: rest.length ? rest : null, resourceVersion: latest.metadata?.resourceVersion } });
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e) || attempt >= 4) throw e;
      }
    }
  }
}

function absentKey(namespace: string, uid: string): string {
  return `${namespace}/${uid}`;
}

export function newGarbageCollector(ctx: ControllerContext, opts: GarbageCollectorOptions): GarbageCollector {
  return new GarbageCollector(ctx, opts);
}
