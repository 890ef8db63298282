/**
 * The StatefulSet controller (pkg/controller/statefulset): pods with stable names and storage.
 * - Pods `<set>-<ordinal>` for ordinals start..start+replicas-1, with hostname and subdomain,
 *   and PVCs `<claim>-<set>-<ordinal>` from volumeClaimTemplates (created before the pod and not
 *   deleted with it; persistentVolumeClaimRetentionPolicy Delete hands them to the garbage
 *   collector through ownerReferences).
 * - OrderedReady: one pod at a time, each once its predecessors are Running and Ready, removed
 *   highest ordinal first; Parallel: all at once.
 * - Revisions: the template is snapshotted in ControllerRevisions; RollingUpdate replaces pods
 *   from the highest ordinal down to the partition, one at a time, waiting for each to be Ready;
 *   OnDelete only uses the new revision for pods the user deleted.
 * - Status: replicas, readyReplicas, currentReplicas, updatedReplicas, availableReplicas,
 *   currentRevision, updateRevision, observedGeneration, collisionCount.
 *
 * Pod names are deterministic, so a stale cache is harmless: a second create answers
 * AlreadyExists. Like upstream, no expectations are kept.
 */
import type { Logger } from 'pino';
import type { ControllerRevision, LabelSelector, OwnerReference, PersistentVolumeClaim, Pod, StatefulSet } from '../../api/types.js';
import { deepEqual } from '../../api/meta.js';
import { labelSelectorAsSelector, type Selector } from '../../api/labels.js';
import { isAlreadyExists, isConflict, isNotFound, type RestClient } from '../../client/rest.js';
import type { Clock } from '../framework/clock.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { claimObjects, getControllerOf, newControllerRef, recheckDeletionTimestamp } from '../framework/controller-ref.js';
import type { EventRecorder } from '../framework/event-recorder.js';
import { keyOf, splitKey, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { isPodAvailable, isPodReady } from '../framework/pod-util.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { controllerRevisionHashLabel, findEqualRevisions, nextRevision, RevisionControl, sortControllerRevisions } from '../history/history.js';
import { workloadResources } from '../history/resources.js';
import * as u from './stateful-set-utils.js';

export type StatefulSetStatus = NonNullable<StatefulSet['status']>;

export interface StatefulSetControllerOptions {
  workers: number;
}

const apiVersion = 'apps/v1';
const kind = 'StatefulSet';

/** The pod came from the apiserver (upstream looks at the phase, which creation sets). */
function isCreated(pod: Pod | undefined): pod is Pod {
  return !!pod?.metadata?.uid;
}
function isTerminating(pod: Pod): boolean {
  return !!pod.metadata?.deletionTimestamp;
}
function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}
function isFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

export class StatefulSetController implements Controller {
  readonly name = 'statefulset-controller';
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  private readonly queue: RateLimitingQueue<string>;
  private readonly history: RevisionControl;
  private readonly setInformer: SharedInformer<StatefulSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly revInformer: SharedInformer<ControllerRevision>;
  private readonly pvcInformer: SharedInformer<PersistentVolumeClaim>;

