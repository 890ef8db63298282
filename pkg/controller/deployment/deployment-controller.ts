/**
 * The Deployment controller (pkg/controller/deployment). A Deployment owns ReplicaSets, one per
 * pod template (named `<deployment>-<pod-template-hash>`, revision-annotated), and moves replicas
 * from the old ones to the new one:
 * - RollingUpdate within maxSurge and maxUnavailable (numbers or percentages, rounded as
 *   upstream), Recreate by scaling old to zero first;
 * - scaling events and paused Deployments scale all ReplicaSets proportionally;
 * - old ReplicaSets beyond revisionHistoryLimit are deleted once empty;
 * - status (replicas, updated, ready, available, unavailable, observedGeneration) and the
 *   Available and Progressing conditions, with ProgressDeadlineExceeded once no progress is seen
 *   for progressDeadlineSeconds;
 * - ScalingReplicaSet events.
 * `kubectl rollout undo` is done by kubectl itself, by copying an old ReplicaSet's template back.
 */
import type { Logger } from 'pino';
import type { Deployment, LabelSelector, Pod, ReplicaSet } from '../../api/types.js';
import { clone, deepEqual } from '../../api/meta.js';
import { labelSelectorAsSelector, type Selector } from '../../api/labels.js';
import { hasStatusCause, isAlreadyExists, isNotFound, resources, type RestClient } from '../../client/rest.js';
import type { Clock } from '../framework/clock.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { claimObjects, getControllerOf, newControllerRef, recheckDeletionTimestamp } from '../framework/controller-ref.js';
import type { EventRecorder } from '../framework/event-recorder.js';
import { informerResources, keyOf, splitKey, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { namespaceTerminatingCause } from '../framework/pod-control.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { computeHash } from './hash.js';
import * as u from './util.js';

/** How many times a Deployment is retried before it is dropped from the queue (maxRetries). */
const maxRetries = 15;

export interface DeploymentControllerOptions {
  workers: number;
}

/** The Deployment's ReplicaSets after syncing revisions: the new one (if any) and all old ones. */
interface ReplicaSetsOfDeployment {
  newRS: ReplicaSet | undefined;
  oldRSs: ReplicaSet[];
}

export class DeploymentController implements Controller {
  readonly name = 'deployment-controller';
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  private readonly queue: RateLimitingQueue<string>;
  private readonly dInformer: SharedInformer<Deployment>;
  private readonly rsInformer: SharedInformer<ReplicaSet>;
  private readonly podInformer: SharedInformer<Pod>;

  constructor(
    ctx: ControllerContext,
    private readonly opts: DeploymentControllerOptions,
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.recorder = ctx.events.newRecorder(this.name);
    this.queue = newQueue(ctx, 'deployment');
    this.dInformer = ctx.informers.informerFor<Deployment>(informerResources.deployments);
    this.rsInformer = ctx.informers.informerFor<ReplicaSet>(informerResources.replicaSets);
    this.podInformer = ctx.informers.informerFor<Pod>(informerResources.pods);

    this.dInformer.addEventHandler({
      add: (d) => this.enqueue(d),
      update: (_old, cur) => this.enqueue(cur),
      delete: (d) => this.enqueue(d),
    });
    this.rsInformer.addEventHandler({
      add: (rs) => this.addReplicaSet(rs),
      update: (old, cur) => this.updateReplicaSet(old, cur),
      delete: (rs) => this.deleteReplicaSet(rs),
    });
    this.podInformer.addEventHandler({ delete: (pod) => this.deletePod(pod) });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.dInformer, this.rsInformer, this.podInformer], signal))) return;
    this.logger.info('caches synced; starting workers');
    await runWorkers(this.queue, (key) => this.syncDeployment(key), { workers: this.opts.workers, logger: this.logger, maxRetries });
  }

  // ---- event handlers: they only find the Deployment and queue its key ----

  private enqueue(d: Deployment): void {
    this.queue.add(keyOf(d));
  }

  private resolveControllerRef(namespace: string, ref: { kind: string; name: string; uid: string } | undefined): Deployment | undefined {
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = this.dInformer.get(namespace, ref.name);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  /** Deployments whose non-empty selector matches an orphan ReplicaSet. */
  private deploymentsForReplicaSet(rs: ReplicaSet): Deployment[] {
    return this.dInformer.list(rs.metadata?.namespace ?? '').filter((d) => {
      try {
        const sel = labelSelectorAsSelector(d.spec?.selector);
        return !sel.isEmpty() && sel.matches(rs.metadata?.labels);
      } catch {
        return false;
      }
    });
  }

  private addReplicaSet(rs: ReplicaSet): void {
    if (rs.metadata?.deletionTimestamp) {
      this.deleteReplicaSet(rs);
      return;
    }
    const ref = getControllerOf(rs);
    if (ref) {
      const d = this.resolveControllerRef(rs.metadata!.namespace!, ref);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsForReplicaSet(rs)) this.enqueue(d);
  }

  private updateReplicaSet(old: ReplicaSet, cur: ReplicaSet): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef ?? null, oldRef ?? null);
    if (refChanged && oldRef) {
      const d = this.resolveControllerRef(old.metadata!.namespace!, oldRef);
      if (d) this.enqueue(d);
    }
    if (curRef) {
      const d = this.resolveControllerRef(cur.metadata!.namespace!, curRef);
      if (d) this.enqueue(d);
      return;
    }
    const labelChanged = !deepEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {});
    if (labelChanged || refChanged) for (const d of this.deploymentsForReplicaSet(cur)) this.enqueue(d);
  }

  private deleteReplicaSet(rs: ReplicaSet): void {
    const d = this.resolveControllerRef(rs.metadata?.namespace ?? '', getControllerOf(rs));
    if (d) this.enqueue(d);
  }

  /** A Recreate Deployment waits for its old pods to be gone: look again when the last one goes. */
  private deletePod(pod: Pod): void {
    const rsRef = getControllerOf(pod);
    if (!rsRef || rsRef.kind !== 'ReplicaSet') return;
    const ns = pod.metadata?.namespace ?? '';
    const rs = this.rsInformer.get(ns, rsRef.name);
    if (!rs || rs.metadata?.uid !== rsRef.uid) return;
    const d = this.resolveControllerRef(ns, getControllerOf(rs));
    if (!d || d.spec?.strategy?.type !== 'Recreate') return;
    const owned = new Set(this.rsInformer.list(ns).filter((r) => getControllerOf(r)?.uid === d.metadata?.uid).map((r) => r.metadata!.uid!));
    const remaining = this.podInformer.list(ns).some((p) => {
      const r = getControllerOf(p);
      return r !== undefined && owned.has(r.uid);
    });
    if (!remaining) this.enqueue(d);
  }

  // ---- sync ----

  async syncDeployment(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.dInformer.get(namespace, name);
    if (!cached) return;
    const d = clone(cached);
    d.apiVersion ??= 'apps/v1';
    d.kind ??= 'Deployment';
    if (deepEqual(d.spec?.selector ?? null, {})) {
      this.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status = { ...(d.status ?? {}), observedGeneration: d.metadata?.generation };
        await this.updateDeploymentStatus(d);
      }
      return;
    }
    const rsList = await this.getReplicaSetsForDeployment(d);
    const podMap = this.podMapForDeployment(d, rsList);

    if (d.metadata?.deletionTimestamp) {
      await this.syncStatusOnly(d, rsList);
      return;
    }
    await this.checkPausedConditions(d);
    if (d.spec?.paused) {
      await this.sync(d, rsList);
      return;
    }
    if (await this.isScalingEvent(d, rsList)) {
      await this.sync(d, rsList);
      return;
    }
    switch (d.spec?.strategy?.type) {
      case 'Recreate':
        await this.rolloutRecreate(d, rsList, podMap);
        return;
      case 'RollingUpdate':
        await this.rolloutRolling(d, rsList);
        return;
      default:
        throw new Error(`unexpected deployment strategy type: ${d.spec?.strategy?.type}`);
    }
  }

  /** Adopts and releases ReplicaSets by selector; the ones this Deployment controls. */
  private async getReplicaSetsForDeployment(d: Deployment): Promise<ReplicaSet[]> {
    const selector = labelSelectorAsSelector(d.spec?.selector);
    const ns = d.metadata!.namespace!;
    return claimObjects<ReplicaSet>(this.rsInformer.list(ns), {
      client: this.client,
      childResource: resources.replicaSets,
      controller: d,
      controllerAPIVersion: 'apps/v1',
      controllerKind: 'Deployment',
      match: (rs) => selector.matches(rs.metadata?.labels),
      canAdopt: recheckDeletionTimestamp(() => this.client.get(resources.deployments, ns, d.metadata!.name!), d),
    });
  }

  /** Pods by the uid of the ReplicaSet controlling them. */
  private podMapForDeployment(d: Deployment, rsList: ReplicaSet[]): Map<string, Pod[]> {
    const selector: Selector = labelSelectorAsSelector(d.spec?.selector);
    const map = new Map<string, Pod[]>(rsList.map((rs) => [rs.metadata!.uid!, []]));
    for (const pod of this.podInformer.list(d.metadata!.namespace!)) {
      if (!selector.matches(pod.metadata?.labels)) continue;
      const ref = getControllerOf(pod);
      if (ref && map.has(ref.uid)) map.get(ref.uid)!.push(pod);
    }
    return map;
  }

  private async syncStatusOnly(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.syncDeploymentStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS, d);
  }

  /** Scaling events and paused Deployments: proportional scaling, no rollout. */
  private async sync(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS, d);
  }

  /** Adds the Paused/Resumed Progressing condition (with Unknown status) when pausing or resuming. */
  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!u.hasProgressDeadline(d)) return;
    const cond = u.getDeploymentCondition(d.status, 'Progressing');
    if (cond?.reason === u.timedOutReason) return;
    const pausedCondExists = cond?.reason === u.pausedDeployReason;
    const now = this.clock.now();
    d.status ??= {};
    if (d.spec?.paused && !pausedCondExists) {
      u.setDeploymentCondition(d.status, u.newDeploymentCondition('Progressing', 'Unknown', u.pausedDeployReason, 'Deployment is paused', now));
    } else if (!d.spec?.paused && pausedCondExists) {
      u.setDeploymentCondition(d.status, u.newDeploymentCondition('Progressing', 'Unknown', u.resumedDeployReason, 'Deployment is resumed', now));
    } else {
      return;
    }
    await this.updateDeploymentStatus(d);
  }

  /** A change of spec.replicas that the ReplicaSets' desired-replicas annotations do not reflect yet. */
  private async isScalingEvent(d: Deployment, rsList: ReplicaSet[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    for (const rs of u.filterActiveReplicaSets([...oldRSs, newRS])) {
      const desired = u.desiredReplicasAnnotationOf(rs);
      if (desired === undefined) continue;
      if (desired !== u.replicasOf(d)) return true;
    }
    return false;
  }

  /**
   * getAllReplicaSetsAndSyncRevision: the new ReplicaSet gets revision max(old)+1 (and is created
   * when asked and missing); the Deployment's revision annotation follows it.
   */
  private async getAllReplicaSetsAndSyncRevision(d: Deployment, rsList: ReplicaSet[], createIfNotExisted: boolean): Promise<ReplicaSetsOfDeployment> {
    const { allOld } = u.findOldReplicaSets(d, rsList);
    const newRS = await this.getNewReplicaSet(d, rsList, allOld, createIfNotExisted);
    return { newRS, oldRSs: allOld };
  }

  private async getNewReplicaSet(d: Deployment, rsList: ReplicaSet[], oldRSs: ReplicaSet[], createIfNotExisted: boolean): Promise<ReplicaSet | undefined> {
    const existing = u.findNewReplicaSet(d, rsList);
    const newRevision = String(u.maxRevision(oldRSs) + 1);
    const now = this.clock.now();
    if (existing) {
      const rsCopy = clone(existing);
      const annotationsUpdated = u.setNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
      const minReadySecondsNeedsUpdate = (rsCopy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadySecondsNeedsUpdate) {
        rsCopy.spec!.minReadySeconds = d.spec?.minReadySeconds;
        return this.client.update<ReplicaSet>(resources.replicaSets, { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...rsCopy });
      }
      let needsUpdate = u.setDeploymentRevision(d, rsCopy.metadata?.annotations?.[u.revisionAnnotation] ?? '');
      const cond = u.getDeploymentCondition(d.status, 'Progressing');
      if (u.hasProgressDeadline(d) && !cond) {
        d.status ??= {};
        u.setDeploymentCondition(d.status, u.newDeploymentCondition('Progressing', 'True', u.foundNewRSReason, `Found new replica set "${rsCopy.metadata!.name}"`, now));
        needsUpdate = true;
      }
      if (needsUpdate) await this.updateDeploymentStatus(d);
      return rsCopy;
    }
    if (!createIfNotExisted) return undefined;

    // The new ReplicaSet: the template plus its hash as a label and in the selector.
    const template = clone(d.spec!.template);
    const hash = computeHash(template, d.status?.collisionCount);
    template.metadata ??= {};
    template.metadata.labels = { ...(d.spec!.template.metadata?.labels ?? {}), [u.defaultDeploymentUniqueLabelKey]: hash };
    const selector: LabelSelector = clone(d.spec!.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [u.defaultDeploymentUniqueLabelKey]: hash };
    const newRS: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata!.name}-${hash}`,
        namespace: d.metadata!.namespace,
        ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
        labels: template.metadata.labels,
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds, selector, template },
    };
    const newReplicasCount = u.newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec!.replicas = newReplicasCount;
    u.setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await this.client.create<ReplicaSet>(resources.replicaSets, d.metadata!.namespace, newRS);
    } catch (e) {
      if (isAlreadyExists(e)) {
        alreadyExists = true;
        // A slow cache, or a hash collision: ours only if we control it and the template matches.
        const rs = this.rsInformer.get(d.metadata!.namespace!, newRS.metadata!.name!) ?? (await this.client.get<ReplicaSet>(resources.replicaSets, d.metadata!.namespace, newRS.metadata!.name!));
        const ref = getControllerOf(rs);
        if (ref && ref.uid === d.metadata!.uid && u.equalIgnoreHash(d.spec!.template, rs.spec?.template)) {
          created = rs;
        } else {
          const before = d.status?.collisionCount ?? 0;
          d.status = { ...(d.status ?? {}), collisionCount: before + 1 };
          try {
            await this.updateDeploymentStatus(d);
            this.logger.info({ deployment: keyOf(d), from: before, to: before + 1 }, 'found a hash collision for deployment - bumping collisionCount to resolve it');
          } catch {
            // The original error is what matters; the key is retried.
          }
          throw e;
        }
      } else if (hasStatusCause(e, namespaceTerminatingCause)) {
        throw e;
      } else {
        const msg = `Failed to create new replica set "${newRS.metadata!.name}": ${e instanceof Error ? e.message : String(e)}`;
        if (u.hasProgressDeadline(d)) {
          d.status ??= {};
          u.setDeploymentCondition(d.status, u.newDeploymentCondition('Progressing', 'False', u.failedRSCreateReason, msg, now));
          await this.updateDeploymentStatus(d).catch(() => undefined);
        }
        this.recorder.event(d, 'Warning', u.failedRSCreateReason, msg);
        throw e;
      }
    }
    if (!alreadyExists && newReplicasCount > 0) {
      this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata!.name} from 0 to ${newReplicasCount}`);
    }
    let needsUpdate = u.setDeploymentRevision(d, newRevision);
    if (!alreadyExists && u.hasProgressDeadline(d)) {
      d.status ??= {};
      u.setDeploymentCondition(d.status, u.newDeploymentCondition('Progressing', 'True', u.newReplicaSetReason, `Created new replica set "${created.metadata!.name}"`, now));
      needsUpdate = true;
    }
    if (needsUpdate) await this.updateDeploymentStatus(d);
    return created;
  }

  /** Writes the Deployment's status (and, as upstream's status strategy allows, its annotations). */
  private async updateDeploymentStatus(d: Deployment): Promise<void> {
    let updated = await this.client.updateStatus<Deployment>(resources.deployments, d);
    const revision = d.metadata?.annotations?.[u.revisionAnnotation];
    if (revision !== undefined && updated.metadata?.annotations?.[u.revisionAnnotation] !== revision) {
      // An apiserver whose status endpoint keeps all metadata (upstream's Deployment status
      // strategy lets annotations through) dropped the revision: set it on the object itself.
      // kubectl rollout undo patches /metadata/annotations and needs it there.
      updated = await this.client.patch<Deployment>(resources.deployments, d.metadata!.namespace, d.metadata!.name!, 'merge', {
        metadata: { annotations: { [u.revisionAnnotation]: revision }, resourceVersion: updated.metadata?.resourceVersion },
      });
    }
    // Later writes in this sync start from what the apiserver now holds, not a stale version.
    d.metadata!.resourceVersion = updated.metadata?.resourceVersion;
  }

  /** Proportional scaling across active ReplicaSets (scale). */
  private async scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const replicas = u.replicasOf(d);
    const activeOrLatest = u.findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (u.replicasOf(activeOrLatest) === replicas) return;
      await this.scaleReplicaSetAndRecordEvent(activeOrLatest, replicas, d);
      return;
    }
    if (u.isSaturated(d, newRS)) {
      for (const old of u.filterActiveReplicaSets(oldRSs)) await this.scaleReplicaSetAndRecordEvent(old, 0, d);
      return;
    }
    if (!u.isRollingUpdate(d)) return;
    const allRSs = u.filterActiveReplicaSets([...oldRSs, newRS]);
    const allRSsReplicas = u.replicaCount(allRSs);
    const allowedSize = replicas > 0 ? replicas + u.maxSurge(d) : 0;
    const toAdd = allowedSize - allRSsReplicas;
    let operation = '';
    if (toAdd > 0) {
      allRSs.sort(u.bySizeNewer);
      operation = 'up';
    } else if (toAdd < 0) {
      allRSs.sort(u.bySizeOlder);
      operation = 'down';
    }
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of allRSs) {
      if (toAdd !== 0) {
        const proportion = u.getProportion(rs, d, toAdd, added);
        sizes.set(rs.metadata!.name!, u.replicasOf(rs) + proportion);
        added += proportion;
      } else {
        sizes.set(rs.metadata!.name!, u.replicasOf(rs));
      }
    }
    for (let i = 0; i < allRSs.length; i++) {
      const rs = allRSs[i]!;
      const n = rs.metadata!.name!;
      // Leftovers go to the largest ReplicaSet.
      if (i === 0 && toAdd !== 0) sizes.set(n, Math.max(0, sizes.get(n)! + toAdd - added));
      await this.scaleReplicaSet(rs, sizes.get(n)!, d, operation);
    }
  }

  private async scaleReplicaSetAndRecordEvent(rs: ReplicaSet, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (u.replicasOf(rs) === newScale) return { scaled: false, rs };
    const operation = u.replicasOf(rs) < newScale ? 'up' : 'down';
    return this.scaleReplicaSet(rs, newScale, d, operation);
  }

  private async scaleReplicaSet(rs: ReplicaSet, newScale: number, d: Deployment, operation: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const oldScale = u.replicasOf(rs);
    const sizeNeedsUpdate = oldScale !== newScale;
    const annotationsNeedUpdate = u.replicasAnnotationsNeedUpdate(rs, u.replicasOf(d), u.replicasOf(d) + u.maxSurge(d));
    if (!sizeNeedsUpdate && !annotationsNeedUpdate) return { scaled: false, rs };
    const rsCopy = clone(rs);
    rsCopy.spec!.replicas = newScale;
    u.setReplicasAnnotations(rsCopy, u.replicasOf(d), u.replicasOf(d) + u.maxSurge(d));
    const updated = await this.client.update<ReplicaSet>(resources.replicaSets, { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...rsCopy });
    if (sizeNeedsUpdate) {
      this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${operation} replica set ${rs.metadata!.name} from ${oldScale} to ${newScale}`);
    }
    return { scaled: sizeNeedsUpdate, rs: updated };
  }

  /** Deletes empty old ReplicaSets beyond revisionHistoryLimit, oldest revisions first. */
  private async cleanupDeployment(oldRSs: ReplicaSet[], d: Deployment): Promise<void> {
    if (!u.hasRevisionHistoryLimit(d)) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = cleanable.length - d.spec!.revisionHistoryLimit!;
    if (diff <= 0) return;
    cleanable.sort(u.byRevision);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || u.replicasOf(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata?.deletionTimestamp) continue;
      this.logger.debug({ replicaSet: keyOf(rs) }, 'trying to clean up replica set for deployment');
      try {
        await this.client.delete(resources.replicaSets, rs.metadata!.namespace, rs.metadata!.name!);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  private calculateStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment): u.DeploymentStatus {
    const available = u.availableReplicaCount(allRSs);
    const total = u.replicaCount(allRSs);
    const unavailable = Math.max(0, total - available);
    const status: u.DeploymentStatus = {
      observedGeneration: d.metadata?.generation,
      replicas: u.actualReplicaCount(allRSs),
      updatedReplicas: u.actualReplicaCount([newRS]),
      readyReplicas: u.readyReplicaCount(allRSs),
      availableReplicas: available,
      unavailableReplicas: unavailable,
      collisionCount: d.status?.collisionCount,
      conditions: d.status?.conditions ? clone(d.status.conditions) : undefined,
    };
    const now = this.clock.now();
    if (available >= u.replicasOf(d) - u.maxUnavailable(d)) {
      u.setDeploymentCondition(status, u.newDeploymentCondition('Available', 'True', u.minimumReplicasAvailable, 'Deployment has minimum availability.', now));
    } else {
      u.setDeploymentCondition(status, u.newDeploymentCondition('Available', 'False', u.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
    }
    return status;
  }

  private async syncDeploymentStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
    const status = this.calculateStatus(allRSs, newRS, d);
    if (statusEqual(d.status, status)) return;
    d.status = status;
    await this.updateDeploymentStatus(d);
  }

  // ---- rollouts ----

  private async rolloutRolling(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true);
    const nrs = newRS!;
    const allRSs = [...oldRSs, nrs];
    if (await this.reconcileNewReplicaSet(allRSs, nrs, d)) {
      await this.syncRolloutStatus(allRSs, nrs, d);
      return;
    }
    if (await this.reconcileOldReplicaSets(allRSs, u.filterActiveReplicaSets(oldRSs), nrs, d)) {
      await this.syncRolloutStatus(allRSs, nrs, d);
      return;
    }
    if (u.deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    await this.syncRolloutStatus(allRSs, nrs, d);
  }

  private async reconcileNewReplicaSet(allRSs: ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<boolean> {
    const replicas = u.replicasOf(d);
    if (u.replicasOf(newRS) === replicas) return false;
    if (u.replicasOf(newRS) > replicas) return (await this.scaleReplicaSetAndRecordEvent(newRS, replicas, d)).scaled;
    const count = u.newRSNewReplicas(d, allRSs, newRS);
    return (await this.scaleReplicaSetAndRecordEvent(newRS, count, d)).scaled;
  }

  private async reconcileOldReplicaSets(allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<boolean> {
    const oldPodsCount = u.replicaCount(oldRSs);
    if (oldPodsCount === 0) return false;
    const allPodsCount = u.replicaCount(allRSs);
    const minAvailable = u.replicasOf(d) - u.maxUnavailable(d);
    const newRSUnavailable = u.replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
    // Scale down no more than keeps minAvailable, counting the new RS's unavailable pods.
    const maxScaledDown = allPodsCount - minAvailable - newRSUnavailable;
    if (maxScaledDown <= 0) return false;
    let cleaned: { oldRSs: ReplicaSet[]; count: number };
    try {
      cleaned = await this.cleanupUnhealthyReplicas(oldRSs, d, maxScaledDown);
    } catch {
      return false;
    }
    let scaledDown: number;
    try {
      scaledDown = await this.scaleDownOldReplicaSetsForRollingUpdate([...cleaned.oldRSs, newRS], cleaned.oldRSs, d);
    } catch {
      return false;
    }
    return cleaned.count + scaledDown > 0;
  }

  /** Scales old ReplicaSets down by their unavailable pods first: that cannot lower availability. */
  private async cleanupUnhealthyReplicas(oldRSs: ReplicaSet[], d: Deployment, maxCleanup: number): Promise<{ oldRSs: ReplicaSet[]; count: number }> {
    const sorted = [...oldRSs].sort(u.byCreationTimestamp);
    let total = 0;
    for (let i = 0; i < sorted.length; i++) {
      if (total >= maxCleanup) break;
      const rs = sorted[i]!;
      const replicas = u.replicasOf(rs);
      const available = rs.status?.availableReplicas ?? 0;
      if (replicas === 0 || replicas === available) continue;
      const scaledDown = Math.min(maxCleanup - total, replicas - available);
      const { rs: updated } = await this.scaleReplicaSetAndRecordEvent(rs, replicas - scaledDown, d);
      total += scaledDown;
      sorted[i] = updated;
    }
    return { oldRSs: sorted, count: total };
  }

  private async scaleDownOldReplicaSetsForRollingUpdate(allRSs: ReplicaSet[], oldRSs: ReplicaSet[], d: Deployment): Promise<number> {
    const minAvailable = u.replicasOf(d) - u.maxUnavailable(d);
    const available = u.availableReplicaCount(allRSs);
    if (available <= minAvailable) return 0;
    const sorted = [...oldRSs].sort(u.byCreationTimestamp);
    const totalToScaleDown = available - minAvailable;
    let total = 0;
    for (const rs of sorted) {
      if (total >= totalToScaleDown) break;
      const replicas = u.replicasOf(rs);
      if (replicas === 0) continue;
      const n = Math.min(replicas, totalToScaleDown - total);
      await this.scaleReplicaSetAndRecordEvent(rs, replicas - n, d);
      total += n;
    }
    return total;
  }

  private async rolloutRecreate(d: Deployment, rsList: ReplicaSet[], podMap: Map<string, Pod[]>): Promise<void> {
    // Do not create the new ReplicaSet yet: old pods go first.
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    let allRSs = [...oldRSs, ...(newRS ? [newRS] : [])];
    const activeOld = u.filterActiveReplicaSets(oldRSs);
    let scaledDown = false;
    for (const rs of activeOld) {
      if (u.replicasOf(rs) === 0) continue;
      if ((await this.scaleReplicaSetAndRecordEvent(rs, 0, d)).scaled) scaledDown = true;
    }
    if (scaledDown) {
      await this.syncRolloutStatus(allRSs, newRS, d);
      return;
    }
    if (oldPodsRunning(newRS, oldRSs, podMap)) {
      await this.syncRolloutStatus(allRSs, newRS, d);
      return;
    }
    if (!newRS) {
      ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true));
      allRSs = [...oldRSs, newRS!];
    }
    await this.scaleReplicaSetAndRecordEvent(newRS!, u.replicasOf(d), d);
    if (u.deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    await this.syncRolloutStatus(allRSs, newRS, d);
  }

  // ---- progress ----

  /** Status plus the Progressing condition, and a requeue to notice a missed deadline (syncRolloutStatus). */
  private async syncRolloutStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
    const status = this.calculateStatus(allRSs, newRS, d);
    const now = this.clock.now();
    if (!u.hasProgressDeadline(d)) u.removeDeploymentCondition(status, 'Progressing');
    const currentCond = u.getDeploymentCondition(d.status, 'Progressing');
    const isCompleteDeployment = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && currentCond?.reason === u.newRSAvailableReason;
    if (u.hasProgressDeadline(d) && !isCompleteDeployment) {
      if (u.deploymentComplete(d, status)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata!.name}" has successfully progressed.` : `Deployment "${d.metadata!.name}" has successfully progressed.`;
        u.setDeploymentCondition(status, u.newDeploymentCondition('Progressing', 'True', u.newRSAvailableReason, msg, now));
      } else if (u.deploymentProgressing(d, status)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata!.name}" is progressing.` : `Deployment "${d.metadata!.name}" is progressing.`;
        const condition = u.newDeploymentCondition('Progressing', 'True', u.replicaSetUpdatedReason, msg, now);
        // Progress updates lastUpdateTime even with an unchanged reason.
        if (currentCond) {
          if (currentCond.status === 'True') condition.lastTransitionTime = currentCond.lastTransitionTime;
          u.removeDeploymentCondition(status, 'Progressing');
        }
        u.setDeploymentCondition(status, condition);
      } else if (u.deploymentTimedOut(d, status, now)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata!.name}" has timed out progressing.` : `Deployment "${d.metadata!.name}" has timed out progressing.`;
        u.setDeploymentCondition(status, u.newDeploymentCondition('Progressing', 'False', u.timedOutReason, msg, now));
      }
    }
    const failures = replicaFailures(allRSs, newRS);
    if (failures.length) u.setDeploymentCondition(status, failures[0]!);
    else u.removeDeploymentCondition(status, 'ReplicaFailure');

    if (statusEqual(d.status, status)) {
      this.requeueStuckDeployment(d, status);
      return;
    }
    d.status = status;
    await this.updateDeploymentStatus(d);
  }

  /** Looks at a stuck rollout again when its progress deadline passes. */
  private requeueStuckDeployment(d: Deployment, status: u.DeploymentStatus): void {
    const cond = u.getDeploymentCondition(d.status, 'Progressing');
    if (!u.hasProgressDeadline(d) || !cond) return;
    if (u.deploymentComplete(d, status) || cond.reason === u.timedOutReason) return;
    const lastUpdate = Date.parse(cond.lastUpdateTime ?? '');
    if (!Number.isFinite(lastUpdate)) return;
    const after = lastUpdate + d.spec!.progressDeadlineSeconds! * 1000 - this.clock.now();
    if (after < 1000) {
      this.queue.addRateLimited(keyOf(d));
      return;
    }
    this.queue.addAfter(keyOf(d), after + 1000);
  }
}

