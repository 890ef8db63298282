/**
 * The ReplicaSet controller (pkg/controller/replicaset/replica_set.go). It keeps
 * `spec.replicas` pods for each ReplicaSet:
 * - creates missing pods in slow-start batches (1, 2, 4, …) so a failing template costs one
 *   request, not hundreds;
 * - deletes surplus pods in upstream's order (unscheduled, pending, not ready, … newest first);
 * - adopts orphan pods its selector matches and releases owned pods it no longer matches;
 * - records expectations and does not act on a ReplicaSet again until it has seen its own
 *   creates and deletes;
 * - writes status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (with
 *   minReadySeconds), observedGeneration and the ReplicaFailure condition.
 *
 * The same code manages ReplicationControllers (upstream adapts RCs to ReplicaSets the same way);
 * `ReplicaSetKind` says which.
 */
import type { Logger } from 'pino';
import type { KubeObject, LabelSelector, Pod, PodTemplateSpec } from '../../api/types.js';
import { deepEqual, nowRFC3339 } from '../../api/meta.js';
import { labelSelectorAsSelector, selectorFromSet, type Selector } from '../../api/labels.js';
import { hasStatusCause, isConflict, isNotFound, resources, type RestClient } from '../../client/rest.js';
import type { Clock } from '../framework/clock.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { claimObjects, getControllerOf, newControllerRef, recheckDeletionTimestamp } from '../framework/controller-ref.js';
import type { EventRecorder } from '../framework/event-recorder.js';
import { UIDTrackingControllerExpectations } from '../framework/expectations.js';
import { informerResources, keyOf, splitKey, waitForCacheSync, type InformerResource, type SharedInformer } from '../framework/informer.js';
import { PodControl, namespaceTerminatingCause } from '../framework/pod-control.js';
import { isPodActive, isPodAvailable, isPodReady, podKey, podsToDelete } from '../framework/pod-util.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';

/** The most pods created or deleted in one sync (BurstReplicas). */
export const burstReplicas = 500;

/** A ReplicaSet or ReplicationController, as the shared code reads them. */
export type ReplicaSetLike = KubeObject & {
  spec?: { replicas?: number; minReadySeconds?: number; selector?: unknown; template?: PodTemplateSpec };
  status?: ReplicaSetStatus;
};

interface ReplicaSetCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaSetCondition[];
}

/** Which kind the controller manages. */
export interface ReplicaSetKind {
  kind: string;
  apiVersion: string;
  resource: InformerResource;
  /** Upstream's controller name, also the event source. */
  name: string;
  /** The work queue's name (its metrics label). */
  queueName: string;
  selectorOf(obj: ReplicaSetLike): Selector;
}

export const replicaSetKind: ReplicaSetKind = {
  kind: 'ReplicaSet',
  apiVersion: 'apps/v1',
  resource: informerResources.replicaSets,
  name: 'replicaset-controller',
  queueName: 'replicaset',
  selectorOf: (rs) => labelSelectorAsSelector(rs.spec?.selector as LabelSelector | undefined),
};

export const replicationControllerKind: ReplicaSetKind = {
  kind: 'ReplicationController',
  apiVersion: 'v1',
  resource: informerResources.replicationControllers,
  name: 'replication-controller',
  queueName: 'replicationmanager',
  selectorOf: (rc) => selectorFromSet(rc.spec?.selector as Record<string, string> | undefined),
};

export interface ReplicaSetControllerOptions {
  workers: number;
  burstReplicas?: number;
}

/** Runs `fn` count times in batches of 1, 2, 4, …; stops after a batch with an error. */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { successes, error: failed.reason };
    remaining -= batch;
  }
  return { successes };
}

export class ReplicaSetController implements Controller {
  readonly name: string;
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  private readonly podControl: PodControl;
  private readonly queue: RateLimitingQueue<string>;
  private readonly expectations: UIDTrackingControllerExpectations;
  private readonly rsInformer: SharedInformer<ReplicaSetLike>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly burst: number;