  constructor(
    ctx: ControllerContext,
    private readonly opts: StatefulSetControllerOptions,
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.recorder = ctx.events.newRecorder(this.name);
    this.queue = newQueue(ctx, 'statefulset');
    this.history = new RevisionControl(ctx.client);
    this.setInformer = ctx.informers.informerFor<StatefulSet>(workloadResources.statefulSets);
    this.podInformer = ctx.informers.informerFor<Pod>(workloadResources.pods);
    this.revInformer = ctx.informers.informerFor<ControllerRevision>(workloadResources.controllerRevisions);
    this.pvcInformer = ctx.informers.informerFor<PersistentVolumeClaim>(workloadResources.persistentVolumeClaims);

    this.setInformer.addEventHandler({
      add: (s) => this.queue.add(keyOf(s)),
      update: (_o, s) => this.queue.add(keyOf(s)),
      delete: (s) => this.queue.add(keyOf(s)),
    });
    this.podInformer.addEventHandler({
      add: (p) => this.onPod(p),
      update: (o, p) => {
        if (o.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
        const oldRef = getControllerOf(o);
        if (oldRef && oldRef.uid !== getControllerOf(p)?.uid) this.onPod(o);
        this.onPod(p);
      },
      delete: (p) => this.onPod(p),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.setInformer, this.podInformer, this.revInformer, this.pvcInformer], signal))) return;
    this.logger.info('caches synced; starting workers');
    await runWorkers(this.queue, (key) => this.sync(key), { workers: this.opts.workers, logger: this.logger });
  }

  /** A pod event enqueues its owning set, or for an orphan every set that could adopt it. */
  private onPod(pod: Pod): void {
    const ns = pod.metadata?.namespace ?? '';
    const ref = getControllerOf(pod);
    if (ref) {
      if (ref.kind !== kind) return;
      const set = this.setInformer.get(ns, ref.name);
      if (set && set.metadata?.uid === ref.uid) this.queue.add(keyOf(set));
      return;
    }
    if (pod.metadata?.deletionTimestamp) return;
    for (const set of this.setInformer.list(ns)) {
      const sel = selectorOf(set);
      if (sel && !sel.isEmpty() && sel.matches(pod.metadata?.labels)) this.queue.add(keyOf(set));
    }
  }

  /** syncStatefulSet. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const set = this.setInformer.get(namespace, name);
    if (!set) return;
    const selector = selectorOf(set);
    if (!selector) {
      this.recorder.event(set, 'Warning', 'InvalidSelector', 'Invalid selector');
      return;
    }
    const pods = await claimObjects<Pod>(this.podInformer.list(namespace), {
      client: this.client,
      childResource: workloadResources.pods,
      controller: set,
      controllerAPIVersion: apiVersion,
      controllerKind: kind,
      match: (p) => selector.matches(p.metadata?.labels) && u.isMemberOf(set, p),
      canAdopt: recheckDeletionTimestamp(() => this.client.get(workloadResources.statefulSets, namespace, name), set),
    });
    const revisions = this.revInformer.list(namespace).filter((r) => getControllerOf(r)?.uid === set.metadata?.uid);
    await this.updateStatefulSet(set, pods, revisions);
  }

  /** updateStatefulSet: revisions, pods, status, history. */
  private async updateStatefulSet(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[]): Promise<void> {
    const ref = newControllerRef(set, apiVersion, kind);
    const { currentRevision, updateRevision, collisionCount } = await this.getRevisions(set, ref, sortControllerRevisions([...revisions]));
    let status: StatefulSetStatus;
    let err: unknown;
    try {
      status = await this.updateStatefulSetPods(set, ref, currentRevision, updateRevision, collisionCount, pods);
    } catch (e) {
      err = e;
      status = computeStatus(set, pods, currentRevision, updateRevision, collisionCount, this.clock.now());
    }
    await this.updateStatus(set, status);
    if (err) throw err;
    await this.truncateHistory(set, pods, revisions, currentRevision, updateRevision);
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && (status.readyReplicas ?? 0) !== (status.availableReplicas ?? 0)) this.queue.addAfter(keyOf(set), minReady * 1000);
  }

  /** getStatefulSetRevisions: the current and update revisions, creating or renumbering the update revision. */
  private async getRevisions(set: StatefulSet, ref: OwnerReference, revisions: ControllerRevision[]): Promise<{ currentRevision: ControllerRevision; updateRevision: ControllerRevision; collisionCount: number }> {
    const collision = { value: set.status?.collisionCount ?? 0 };
    const candidate = u.newRevision(set, ref, nextRevision(revisions), collision.value);
    const equal = findEqualRevisions(revisions, candidate);
    let updateRevision: ControllerRevision;
    if (equal.length > 0 && equal[equal.length - 1]!.metadata?.name === revisions[revisions.length - 1]?.metadata?.name) {
      // The latest revision is already this template.
      updateRevision = revisions[revisions.length - 1]!;
    } else if (equal.length > 0) {
      // Rolling back to an older template: it becomes the newest revision again.
      updateRevision = await this.history.updateRevision(equal[equal.length - 1]!, candidate.revision!);
    } else {
      updateRevision = await this.history.create(set, candidate, collision);
    }
    const currentRevision = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? updateRevision;
    return { currentRevision, updateRevision, collisionCount: collision.value };
  }

  /** The pod an ordinal gets: the current revision below the partition, the update revision otherwise. */
  private newVersionedPod(set: StatefulSet, ref: OwnerReference, current: ControllerRevision, update: ControllerRevision, ordinal: number): Pod {
    const strategy = set.spec?.updateStrategy;
    const useCurrent =
      strategy?.type !== 'OnDelete' &&
      ((strategy?.rollingUpdate === undefined && ordinal - u.startOrdinal(set) < (set.status?.currentReplicas ?? 0)) ||
        (strategy?.rollingUpdate !== undefined && ordinal - u.startOrdinal(set) < (strategy.rollingUpdate.partition ?? 0)));
    const rev = useCurrent ? current : update;
    const pod = u.newStatefulSetPod(set, u.templateFromRevision(set, rev), ordinal, ref);
    pod.metadata!.labels![controllerRevisionHashLabel] = rev.metadata!.name!;
    return pod;
  }

  /**
   * The heart of the controller: brings the pods one step closer to the spec and returns the
   * status they give. With OrderedReady it stops at the first pod that is not yet Running and
   * Ready, so each sync makes at most one change.
   */
  private async updateStatefulSetPods(set: StatefulSet, ref: OwnerReference, current: ControllerRevision, update: ControllerRevision, collisionCount: number, pods: Pod[]): Promise<StatefulSetStatus> {
    const now = this.clock.now();
    const status = (): StatefulSetStatus => computeStatus(set, pods, current, update, collisionCount, now);
    const start = u.startOrdinal(set);
    const replicaCount = u.replicasOf(set);
    const end = start + replicaCount;
    const replicas: (Pod | undefined)[] = new Array(replicaCount).fill(undefined);
    const condemned: Pod[] = [];
    for (const pod of pods) {
      const ord = u.getOrdinal(pod);
      if (ord >= start && ord < end) replicas[ord - start] = pod;
      else if (ord >= 0) condemned.push(pod);
    }
    condemned.sort((a, b) => u.getOrdinal(b) - u.getOrdinal(a));
    for (let i = 0; i < replicaCount; i++) replicas[i] ??= this.newVersionedPod(set, ref, current, update, start + i);

    if (set.metadata?.deletionTimestamp) return status();
    const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
    const minReady = set.spec?.minReadySeconds ?? 0;
    const ns = set.metadata!.namespace!;

    for (let i = 0; i < replicaCount; i++) {
      let pod = replicas[i]!;
      if (isCreated(pod) && isFinished(pod) && !isTerminating(pod)) {
        // A pod that ran to completion is replaced under the same name.
        await this.deletePod(set, pod);
        pods = pods.filter((p) => p !== pod);
        replicas[i] = pod = this.newVersionedPod(set, ref, current, update, start + i);
        if (monotonic) return status();
        continue;
      }
      if (!isCreated(pod)) {
        await this.createPersistentVolumeClaims(set, pod);
        await this.createPod(set, pod);
        if (monotonic) return status();
        continue;
      }
      if (isTerminating(pod)) {
        if (monotonic) return status();
        continue;
      }
      if (!isRunningAndReady(pod) && monotonic) return status();
      if (monotonic && !isPodAvailable(pod, minReady, now)) return status();
      if (!u.identityMatches(set, pod)) {
        const fixed = { ...pod, metadata: { ...pod.metadata } };
        u.updateIdentity(set, fixed);
        await this.client.update<Pod>(workloadResources.pods, fixed);
      }
      await this.createPersistentVolumeClaims(set, pod);
    }

    // Pods beyond the replicas go highest ordinal first; OrderedReady waits for each to be gone.
    const firstUnhealthy = replicas.find((p) => !isCreated(p) || !isRunningAndReady(p!) || isTerminating(p!));
    for (const pod of condemned) {
      if (isTerminating(pod)) {
        if (monotonic) return status();
        continue;
      }
      if (monotonic && firstUnhealthy && firstUnhealthy !== pod) return status();
      await this.retainOrReleaseClaims(set, pod, true);
      await this.deletePod(set, pod);
      if (monotonic) return status();
    }

    if (set.spec?.updateStrategy?.type === 'OnDelete') return status();
    const partition = Math.max(0, set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0);
    for (let target = replicaCount - 1; target >= partition; target--) {
      const pod = replicas[target]!;
      if (u.getPodRevision(pod) !== update.metadata!.name && !isTerminating(pod)) {
        this.logger.info({ statefulset: `${ns}/${set.metadata!.name}`, pod: pod.metadata!.name }, 'terminating pod for update');
        await this.deletePod(set, pod);
        return status();
      }
      if (!isRunningAndReady(pod) || isTerminating(pod) || !isPodAvailable(pod, minReady, now)) return status();
    }
    return status();
  }

  /** createPersistentVolumeClaims: the pod's claims, unless they exist. */
  private async createPersistentVolumeClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const ordinal = u.getOrdinal(pod);
    for (const claim of u.persistentVolumeClaimsFor(set, ordinal).values()) {
      const existing = this.pvcInformer.get(claim.metadata!.namespace!, claim.metadata!.name!);
      if (existing) continue;
      if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete') {
        claim.metadata!.ownerReferences = [{ apiVersion, kind, name: set.metadata!.name!, uid: set.metadata!.uid!, blockOwnerDeletion: true }];
      }
      try {
        await this.client.create<PersistentVolumeClaim>(workloadResources.persistentVolumeClaims, claim.metadata!.namespace, claim);
        this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata!.name} Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} success`);
      } catch (e) {
        if (isAlreadyExists(e)) continue;
        this.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata!.name} for Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} failed error: ${errText(e)}`);
        throw e;
      }
    }
  }

  /**
   * persistentVolumeClaimRetentionPolicy.whenScaled=Delete: the claims of a pod removed by a
   * scale-down get the pod as owner, so the garbage collector removes them after it.
   */
  private async retainOrReleaseClaims(set: StatefulSet, pod: Pod, condemned: boolean): Promise<void> {
    if (!condemned || set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return;
    for (const claim of u.persistentVolumeClaimsFor(set, u.getOrdinal(pod)).values()) {
      const existing = this.pvcInformer.get(claim.metadata!.namespace!, claim.metadata!.name!);
      if (!existing || existing.metadata?.ownerReferences?.some((r) => r.uid === pod.metadata!.uid)) continue;
      const refs = [...(existing.metadata?.ownerReferences ?? []), { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! }];
      try {
        await this.client.patch(workloadResources.persistentVolumeClaims, existing.metadata!.namespace, existing.metadata!.name!, 'merge', { metadata: { ownerReferences: refs, resourceVersion: existing.metadata!.resourceVersion } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  private async createPod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.client.create<Pod>(workloadResources.pods, set.metadata!.namespace, pod);
    } catch (e) {
      // The cache has not seen our own earlier create yet.
      if (isAlreadyExists(e)) return;
      this.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} failed error: ${errText(e)}`);
      throw e;
    }
    this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} successful`);
  }

  private async deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.client.delete(workloadResources.pods, pod.metadata!.namespace, pod.metadata!.name!, { preconditions: { uid: pod.metadata!.uid } });
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return;
      this.recorder.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} failed error: ${errText(e)}`);
      throw e;
    }
    this.recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata!.name} in StatefulSet ${set.metadata!.name} successful`);
  }

  /** Writes status when it changed, re-reading once on a conflict. */
  private async updateStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    if (deepEqual(normalizeStatus(set.status ?? ({} as StatefulSetStatus)), normalizeStatus(status))) return;
    let target = set;
    for (let i = 0; ; i++) {
      try {
        await this.client.updateStatus<StatefulSet>(workloadResources.statefulSets, { ...target, status });
        return;
      } catch (e) {
        if (i >= 1 || !isConflict(e)) throw e;
        target = await this.client.get<StatefulSet>(workloadResources.statefulSets, set.metadata!.namespace, set.metadata!.name!);
      }
    }
  }

  /** truncateHistory: keeps the revisions in use and revisionHistoryLimit others, newest first. */
  private async truncateHistory(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[], current: ControllerRevision, update: ControllerRevision): Promise<void> {
    const live = new Set<string>([current.metadata!.name!, update.metadata!.name!]);
    for (const p of pods) live.add(u.getPodRevision(p));
    const history = sortControllerRevisions(revisions.filter((r) => !live.has(r.metadata!.name!)));
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    const excess = history.length - limit;
    for (let i = 0; i < excess; i++) await this.history.delete(history[i]!);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function selectorOf(set: StatefulSet): Selector | undefined {
  try {
    return labelSelectorAsSelector(set.spec?.selector as LabelSelector | undefined);
  } catch {
    return undefined;
  }
}

/** Status fields compared without the omitted-versus-zero difference. */
function normalizeStatus(s: StatefulSetStatus): unknown {
  return {
    ...s,
    replicas: s.replicas ?? 0,
    readyReplicas: s.readyReplicas ?? 0,
    currentReplicas: s.currentReplicas ?? 0,
    updatedReplicas: s.updatedReplicas ?? 0,
    availableReplicas: s.availableReplicas ?? 0,
    collisionCount: s.collisionCount ?? 0,
  };
}

/**
 * The status the pods give (computeReplicaStatus plus completeRollingUpdate): a rolling update
 * is complete, and the update revision becomes current, once every replica is updated and ready.
 */
export function computeStatus(set: StatefulSet, pods: Pod[], current: ControllerRevision, update: ControllerRevision, collisionCount: number, now: number): StatefulSetStatus {
  const status: StatefulSetStatus = {
    ...(set.status ?? {}),
    observedGeneration: set.metadata?.generation ?? 0,
    replicas: 0,
    readyReplicas: 0,
    availableReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    currentRevision: current.metadata!.name!,
    updateRevision: update.metadata!.name!,
    collisionCount,
  };
  const minReady = set.spec?.minReadySeconds ?? 0;
  for (const pod of pods) {
    if (!isCreated(pod)) continue;
    status.replicas!++;
    if (isRunningAndReady(pod) && !isTerminating(pod)) {
      status.readyReplicas!++;
      if (isPodAvailable(pod, minReady, now)) status.availableReplicas!++;
    }
    if (isTerminating(pod)) continue;
    const rev = u.getPodRevision(pod);
    if (rev === status.currentRevision) status.currentReplicas!++;
    if (rev === status.updateRevision) status.updatedReplicas!++;
  }
  const replicas = u.replicasOf(set);
  const updateDone = status.updatedReplicas === replicas && status.readyReplicas === replicas && status.replicas === replicas;
  if (set.spec?.updateStrategy?.type !== 'OnDelete' ? updateDone : status.updatedReplicas === status.replicas && status.replicas === replicas) {
    status.currentRevision = status.updateRevision;
    status.currentReplicas = status.updatedReplicas;
  }
  return status;
}

/** The StatefulSet controller, as kube-controller-manager starts it (`statefulset`). */
export function newStatefulSetController(ctx: ControllerContext, opts: StatefulSetControllerOptions): StatefulSetController {
  return new StatefulSetController(ctx, opts);
}
