/**
 * Deleting everything in a terminating namespace (namespace/deletion), then finalizing it:
 * - every namespaced resource in discovery that supports delete is emptied (deletecollection
 *   where supported, else list and delete each, in the background);
 * - what remains is counted; pods still terminating give an estimate of how long to wait, objects
 *   held by finalizers a default 15 seconds;
 * - the namespace's status carries upstream's conditions (NamespaceDeletionDiscoveryFailure,
 *   NamespaceDeletionGroupVersionParsingFailure, NamespaceDeletionContentFailure,
 *   NamespaceContentRemaining, NamespaceFinalizersRemaining);
 * - once empty, the `kubernetes` finalizer is removed through /finalize, and the apiserver
 *   deletes the namespace when no finalizer is left.
 */
import type { Logger } from 'pino';
import type { KubeObject, Namespace, Pod } from '../../api/types.js';
import { nowRFC3339 } from '../../api/meta.js';
import { discoverPreferredResources, GroupDiscoveryFailedError, supportingAllVerbs, type APIResource } from '../../client/discovery.js';
import { isConflict, isMethodNotSupported, isNotFound, resources, resourcePath, type RestClient } from '../../client/rest.js';
import type { Clock } from '../framework/clock.js';

/** Some content is still there: look again in about `estimate` seconds. */
export class ResourcesRemainingError extends Error {
  constructor(readonly estimate: number) {
    super(`some content remains in the namespace, estimate ${estimate} seconds before it is removed`);
    this.name = 'ResourcesRemainingError';
  }
}

/** The default wait for objects held by finalizers (finalizerEstimateSeconds). */
const finalizerEstimateSeconds = 15;

type NamespaceCondition = NonNullable<NonNullable<Namespace['status']>['conditions']>[number];

const conditionTypes = ['NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure', 'NamespaceDeletionContentFailure', 'NamespaceContentRemaining', 'NamespaceFinalizersRemaining'];

const okMessages: Record<string, string> = {
  NamespaceDeletionDiscoveryFailure: 'All resources successfully discovered',
  NamespaceDeletionGroupVersionParsingFailure: 'All legacy kube types successfully parsed',
  NamespaceDeletionContentFailure: 'All content successfully deleted, may be waiting on finalization',
  NamespaceContentRemaining: 'All content successfully removed',
  NamespaceFinalizersRemaining: 'All content-preserving finalizers finished',
};

const okReasons: Record<string, string> = {
  NamespaceDeletionDiscoveryFailure: 'ResourcesDiscovered',
  NamespaceDeletionGroupVersionParsingFailure: 'ParsedGroupVersions',
  NamespaceDeletionContentFailure: 'ContentDeleted',
  NamespaceContentRemaining: 'ContentRemoved',
  NamespaceFinalizersRemaining: 'ContentHasNoFinalizers',
};

interface GVRDeletion {
  estimate: number;
  remaining: number;
  finalizers: Map<string, number>;
}

/** Collects what went wrong into status conditions (namespaceConditionUpdater). */
class ConditionUpdater {
  private readonly conditions: NamespaceCondition[] = [];
  private readonly contentErrors: string[] = [];

  constructor(private readonly now: () => string) {}

  discoveryFailed(err: unknown): void {
    const msg = err instanceof GroupDiscoveryFailedError ? `Discovery failed for some groups, ${err.groups.size} failing: ${err.message}` : String(err instanceof Error ? err.message : err);
    this.conditions.push({ type: 'NamespaceDeletionDiscoveryFailure', status: 'True', lastTransitionTime: this.now(), reason: 'DiscoveryFailed', message: msg });
  }

  deleteContentFailed(err: unknown): void {
    this.contentErrors.push(err instanceof Error ? err.message : String(err));
  }