  constructor(
    ctx: ControllerContext,
    private readonly kind: ReplicaSetKind,
    private readonly opts: ReplicaSetControllerOptions,
  ) {
    this.name = kind.name;
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: kind.name });
    this.recorder = ctx.events.newRecorder(kind.name);
    this.podControl = new PodControl(ctx.client, this.recorder);
    this.queue = newQueue(ctx, kind.queueName);
    this.expectations = new UIDTrackingControllerExpectations(ctx.clock);
    this.burst = opts.burstReplicas ?? burstReplicas;
    this.rsInformer = ctx.informers.informerFor<ReplicaSetLike>(kind.resource);
    this.podInformer = ctx.informers.informerFor<Pod>(informerResources.pods);

    this.rsInformer.addEventHandler({
      add: (rs) => this.enqueue(rs),
      update: (old, cur) => {
        if (old.metadata?.uid !== cur.metadata?.uid) this.deleteRS(old);
        this.enqueue(cur);
      },
      delete: (rs) => this.deleteRS(rs),
    });
    this.podInformer.addEventHandler({
      add: (pod) => this.addPod(pod),
      update: (old, cur) => this.updatePod(old, cur),
      delete: (pod) => this.deletePod(pod),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.rsInformer, this.podInformer], signal))) return;
    this.logger.info('caches synced; starting workers');
    await runWorkers(this.queue, (key) => this.syncReplicaSet(key), { workers: this.opts.workers, logger: this.logger });
  }

  private enqueue(rs: ReplicaSetLike): void {
    this.queue.add(keyOf(rs));
  }

  private deleteRS(rs: ReplicaSetLike): void {
    const key = keyOf(rs);
    this.expectations.deleteExpectations(key);
    this.queue.add(key);
  }

  private resolveControllerRef(namespace: string, ref: { kind: string; name: string; uid: string } | undefined): ReplicaSetLike | undefined {
    if (!ref || ref.kind !== this.kind.kind) return undefined;
    const rs = this.rsInformer.get(namespace, ref.name);
    return rs && rs.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** The ReplicaSets whose (non-empty) selector matches an orphan pod. */
  private podReplicaSets(pod: Pod): ReplicaSetLike[] {
    const out: ReplicaSetLike[] = [];
    for (const rs of this.rsInformer.list(pod.metadata?.namespace ?? '')) {
      let sel: Selector;
      try {
        sel = this.kind.selectorOf(rs);
      } catch {
        continue;
      }
      if (sel.isEmpty() || !sel.matches(pod.metadata?.labels)) continue;
      out.push(rs);
    }
    return out;
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      // A restarted controller-manager can see a pod already being deleted: count it as deleted.
      this.deletePod(pod);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref) {
      const rs = this.resolveControllerRef(pod.metadata!.namespace!, ref);
      if (!rs) return;
      const key = keyOf(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const rs of this.podReplicaSets(pod)) this.enqueue(rs);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const labelChanged = !deepEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {});
    if (cur.metadata?.deletionTimestamp) {
      // Graceful deletion: the pod is gone as far as this controller is concerned.
      this.deletePod(cur);
      if (labelChanged) this.deletePod(old);
      return;
    }
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef ?? null, oldRef ?? null);
    if (refChanged && oldRef) {
      const rs = this.resolveControllerRef(old.metadata!.namespace!, oldRef);
      if (rs) this.enqueue(rs);
    }
    if (curRef) {
      const rs = this.resolveControllerRef(cur.metadata!.namespace!, curRef);
      if (!rs) return;
      this.enqueue(rs);
      // A pod that became ready counts as available only minReadySeconds later: look again then.
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0) this.queue.addAfter(keyOf(rs), minReady * 1000);
      return;
    }
    if (labelChanged || refChanged) for (const rs of this.podReplicaSets(cur)) this.enqueue(rs);
  }

  private deletePod(pod: Pod): void {
    const ref = getControllerOf(pod);
    if (!ref) return;
    const rs = this.resolveControllerRef(pod.metadata!.namespace!, ref);
    if (!rs) return;
    const key = keyOf(rs);
    this.expectations.deletionObservedOf(key, podKey(pod));
    this.queue.add(key);
  }

  /** syncReplicaSet: level-triggered; reads the caches, acts, and writes status. */
  async syncReplicaSet(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const rs = this.rsInformer.get(namespace, name);
    if (!rs) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const needsSync = this.expectations.satisfiedExpectations(key);
    let selector: Selector;
    try {
      selector = this.kind.selectorOf(rs);
    } catch (e) {
      this.logger.error({ key, err: String(e) }, 'invalid selector');
      return;
    }
    const allPods = this.podInformer.list(namespace).filter(isPodActive);
    const filteredPods = await claimObjects<Pod>(allPods, {
      client: this.client,
      childResource: resources.pods,
      controller: rs,
      controllerAPIVersion: this.kind.apiVersion,
      controllerKind: this.kind.kind,
      match: (p) => selector.matches(p.metadata?.labels),
      canAdopt: recheckDeletionTimestamp(() => this.client.get(this.kind.resource, namespace, name), rs),
    });

    let manageErr: unknown;
    if (needsSync && !rs.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(filteredPods, rs, key);
      } catch (e) {
        manageErr = e;
      }
    }
    const newStatus = calculateStatus(rs, filteredPods, manageErr, this.clock.now());
    const updated = await this.updateStatus(rs, newStatus);
    const replicas = rs.spec?.replicas ?? 1;
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (manageErr === undefined && minReady > 0 && (updated.status?.readyReplicas ?? 0) === replicas && (updated.status?.availableReplicas ?? 0) !== replicas) {
      this.queue.addAfter(key, minReady * 1000);
    }
    if (manageErr !== undefined) throw manageErr;
  }

  private async manageReplicas(filteredPods: Pod[], rs: ReplicaSetLike, key: string): Promise<void> {
    const replicas = rs.spec?.replicas ?? 1;
    let diff = filteredPods.length - replicas;
    const ns = rs.metadata!.namespace!;
    if (diff < 0) {
      diff = Math.min(-diff, this.burst);
      // Expect the creations before making them: the informer may see a pod before create returns.
      this.expectations.expectCreations(key, diff);
      this.logger.debug({ key, need: replicas, creating: diff }, 'too few replicas');
      const template = rs.spec?.template ?? {};
      const ref = newControllerRef(rs, this.kind.apiVersion, this.kind.kind);
      const { successes, error } = await slowStartBatch(diff, 1, async () => {
        try {
          await this.podControl.createPod(ns, template, rs, ref);
        } catch (e) {
          // Every create fails in a terminating namespace: nothing more to do.
          if (hasStatusCause(e, namespaceTerminatingCause)) return;
          throw e;
        }
      });
      // The creations never attempted will not be observed.
      for (let i = 0; i < diff - successes; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
      return;
    }
    if (diff > 0) {
      diff = Math.min(diff, this.burst);
      this.logger.debug({ key, need: replicas, deleting: diff }, 'too many replicas');
      const victims = podsToDelete(filteredPods, this.relatedPods(rs, filteredPods), diff, this.clock.now());
      this.expectations.expectDeletionsOf(key, victims.map(podKey));
      const results = await Promise.allSettled(
        victims.map(async (pod) => {
          try {
            await this.podControl.deletePod(ns, pod.metadata!.name!, rs);
          } catch (e) {
            // The informer will not see this deletion.
            this.expectations.deletionObservedOf(key, podKey(pod));
            if (!isNotFound(e)) throw e;
          }
        }),
      );
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) throw failed.reason;
    }
  }

  /**
   * Pods of every ReplicaSet with the same controller (the Deployment's other ReplicaSets), used
   * to rank pods by how crowded their node is (getIndirectlyRelatedPods).
   */
  private relatedPods(rs: ReplicaSetLike, own: Pod[]): Pod[] {
    const ctrl = getControllerOf(rs);
    if (!ctrl) return own;
    const siblings = new Set(
      this.rsInformer
        .list(rs.metadata!.namespace!)
        .filter((o) => getControllerOf(o)?.uid === ctrl.uid)
        .map((o) => o.metadata!.uid!),
    );
    return this.podInformer.list(rs.metadata!.namespace!).filter((p) => {
      const r = getControllerOf(p);
      return r !== undefined && siblings.has(r.uid);
    });
  }

  /** Writes status when it changed; on a conflict re-reads once and retries (statusUpdateRetries). */
  private async updateStatus(rs: ReplicaSetLike, status: ReplicaSetStatus): Promise<ReplicaSetLike> {
    const cur = rs.status ?? {};
    const generation = rs.metadata?.generation ?? 0;
    if (
      (cur.replicas ?? 0) === (status.replicas ?? 0) &&
      (cur.fullyLabeledReplicas ?? 0) === (status.fullyLabeledReplicas ?? 0) &&
      (cur.readyReplicas ?? 0) === (status.readyReplicas ?? 0) &&
      (cur.availableReplicas ?? 0) === (status.availableReplicas ?? 0) &&
      (cur.observedGeneration ?? 0) === generation &&
      deepEqual(cur.conditions ?? [], status.conditions ?? [])
    ) {
      return rs;
    }
    status.observedGeneration = generation;
    let target = rs;
    for (let i = 0; ; i++) {
      try {
        return await this.client.updateStatus<ReplicaSetLike>(this.kind.resource, { ...target, status });
      } catch (e) {
        if (i >= 1 || !isConflict(e)) throw e;
        target = await this.client.get<ReplicaSetLike>(this.kind.resource, rs.metadata!.namespace, rs.metadata!.name!);
      }
    }
  }
}

