/**
 * The pod garbage collector (pkg/controller/podgc/gc_controller.go). Every check period it:
 * - deletes the oldest terminated pods beyond `--terminated-pod-gc-threshold`;
 * - deletes pods bound to a Node that does not exist, once the Node has been missing for a
 *   quarantine period (and a direct GET confirms it is gone);
 * - force-deletes terminating pods that were never scheduled (no kubelet will finish them).
 * Before deleting a pod that has not terminated, it marks it Failed with a DisruptionTarget
 * condition (reason DeletionByPodGC), so controllers and users see why it went.
 */
import type { Logger } from 'pino';
import type { Node, Pod } from '../../api/types.js';
import { isNotFound, type RestClient } from '../../client/rest.js';
import type { Clock } from '../framework/clock.js';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { informerResources, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { errMessage } from '../framework/worker.js';

export interface PodGCControllerOptions {
  /** `--terminated-pod-gc-threshold`; 0 disables this part. */
  terminatedPodThreshold: number;
  /** How often it looks (upstream: 20s). */
  gcCheckPeriodMs?: number;
  /** How long a Node must be missing before its pods go (upstream: 40s). */
  quarantineMs?: number;
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The terminated pods to delete: the oldest beyond the threshold. */
export function terminatedPodsToDelete(pods: Pod[], threshold: number): Pod[] {
  if (threshold <= 0) return [];
  const terminated = pods.filter(isTerminal);
  const excess = terminated.length - threshold;
  if (excess <= 0) return [];
  const time = (p: Pod) => Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
  return terminated.sort((a, b) => time(a) - time(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')).slice(0, excess);
}

export class PodGCController implements Controller {
  readonly name = 'pod-garbage-collector-controller';
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly nodeInformer: SharedInformer<Node>;
  /** Nodes pods point at that the cache does not have, with when that was first seen. */
  private readonly missingSince = new Map<string, number>();

  constructor(
    ctx: ControllerContext,
    private readonly opts: PodGCControllerOptions,
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.podInformer = ctx.informers.informerFor<Pod>(informerResources.pods);
    this.nodeInformer = ctx.informers.informerFor<Node>(informerResources.nodes);
  }

  async run(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync([this.podInformer, this.nodeInformer], signal))) return;
    while (!signal.aborted) {
      try {
        await this.gc();
      } catch (e) {
        // The next period tries again: podgc is periodic by nature, as upstream's wait.Until.
        if (!signal.aborted) this.logger.warn({ err: errMessage(e) }, 'pod garbage collection pass failed');
      }
      await this.clock.sleep(this.opts.gcCheckPeriodMs ?? 20_000, signal);
    }
  }

  /** One pass over the cache. */
  async gc(): Promise<void> {
    const pods = this.podInformer.list();
    for (const p of terminatedPodsToDelete(pods, this.opts.terminatedPodThreshold)) await this.markFailedAndDelete(p, undefined);
    await this.gcOrphaned(pods);
    for (const p of pods) {
      if (p.metadata?.deletionTimestamp && !p.spec?.nodeName) await this.markFailedAndDelete(p, undefined);
    }
  }

  private async gcOrphaned(pods: Pod[]): Promise<void> {
    const now = this.clock.now();
    const quarantine = this.opts.quarantineMs ?? 40_000;
    const referenced = new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n));
    for (const name of this.missingSince.keys()) if (!referenced.has(name) || this.nodeInformer.get('', name)) this.missingSince.delete(name);
    const gone = new Set<string>();
    for (const name of referenced) {
      if (this.nodeInformer.get('', name)) continue;
      const since = this.missingSince.get(name);
      if (since === undefined) {
        this.missingSince.set(name, now);
        continue;
      }
      if (now - since < quarantine) continue;
      // The cache may lag: ask the apiserver before deleting anything.
      try {
        await this.client.get<Node>(informerResources.nodes, undefined, name);
        this.missingSince.delete(name);
        continue;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      gone.add(name);
    }
    for (const p of pods) {
      if (!p.spec?.nodeName || !gone.has(p.spec.nodeName)) continue;
      this.logger.info({ pod: `${p.metadata?.namespace}/${p.metadata?.name}`, node: p.spec.nodeName }, 'deleting an orphaned pod');
      await this.markFailedAndDelete(p, 'PodGC: node no longer exists');
    }
  }

  /** Marks a pod that has not terminated Failed with DisruptionTarget (DeletionByPodGC), then force-deletes it. */
  private async markFailedAndDelete(pod: Pod, message: string | undefined): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    try {
      if (!isTerminal(pod)) {
        const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
        conditions.push({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: message ?? 'PodGC: deleting pod', lastTransitionTime: rfc3339(this.clock.now()) });
        await this.client.updateStatus<Pod>(informerResources.pods, { ...pod, status: { ...pod.status, phase: 'Failed', conditions } });
      }
      await this.client.delete(informerResources.pods, ns, name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }
}

export function newPodGCController(ctx: ControllerContext, opts: PodGCControllerOptions): PodGCController {
  return new PodGCController(ctx, opts);
}
