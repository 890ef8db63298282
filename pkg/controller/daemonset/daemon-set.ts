/**
 * The DaemonSet controller (pkg/controller/daemon): one pod on every node that should run it.
 * - Eligibility by nodeSelector, required node affinity and taints against the pod's
 *   tolerations plus DaemonSet's defaults (daemon-utils.ts); pods are created with a required
 *   node affinity on `metadata.name` and the scheduler binds them.
 * - Nodes that stop qualifying lose their pod (an untolerated NoSchedule taint only stops new
 *   ones); failed pods are replaced; duplicates are removed, oldest kept.
 * - The template is kept in ControllerRevisions; pods carry `controller-revision-hash`.
 *   RollingUpdate replaces old pods within maxUnavailable, or with maxSurge starts the new pod
 *   beside the old one and removes the old one once the new one is available. OnDelete only
 *   replaces pods the user deleted.
 * - Status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled, numberReady,
 *   numberAvailable, numberUnavailable, updatedNumberScheduled, observedGeneration,
 *   collisionCount.
 */
import type { Logger } from 'pino';
import type { ControllerRevision, DaemonSet, LabelSelector, Node, OwnerReference, Pod } from '../../api/types.js';
import { clone, deepEqual } from '../../api/meta.js';
import { labelSelectorAsSelector, type Selector } from '../../api/labels.js';
import { hasStatusCause, isConflict, isNotFound, type RestClient } from '../../client/rest.js';
import type { Clock } from '../framework/clock.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { claimObjects, getControllerOf, newControllerRef, recheckDeletionTimestamp } from '../framework/controller-ref.js';
import type { EventRecorder } from '../framework/event-recorder.js';
import { UIDTrackingControllerExpectations } from '../framework/expectations.js';
import { keyOf, splitKey, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { PodControl, namespaceTerminatingCause } from '../framework/pod-control.js';
import { isPodAvailable, isPodReady, podKey } from '../framework/pod-util.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { controllerRevisionHashLabel, findEqualRevisions, newControllerRevision, nextRevision, revisionHash, RevisionControl, sortControllerRevisions } from '../history/history.js';
import { workloadResources } from '../history/resources.js';
import { scaledValueFromIntOrPercent } from '../deployment/util.js';
import { nodeShouldRunDaemonPod, podTemplateGenerationLabel, targetNodeName, templateForNode, templateGenerationAnnotation } from './daemon-utils.js';

export type DaemonSetStatus = NonNullable<DaemonSet['status']>;

export interface DaemonSetControllerOptions {
  workers: number;
}

const apiVersion = 'apps/v1';
const kind = 'DaemonSet';
/** The most pods created or deleted in one sync (BurstReplicas). */
const burstReplicas = 250;

function byCreation(a: Pod, b: Pod): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
}

export class DaemonSetController implements Controller {
  readonly name = 'daemonset-controller';
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  private readonly podControl: PodControl;
  private readonly queue: RateLimitingQueue<string>;
  private readonly expectations: UIDTrackingControllerExpectations;
  private readonly history: RevisionControl;
  private readonly dsInformer: SharedInformer<DaemonSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly nodeInformer: SharedInformer<Node>;
  private readonly revInformer: SharedInformer<ControllerRevision>;