  contentTotals(byResource: Map<string, number>, byFinalizer: Map<string, number>): void {
    const remaining = [...byResource.entries()].filter(([, n]) => n > 0).map(([gr, n]) => `${gr} has ${n} resource instances`);
    if (byResource.size) {
      remaining.sort();
      this.conditions.push({ type: 'NamespaceContentRemaining', status: 'True', lastTransitionTime: this.now(), reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.join(', ')}` });
    }
    const held = [...byFinalizer.entries()].filter(([, n]) => n > 0).map(([f, n]) => `${f} in ${n} resource instances`);
    if (byFinalizer.size) {
      held.sort();
      this.conditions.push({ type: 'NamespaceFinalizersRemaining', status: 'True', lastTransitionTime: this.now(), reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${held.join(', ')}` });
    }
  }

  /** Applies the conditions to the namespace status; true when anything changed. */
  update(ns: Namespace): boolean {
    if (this.contentErrors.length && !this.conditions.some((c) => c.type === 'NamespaceDeletionContentFailure')) {
      const msgs = [...this.contentErrors].sort();
      this.conditions.push({
        type: 'NamespaceDeletionContentFailure',
        status: 'True',
        lastTransitionTime: this.now(),
        reason: 'ContentDeletionFailed',
        message: `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(', ')}`,
      });
    }
    ns.status ??= {};
    const conds = (ns.status.conditions ??= []);
    let changed = false;
    for (const type of conditionTypes) {
      const next = this.conditions.find((c) => c.type === type) ?? { type, status: 'False', lastTransitionTime: this.now(), reason: okReasons[type], message: okMessages[type] };
      const old = conds.find((c) => c.type === type);
      if (!old) {
        conds.push(next);
        changed = true;
      } else if (old.status !== next.status || old.message !== next.message || old.reason !== next.reason) {
        if (old.status !== next.status) old.lastTransitionTime = this.now();
        old.status = next.status;
        old.reason = next.reason;
        old.message = next.message;
        changed = true;
      }
    }
    return changed;
  }
}

export class NamespacedResourcesDeleter {
  constructor(
    private readonly client: RestClient,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly finalizerToken = 'kubernetes',
  ) {}