/** ReplicaFailure conditions of the new ReplicaSet, else of the old ones, as Deployment conditions. */
function replicaFailures(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): u.DeploymentCondition[] {
  const toDeployment = (c: NonNullable<NonNullable<ReplicaSet['status']>['conditions']>[number]): u.DeploymentCondition => ({
    type: c.type,
    status: c.status,
    lastTransitionTime: c.lastTransitionTime,
    lastUpdateTime: c.lastTransitionTime,
    reason: c.reason,
    message: c.message,
  });
  const fromNew = (newRS?.status?.conditions ?? []).filter((c) => c.type === 'ReplicaFailure').map(toDeployment);
  if (fromNew.length) return fromNew;
  return allRSs.flatMap((rs) => (rs?.status?.conditions ?? []).filter((c) => c.type === 'ReplicaFailure').map(toDeployment));
}

/** Whether old pods may still run (Recreate waits for none). */
function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], podMap: Map<string, Pod[]>): boolean {
  if (u.actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata?.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
  }
  return false;
}

/** Status equality as upstream's DeepEqual, treating omitted and zero numbers alike (JSON omitempty). */
function statusEqual(a: u.DeploymentStatus | undefined, b: u.DeploymentStatus | undefined): boolean {
  const norm = (s: u.DeploymentStatus | undefined) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s ?? {})) {
      if (v === undefined || v === null || v === 0 || (Array.isArray(v) && v.length === 0)) continue;
      o[k] = v;
    }
    return o;
  };
  return deepEqual(norm(a), norm(b));
}

export function newDeploymentController(ctx: ControllerContext, opts: DeploymentControllerOptions): DeploymentController {
  return new DeploymentController(ctx, opts);
}