  constructor(
    ctx: ControllerContext,
    private readonly opts: DaemonSetControllerOptions,
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.recorder = ctx.events.newRecorder(this.name);
    this.podControl = new PodControl(ctx.client, this.recorder);
    this.queue = newQueue(ctx, 'daemonset');
    this.expectations = new UIDTrackingControllerExpectations(ctx.clock);
    this.history = new RevisionControl(ctx.client);
    this.dsInformer = ctx.informers.informerFor<DaemonSet>(workloadResources.daemonSets);
    this.podInformer = ctx.informers.informerFor<Pod>(workloadResources.pods);
    this.nodeInformer = ctx.informers.informerFor<Node>(workloadResources.nodes);
    this.revInformer = ctx.informers.informerFor<ControllerRevision>(workloadResources.controllerRevisions);

    this.dsInformer.addEventHandler({
      add: (ds) => this.queue.add(keyOf(ds)),
      update: (_o, ds) => this.queue.add(keyOf(ds)),
      delete: (ds) => {
        this.expectations.deleteExpectations(keyOf(ds));
        this.queue.add(keyOf(ds));
      },
    });
    this.podInformer.addEventHandler({
      add: (p) => {
        const key = this.dsKeyOf(p);
        if (!key) return;
        if (p.metadata?.deletionTimestamp) this.expectations.deletionObservedOf(key, podKey(p));
        else this.expectations.creationObserved(key);
        this.queue.add(key);
      },
      update: (o, p) => {
        if (o.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
        const key = this.dsKeyOf(p);
        if (!key) return;
        if (p.metadata?.deletionTimestamp && !o.metadata?.deletionTimestamp) this.expectations.deletionObservedOf(key, podKey(p));
        this.queue.add(key);
        const ds = this.dsInformer.getByKey(key);
        const minReady = ds?.spec?.minReadySeconds ?? 0;
        if (minReady > 0 && !isPodReady(o) && isPodReady(p)) this.queue.addAfter(key, minReady * 1000 + 100);
      },
      delete: (p) => {
        const key = this.dsKeyOf(p);
        if (!key) return;
        this.expectations.deletionObservedOf(key, podKey(p));
        this.queue.add(key);
      },
    });
    // Any node change may change where the pods belong.
    const allSets = () => {
      for (const ds of this.dsInformer.list()) this.queue.add(keyOf(ds));
    };
    this.nodeInformer.addEventHandler({
      add: allSets,
      update: (o, n) => {
        if (deepEqual(o.metadata?.labels ?? {}, n.metadata?.labels ?? {}) && deepEqual(o.spec ?? {}, n.spec ?? {})) return;
        allSets();
      },
      delete: allSets,
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.dsInformer, this.podInformer, this.nodeInformer, this.revInformer], signal))) return;
    this.logger.info('caches synced; starting workers');
    await runWorkers(this.queue, (key) => this.syncDaemonSet(key), { workers: this.opts.workers, logger: this.logger });
  }

  private dsKeyOf(pod: Pod): string | undefined {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== kind) return undefined;
    const ds = this.dsInformer.get(pod.metadata!.namespace!, ref.name);
    return ds && ds.metadata?.uid === ref.uid ? keyOf(ds) : undefined;
  }

  async syncDaemonSet(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ds = this.dsInformer.get(namespace, name);
    if (!ds) {
      this.expectations.deleteExpectations(key);
      return;
    }
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(ds.spec?.selector as LabelSelector | undefined);
    } catch {
      return;
    }
    if (selector.isEmpty()) {
      this.recorder.event(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    const nodes = this.nodeInformer.list();
    const pods = await claimObjects<Pod>(this.podInformer.list(namespace), {
      client: this.client,
      childResource: workloadResources.pods,
      controller: ds,
      controllerAPIVersion: apiVersion,
      controllerKind: kind,
      match: (p) => selector.matches(p.metadata?.labels),
      canAdopt: recheckDeletionTimestamp(() => this.client.get(workloadResources.daemonSets, namespace, name), ds),
    });
    if (ds.metadata?.deletionTimestamp) return;
    const ref = newControllerRef(ds, apiVersion, kind);
    const revisions = sortControllerRevisions(this.revInformer.list(namespace).filter((r) => getControllerOf(r)?.uid === ds.metadata?.uid));
    const { current, collisionCount } = await this.constructHistory(ds, ref, revisions);
    const hash = revisionHash(current);

    const byNode = new Map<string, Pod[]>();
    for (const p of pods) {
      if (p.metadata?.deletionTimestamp) continue;
      const n = targetNodeName(p) ?? '';
      let list = byNode.get(n);
      if (!list) byNode.set(n, (list = []));
      list.push(p);
    }
    for (const list of byNode.values()) list.sort(byCreation);

    let err: unknown;
    if (this.expectations.satisfiedExpectations(key)) {
      try {
        const changed = await this.manage(ds, key, nodes, byNode, hash);
        if (!changed && ds.spec?.updateStrategy?.type !== 'OnDelete') await this.rollingUpdate(ds, key, nodes, byNode, hash);
        await this.cleanupHistory(ds, pods, revisions, current);
      } catch (e) {
        err = e;
      }
    }
    await this.updateStatus(ds, computeStatus(ds, nodes, byNode, hash, collisionCount, this.clock.now()));
    if (err) throw err;
  }

  /** constructHistory: the revision of the current template, created or renumbered as the newest. */
  private async constructHistory(ds: DaemonSet, ref: OwnerReference, revisions: ControllerRevision[]): Promise<{ current: ControllerRevision; collisionCount: number }> {
    const collision = { value: ds.status?.collisionCount ?? 0 };
    const data = { spec: { template: { ...clone(ds.spec?.template ?? {}), $patch: 'replace' } } };
    const candidate = newControllerRevision(ds, ref, ds.spec?.template?.metadata?.labels, data, nextRevision(revisions), collision.value);
    const equal = findEqualRevisions(revisions, candidate);
    let current: ControllerRevision;
    if (equal.length > 0) {
      const newest = equal[equal.length - 1]!;
      current = newest.metadata?.name === revisions[revisions.length - 1]?.metadata?.name ? newest : await this.history.updateRevision(newest, candidate.revision!);
    } else {
      current = await this.history.create(ds, candidate, collision);
    }
    return { current, collisionCount: collision.value };
  }

  /** manage: creates missing pods and deletes misplaced, failed and duplicate ones; true when it acted. */
  private async manage(ds: DaemonSet, key: string, nodes: Node[], byNode: Map<string, Pod[]>, hash: string): Promise<boolean> {
    const toCreate: string[] = [];
    const toDelete: Pod[] = [];
    const surge = ds.spec?.updateStrategy?.type === 'RollingUpdate' && maxSurgeOf(ds, nodes.length) > 0;
    const known = new Set<string>();
    for (const node of nodes) {
      const nodeName = node.metadata!.name!;
      known.add(nodeName);
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      const onNode = byNode.get(nodeName) ?? [];
      if (shouldRun && onNode.length === 0) {
        toCreate.push(nodeName);
      } else if (shouldContinueRunning) {
        const failed = onNode.filter((p) => p.status?.phase === 'Failed');
        if (failed.length) {
          this.recorder.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${ds.metadata!.namespace}/${failed[0]!.metadata!.name} on node ${nodeName}, will try to kill it`);
          toDelete.push(...failed);
        }
        const alive = onNode.filter((p) => p.status?.phase !== 'Failed');
        if (surge) {
          // One old and one new pod may share a node during a surge: keep the oldest of each.
          const oldPods = alive.filter((p) => p.metadata?.labels?.[controllerRevisionHashLabel] !== hash);
          const newPods = alive.filter((p) => p.metadata?.labels?.[controllerRevisionHashLabel] === hash);
          toDelete.push(...oldPods.slice(1), ...newPods.slice(1));
        } else {
          toDelete.push(...alive.slice(1));
        }
      } else {
        toDelete.push(...onNode);
      }
    }
    // Pods for nodes that do not exist.
    for (const [n, list] of byNode) if (!known.has(n)) toDelete.push(...list);
    await this.syncNodes(ds, key, toCreate, toDelete, hash);
    return toCreate.length > 0 || toDelete.length > 0;
  }

  /** syncNodes: creates a pod on each node in `nodeNames` and deletes `pods`, recording expectations. */
  private async syncNodes(ds: DaemonSet, key: string, nodeNames: string[], pods: Pod[], hash: string): Promise<void> {
    const create = nodeNames.slice(0, burstReplicas);
    const del = pods.slice(0, burstReplicas);
    if (!create.length && !del.length) return;
    // Deletions by name first (this resets the counts), then the creations on top.
    this.expectations.expectDeletionsOf(key, del.map(podKey));
    this.expectations.raiseExpectations(key, create.length, 0);
    const ref = newControllerRef(ds, apiVersion, kind);
    const generation = ds.metadata?.annotations?.[templateGenerationAnnotation];
    const errs: unknown[] = [];
    await Promise.all(
      create.map(async (nodeName) => {
        const template = templateForNode(ds.spec!.template, nodeName);
        template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [controllerRevisionHashLabel]: hash } };
        if (generation) template.metadata.labels![podTemplateGenerationLabel] = generation;
        try {
          await this.podControl.createPod(ds.metadata!.namespace!, template, ds, ref);
        } catch (e) {
          this.expectations.creationObserved(key);
          if (!hasStatusCause(e, namespaceTerminatingCause)) errs.push(e);
        }
      }),
    );
    await Promise.all(
      del.map(async (p) => {
        try {
          await this.podControl.deletePod(p.metadata!.namespace!, p.metadata!.name!, ds);
        } catch (e) {
          this.expectations.deletionObservedOf(key, podKey(p));
          if (!isNotFound(e)) errs.push(e);
        }
      }),
    );
    if (errs.length) throw errs[0];
  }

  /** rollingUpdate: replaces old pods within maxUnavailable, or beside them within maxSurge. */
  private async rollingUpdate(ds: DaemonSet, key: string, nodes: Node[], byNode: Map<string, Pod[]>, hash: string): Promise<void> {
    const now = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const eligible = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun);
    const desired = eligible.length;
    const maxSurge = maxSurgeOf(ds, desired);
    const maxUnavailable = maxUnavailableOf(ds, desired, maxSurge);
    const isNew = (p: Pod) => p.metadata?.labels?.[controllerRevisionHashLabel] === hash;
    const available = (p: Pod) => isPodAvailable(p, minReady, now);
    const toDelete: Pod[] = [];
    const toCreate: string[] = [];

    if (maxSurge === 0) {
      let unavailable = 0;
      const candidates: Pod[] = [];
      for (const node of eligible) {
        const pods = byNode.get(node.metadata!.name!) ?? [];
        const newPod = pods.find(isNew);
        const oldPod = pods.find((p) => !isNew(p));
        if (!newPod && !oldPod) {
          unavailable++;
          continue;
        }
        if (oldPod && !newPod) {
          // An old pod that is not available anyway can go at once.
          if (!available(oldPod)) toDelete.push(oldPod);
          else candidates.push(oldPod);
          continue;
        }
        if (newPod && !available(newPod)) unavailable++;
      }
      unavailable += toDelete.length;
      const room = Math.max(0, maxUnavailable - unavailable);
      toDelete.push(...candidates.slice(0, room));
    } else {
      let surging = 0;
      const candidates: string[] = [];
      for (const node of eligible) {
        const nodeName = node.metadata!.name!;
        const pods = byNode.get(nodeName) ?? [];
        const newPod = pods.find(isNew);
        const oldPod = pods.find((p) => !isNew(p));
        if (oldPod && !newPod) {
          if (!available(oldPod)) toCreate.push(nodeName);
          else candidates.push(nodeName);
        } else if (oldPod && newPod) {
          if (available(newPod)) toDelete.push(oldPod);
          else surging++;
        }
      }
      const room = Math.max(0, maxSurge - surging);
      toCreate.push(...candidates.slice(0, room));
    }
    await this.syncNodes(ds, key, toCreate, toDelete, hash);
  }

  /** cleanupHistory: old revisions no pod uses, beyond revisionHistoryLimit, oldest first. */
  private async cleanupHistory(ds: DaemonSet, pods: Pod[], revisions: ControllerRevision[], current: ControllerRevision): Promise<void> {
    const limit = ds.spec?.revisionHistoryLimit ?? 10;
    const live = new Set(pods.map((p) => p.metadata?.labels?.[controllerRevisionHashLabel]));
    const old = revisions.filter((r) => r.metadata?.name !== current.metadata?.name && !live.has(revisionHash(r)));
    for (const r of old.slice(0, Math.max(0, old.length - limit))) await this.history.delete(r);
  }

  private async updateStatus(ds: DaemonSet, status: DaemonSetStatus): Promise<void> {
    if (deepEqual(ds.status ?? {}, status)) return;
    let target = ds;
    for (let i = 0; ; i++) {
      try {
        await this.client.updateStatus<DaemonSet>(workloadResources.daemonSets, { ...target, status });
        return;
      } catch (e) {
        if (i >= 1 || !isConflict(e)) throw e;
        target = await this.client.get<DaemonSet>(workloadResources.daemonSets, ds.metadata!.namespace, ds.metadata!.name!);
      }
    }
  }
}

export function maxSurgeOf(ds: DaemonSet, desired: number): number {
  if (ds.spec?.updateStrategy?.type !== 'RollingUpdate') return 0;
  return scaledValueFromIntOrPercent(ds.spec.updateStrategy.rollingUpdate?.maxSurge ?? 0, desired, true);
}

/** maxUnavailable, rounded up; 1 when both it and maxSurge come out 0 (as upstream's validation requires). */
export function maxUnavailableOf(ds: DaemonSet, desired: number, maxSurge: number): number {
  const v = scaledValueFromIntOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, desired, true);
  return v === 0 && maxSurge === 0 ? 1 : v;
}

/** updateDaemonSetStatus: counts over the nodes, judged by each node's oldest pod. */
export function computeStatus(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string, collisionCount: number, now: number): DaemonSetStatus {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  for (const node of nodes) {
    const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
    const pods = byNode.get(node.metadata!.name!) ?? [];
    if (shouldRun) {
      desired++;
      if (pods.length === 0) continue;
      current++;
      // During a surge the new pod counts once it is ready.
      const newPod = pods.find((p) => p.metadata?.labels?.[controllerRevisionHashLabel] === hash);
      const pod = newPod && isPodReady(newPod) ? newPod : pods[0]!;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
      if (newPod) updated++;
    } else if (pods.length > 0) {
      misscheduled++;
    }
  }
  const status: DaemonSetStatus = {
    ...(ds.status ?? ({} as DaemonSetStatus)),
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    numberReady: ready,
    observedGeneration: ds.metadata?.generation ?? 0,
  };
  const setOrOmit = (k: 'numberAvailable' | 'numberUnavailable' | 'updatedNumberScheduled' | 'collisionCount', v: number) => {
    if (v) status[k] = v;
    else delete status[k];
  };
  setOrOmit('numberAvailable', available);
  setOrOmit('numberUnavailable', desired - available);
  setOrOmit('updatedNumberScheduled', updated);
  setOrOmit('collisionCount', collisionCount);
  return status;
}

/** The DaemonSet controller, as kube-controller-manager starts it (`daemonset`). */
export function newDaemonSetController(ctx: ControllerContext, opts: DaemonSetControllerOptions): DaemonSetController {
  return new DaemonSetController(ctx, opts);
}
