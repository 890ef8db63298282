/**
 * The ResourceQuota controller (pkg/controller/resourcequota): keeps each quota's `status.hard`
 * equal to its spec and `status.used` equal to what the namespace holds, for the resources in
 * usage.ts. A quota is recomputed when it changes, when an object it counts is created, deleted
 * or changes in a way that counts (a pod's phase or resources), and every
 * `--resource-quota-sync-period`.
 */
import type { Logger } from 'pino';
import type { KubeObject, Pod, ResourceQuota } from '../../api/types.js';
import { deepEqual } from '../../api/meta.js';
import { isNotFound, type RestClient } from '../../client/rest.js';
import type { Clock, ClockTimer } from '../framework/clock.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { informerResources, keyOf, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { computeUsage, type NamespaceObjects } from './usage.js';

export interface ResourceQuotaControllerOptions {
  workers: number;
  resyncPeriodMs: number;
}

const counted = {
  pods: informerResources.pods,
  services: informerResources.services,
  configmaps: informerResources.configMaps,
  secrets: informerResources.secrets,
  persistentvolumeclaims: informerResources.persistentVolumeClaims,
  replicationcontrollers: informerResources.replicationControllers,
  resourcequotas: informerResources.resourceQuotas,
  'deployments.apps': informerResources.deployments,
  'replicasets.apps': informerResources.replicaSets,
};

export class ResourceQuotaController implements Controller {
  readonly name = 'resourcequota-controller';
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly queue: RateLimitingQueue<string>;
  private readonly quotaInformer: SharedInformer<ResourceQuota>;
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();

  constructor(
    ctx: ControllerContext,
    private readonly opts: ResourceQuotaControllerOptions,
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.queue = newQueue(ctx, 'resourcequota_primary');
    this.quotaInformer = ctx.informers.informerFor<ResourceQuota>(informerResources.resourceQuotas);
    this.quotaInformer.addEventHandler({
      add: (q) => this.queue.add(keyOf(q)),
      update: (o, q) => {
        if (!deepEqual(o.spec, q.spec) || !deepEqual(q.spec?.hard ?? {}, q.status?.hard ?? {})) this.queue.add(keyOf(q));
      },
    });
    for (const [resource, gvr] of Object.entries(counted)) {
      const inf = ctx.informers.informerFor<KubeObject>(gvr);
      this.informers.set(resource, inf);
      inf.addEventHandler({
        add: (o) => this.enqueueNamespace(o),
        update: (o, n) => {
          if (resource === 'pods' && podChangeCounts(o as Pod, n as Pod)) this.enqueueNamespace(n);
          else if (resource === 'services' || resource === 'persistentvolumeclaims') {
            if (!deepEqual((o as { spec?: unknown }).spec, (n as { spec?: unknown }).spec)) this.enqueueNamespace(n);
          }
        },
        delete: (o) => this.enqueueNamespace(o),
      });
    }
  }

  private enqueueNamespace(o: KubeObject): void {
    for (const q of this.quotaInformer.list(o.metadata?.namespace ?? '')) this.queue.add(keyOf(q));
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.quotaInformer, ...this.informers.values()], signal))) return;
    let timer: ClockTimer | undefined;
    const resync = () => {
      if (signal.aborted) return;
      for (const q of this.quotaInformer.list()) this.queue.add(keyOf(q));
      timer = this.clock.setTimeout(resync, this.opts.resyncPeriodMs);
    };
    timer = this.clock.setTimeout(resync, this.opts.resyncPeriodMs);
    try {
      await runWorkers(this.queue, (key) => this.syncResourceQuota(key), { workers: this.opts.workers, logger: this.logger });
    } finally {
      timer?.cancel();
    }
  }

  async syncResourceQuota(key: string): Promise<void> {
    const quota = this.quotaInformer.getByKey(key);
    if (!quota) return;
    const ns = quota.metadata!.namespace!;
    const objects: NamespaceObjects = {};
    for (const [resource, inf] of this.informers) objects[resource] = inf.list(ns);
    const hard = quota.spec?.hard ?? {};
    const used = computeUsage(quota, objects);
    if (deepEqual(quota.status?.hard ?? {}, hard) && deepEqual(quota.status?.used ?? {}, used)) return;
    try {
      await this.client.updateStatus<ResourceQuota>(informerResources.resourceQuotas, { ...quota, status: { hard, used } });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }
}

/** A pod change that moves usage: phase (terminal or not), resources, scope-relevant fields. */
function podChangeCounts(o: Pod, n: Pod): boolean {
  return o.status?.phase !== n.status?.phase || !deepEqual(o.spec?.containers?.map((c) => c.resources), n.spec?.containers?.map((c) => c.resources)) || o.spec?.activeDeadlineSeconds !== n.spec?.activeDeadlineSeconds;
}

export function newResourceQuotaController(ctx: ControllerContext, opts: ResourceQuotaControllerOptions): ResourceQuotaController {
  return new ResourceQuotaController(ctx, opts);
}