/**
 * The status a ReplicaSet should have (calculateStatus): counts of its active pods, and the
 * ReplicaFailure condition while creating or deleting pods fails.
 */
export function calculateStatus(rs: ReplicaSetLike, filteredPods: Pod[], manageErr: unknown, now: number): ReplicaSetStatus {
  const status: ReplicaSetStatus = { ...(rs.status ?? {}), conditions: rs.status?.conditions ? [...rs.status.conditions] : undefined };
  const templateLabels = selectorFromSet(rs.spec?.template?.metadata?.labels);
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of filteredPods) {
    if (templateLabels.matches(pod.metadata?.labels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady, now)) available++;
    }
  }
  const failure = status.conditions?.find((c) => c.type === 'ReplicaFailure');
  if (manageErr !== undefined && !failure) {
    const diff = filteredPods.length - (rs.spec?.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    const cond: ReplicaSetCondition = {
      type: 'ReplicaFailure',
      status: 'True',
      lastTransitionTime: nowRFC3339(new Date(now)),
      reason,
      message: manageErr instanceof Error ? manageErr.message : String(manageErr),
    };
    status.conditions = [...(status.conditions ?? []), cond];
  } else if (manageErr === undefined && failure) {
    status.conditions = status.conditions!.filter((c) => c.type !== 'ReplicaFailure');
  }
  if (status.conditions && status.conditions.length === 0) delete status.conditions;
  status.replicas = filteredPods.length;
  setOrOmit(status, 'fullyLabeledReplicas', fullyLabeled);
  setOrOmit(status, 'readyReplicas', ready);
  setOrOmit(status, 'availableReplicas', available);
  return status;
}

function setOrOmit(status: ReplicaSetStatus, field: 'fullyLabeledReplicas' | 'readyReplicas' | 'availableReplicas', n: number): void {
  if (n) status[field] = n;
  else delete status[field];
}

/** The ReplicaSet controller, as kube-controller-manager starts it (`replicaset`). */
export function newReplicaSetController(ctx: ControllerContext, opts: ReplicaSetControllerOptions): ReplicaSetController {
  return new ReplicaSetController(ctx, replicaSetKind, opts);
}