  /** Deletes the content of a terminating namespace and finalizes it; throws ResourcesRemainingError while content remains. */
  async delete(name: string): Promise<void> {
    let ns: Namespace;
    try {
      ns = await this.client.get<Namespace>(resources.namespaces, undefined, name);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    if (!ns.metadata?.deletionTimestamp) return;
    try {
      ns = await this.retryOnConflict(ns, (n) => this.updateNamespaceStatus(n));
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    if (!ns.metadata?.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).length) return;

    const estimate = await this.deleteAllContent(ns);
    if (estimate > 0) throw new ResourcesRemainingError(estimate);
    try {
      await this.retryOnConflict(ns, (n) => this.finalize(n));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private async retryOnConflict(ns: Namespace, fn: (ns: Namespace) => Promise<Namespace>): Promise<Namespace> {
    let latest = ns;
    for (;;) {
      try {
        return await fn(latest);
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
      const prev = latest;
      latest = await this.client.get<Namespace>(resources.namespaces, undefined, ns.metadata!.name!);
      if (prev.metadata?.uid !== latest.metadata?.uid) throw new Error('namespace uid has changed across retries');
    }
  }

  private async updateNamespaceStatus(ns: Namespace): Promise<Namespace> {
    if (!ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') return ns;
    return this.client.updateStatus<Namespace>(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', ...ns, status: { ...(ns.status ?? {}), phase: 'Terminating' } });
  }

  private async finalize(ns: Namespace): Promise<Namespace> {
    const finalizers = [...new Set((ns.spec?.finalizers ?? []).filter((f) => f !== this.finalizerToken))].sort();
    return this.client.update<Namespace>(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', ...ns, spec: { ...(ns.spec ?? {}), finalizers } }, 'finalize');
  }

  /** Deletes every namespaced resource; returns the estimated seconds until what remains is gone. */
  private async deleteAllContent(ns: Namespace): Promise<number> {
    const name = ns.metadata!.name!;
    const deletedAt = Date.parse(ns.metadata!.deletionTimestamp!);
    const updater = new ConditionUpdater(() => nowRFC3339(new Date(this.clock.now())));
    const errs: unknown[] = [];
    let discovered: APIResource[] = [];
    try {
      const { resources: all, failed } = await discoverPreferredResources(this.client);
      discovered = all;
      if (failed.size) {
        const err = new GroupDiscoveryFailedError(failed);
        errs.push(err);
        updater.discoveryFailed(err);
      }
    } catch (e) {
      errs.push(e);
      updater.discoveryFailed(e);
    }
    const deletable = supportingAllVerbs(discovered, ['delete']).filter((r) => r.namespaced);
    let estimate = 0;
    const byResource = new Map<string, number>();
    const byFinalizer = new Map<string, number>();
    await Promise.all(
      deletable.map(async (r) => {
        let res: GVRDeletion;
        try {
          res = await this.deleteAllContentForResource(r, name, deletedAt);
        } catch (e) {
          errs.push(e);
          updater.deleteContentFailed(e);
          res = e instanceof ContentError ? e.result : { estimate: 0, remaining: 0, finalizers: new Map() };
        }
        estimate = Math.max(estimate, res.estimate);
        if (res.remaining > 0) {
          byResource.set(`${r.resource}.${r.group}`, res.remaining);
          for (const [f, n] of res.finalizers) if (n > 0) byFinalizer.set(f, (byFinalizer.get(f) ?? 0) + n);
        }
      }),
    );
    updater.contentTotals(byResource, byFinalizer);
    // Conditions are written every time: "it failed" may have turned into "it worked".
    if (updater.update(ns)) {
      try {
        const updated = await this.client.updateStatus<Namespace>(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', ...ns });
        ns.metadata!.resourceVersion = updated.metadata?.resourceVersion;
      } catch (e) {
        this.logger.info({ namespace: name, err: e instanceof Error ? e.message : String(e) }, "couldn't update status condition for namespace");
      }
    }
    if (errs.length) throw errs.length === 1 ? errs[0] : new Error(errs.map((e) => (e instanceof Error ? e.message : String(e))).join(', '));
    return estimate;
  }

  private async deleteAllContentForResource(r: APIResource, namespace: string, deletedAt: number): Promise<GVRDeletion> {
    const gvr = { group: r.group, version: r.version, resource: r.resource };
    const estimate = r.group === '' && r.resource === 'pods' ? await this.estimateGracefulTerminationForPods(namespace, deletedAt) : 0;
    // The namespace controller deletes in the background: the garbage collector must not orphan.
    const opts = { propagationPolicy: 'Background' as const };
    let deleteCollection = r.verbs.includes('deletecollection');
    if (deleteCollection) {
      try {
        await this.client.deleteCollection(gvr, namespace, opts);
      } catch (e) {
        if (isMethodNotSupported(e) || isNotFound(e)) deleteCollection = false;
        else throw new ContentError(e, { estimate, remaining: 0, finalizers: new Map() });
      }
    }
    const listable = r.verbs.includes('list');
    if (!deleteCollection && listable) {
      const items = await this.list(gvr, namespace);
      for (const item of items ?? []) {
        try {
          await this.client.delete(gvr, namespace, item.metadata!.name!, opts);
        } catch (e) {
          if (!isNotFound(e) && !isMethodNotSupported(e)) throw new ContentError(e, { estimate, remaining: 0, finalizers: new Map() });
        }
      }
    }
    if (!listable) return { estimate, remaining: 0, finalizers: new Map() };
    const remaining = (await this.list(gvr, namespace)) ?? [];
    if (!remaining.length) return { estimate: 0, remaining: 0, finalizers: new Map() };
    const finalizers = new Map<string, number>();
    for (const item of remaining) for (const f of item.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    if (estimate !== 0) return { estimate, remaining: remaining.length, finalizers };
    if (finalizers.size) return { estimate: finalizerEstimateSeconds, remaining: remaining.length, finalizers };
    throw new ContentError(new Error(`unexpected items still remain in namespace: ${namespace} for gvr: ${r.group}/${r.version}, Resource=${r.resource}`), {
      estimate,
      remaining: remaining.length,
      finalizers,
    });
  }

  private async list(gvr: { group: string; version: string; resource: string }, namespace: string): Promise<KubeObject[] | undefined> {
    try {
      return (await this.client.request<{ items: KubeObject[] }>('GET', resourcePath(gvr, namespace))).items ?? [];
    } catch (e) {
      if (isMethodNotSupported(e) || isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** The longest grace period of the namespace's running pods, or 0 once that long has passed since deletion. */
  private async estimateGracefulTerminationForPods(namespace: string, deletedAt: number): Promise<number> {
    const pods = (await this.client.list<Pod>(resources.pods, namespace)).items;
    let estimate = 0;
    for (const p of pods) {
      const phase = p.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const grace = p.spec?.terminationGracePeriodSeconds;
      if (grace !== undefined && grace !== null && grace > estimate) estimate = grace;
    }
    if (this.clock.now() - deletedAt >= estimate * 1000) return 0;
    return estimate;
  }
}

/** A failure for one resource, with what was learned before it. */
class ContentError extends Error {
  constructor(
    err: unknown,
    readonly result: GVRDeletion,
  ) {
    super(err instanceof Error ? err.message : String(err));
  }
}
