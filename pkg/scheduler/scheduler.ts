/**
 * The scheduler proper, without any network (upstream pkg/scheduler/schedule_one.go and
 * eventhandlers.go): it turns informer events into cache and queue updates, and runs one
 * scheduling cycle per popped pod:
 *
 *   PreFilter → Filter (a share of the nodes, round robin) → PostFilter (preemption) if none fit →
 *   PreScore → Score → pick the best → Reserve → assume in the cache → Permit
 *
 * and then, asynchronously, the binding cycle: wait on Permit → PreBind → Bind → PostBind.
 * Everything up to the assume step runs without awaiting, so the cache cannot change under it.
 */
import type { Logger } from 'pino';
import type { Clock } from '../controller/framework/clock.js';
import type { Node, Pod, PodCondition } from './api-types.js';
import { SchedulerCache } from './cache/cache.js';
import { Snapshot } from './cache/snapshot.js';
import type { KubeSchedulerConfiguration } from './config/types.js';
import { CycleState } from './framework/cycle-state.js';
import { ActionType, type ClusterEvent, type Listers, type PluginFactory, type SchedulerClient } from './framework/interface.js';
import { Framework } from './framework/runtime.js';
import { FitError, newDiagnosis, Status, type Diagnosis } from './framework/status.js';
import { PodInfo, podKey, type NodeInfo, type QueuedPodInfo } from './framework/types.js';
import { noopMetrics, type SchedulerMetrics } from './metrics.js';
import { inTreeRegistry } from './plugins/registry.js';
import type { NominatingInfo } from './queue/nominator.js';
import { SchedulingQueue } from './queue/scheduling-queue.js';
import { DEFAULT_SCHEDULER_NAME } from './config/defaults.js';

export const ErrNoNodesAvailable = 'no nodes available to schedule pods';
const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;
const EVENT_MESSAGE_LIMIT = 1024;

export interface SchedulerOptions {
  config: KubeSchedulerConfiguration;
  listers: Listers;
  client: SchedulerClient;
  clock: Clock;
  logger: Logger;
  rand?: () => number;
  metrics?: SchedulerMetrics;
  registry?: Map<string, PluginFactory>;
  assumedPodTTLMs?: number;
  /** Unschedulable pods are retried after this long without a relevant event (default 5m). */
  podMaxInUnschedulablePodsDurationMs?: number;
  /**
   * Binding calls (PreBind and Bind) in flight at once (default 64). Upstream bounds them with the
   * client's QPS; past this many, binding cycles wait their turn instead of flooding the
   * apiserver into 429s. The scheduling cycle does not wait: pods stay assumed meanwhile.
   */
  maxBindingsInFlight?: number;
  /** The scheduling loop yields to I/O (bindings, informer events) after this long of work (default 20ms). */
  yieldEveryMs?: number;
}

export const DEFAULT_MAX_BINDINGS_IN_FLIGHT = 64;
const DEFAULT_YIELD_EVERY_MS = 20;

export interface ScheduleResult {
  suggestedHost: string;
  evaluatedNodes: number;
  feasibleNodes: number;
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function nowRFC3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function truncateMessage(m: string): string {
  if (m.length <= EVENT_MESSAGE_LIMIT) return m;
  const suffix = ' ...';
  return m.slice(0, EVENT_MESSAGE_LIMIT - suffix.length) + suffix;
}

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly snapshot = new Snapshot();
  readonly profiles = new Map<string, Framework>();
  private readonly listers: Listers;
  private readonly client: SchedulerClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly rand: () => number;
  private readonly metrics: SchedulerMetrics;
  private readonly percentageOfNodesToScore: number;
  private nextStartNodeIndex = 0;
  /** Binding cycles in flight, so shutdown can wait for them. */
  private readonly bindings = new Set<Promise<void>>();
  private readonly bindSlots: Semaphore;
  private readonly yieldEveryMs: number;

  constructor(o: SchedulerOptions) {
    this.listers = o.listers;
    this.client = o.client;
    this.clock = o.clock;
    this.log = o.logger;
    this.rand = o.rand ?? Math.random;
    this.metrics = o.metrics ?? noopMetrics;
    this.percentageOfNodesToScore = o.config.percentageOfNodesToScore;
    this.bindSlots = new Semaphore(Math.max(1, o.maxBindingsInFlight ?? DEFAULT_MAX_BINDINGS_IN_FLIGHT));
    this.yieldEveryMs = o.yieldEveryMs ?? DEFAULT_YIELD_EVERY_MS;
    this.cache = new SchedulerCache(o.clock, o.assumedPodTTLMs);
    const registry = o.registry ?? inTreeRegistry();
    for (const p of o.config.profiles) {
      const fwk = new Framework({
        profileName: p.schedulerName,
        plugins: p.plugins,
        pluginArgs: new Map(p.pluginConfig.map((pc) => [pc.name, pc.args ?? {}])),
        registry,
        listers: o.listers,
        client: o.client,
        nominator: { nominatedPodsForNode: (n) => this.queue.nominator.nominatedPodsForNode(n) },
        clock: o.clock,
        snapshot: () => this.snapshot,
        rand: this.rand,
        metrics: this.metrics,
        percentageOfNodesToScore: p.percentageOfNodesToScore,
      });
      this.profiles.set(p.schedulerName, fwk);
    }
    const first = this.profiles.values().next().value as Framework;
    this.queue = new SchedulingQueue({
      clock: o.clock,
      less: (a, b) => first.queueSortLess(a, b),
      podInitialBackoffMs: o.config.podInitialBackoffSeconds * 1000,
      podMaxBackoffMs: o.config.podMaxBackoffSeconds * 1000,
      podMaxInUnschedulablePodsDurationMs: o.podMaxInUnschedulablePodsDurationMs,
      preEnqueue: (pod) => this.frameworkFor(pod)?.runPreEnqueuePlugins(pod) ?? Status.success(),
      isInterested: (q, e) => this.isInterested(q, e),
      namespaceLabels: (ns) => this.listers.namespaces.get(undefined, ns)?.metadata?.labels,
    });
    this.metrics.setPendingPodsSource(() => this.queue.pendingPods());
  }

  frameworkFor(pod: Pod): Framework | undefined {
    return this.profiles.get(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME);
  }

  /** Whether this scheduler handles the pod: its schedulerName names one of our profiles. */
  responsibleForPod(pod: Pod): boolean {
    return this.frameworkFor(pod) !== undefined;
  }

  private isInterested(q: QueuedPodInfo, e: ClusterEvent): boolean {
    const fwk = this.frameworkFor(q.podInfo.pod);
    if (!fwk) return false;
    for (const name of q.unschedulablePlugins) {
      for (const ev of fwk.clusterEvents.get(name) ?? []) if (ev.resource === e.resource && (ev.actions & e.actions) !== 0) return true;
    }
    return false;
  }

  /**
   * The priority the apiserver's Priority admission would have set: from the PriorityClass, or
   * the global default class, else 0. keelson's apiserver does not resolve it yet.
   */
  resolvePod(pod: Pod): Pod {
    if (pod.spec?.priority !== undefined && pod.spec.priority !== null) return pod;
    const pcs = this.listers.priorityClasses;
    let value = 0;
    let policy: string | undefined;
    const name = pod.spec?.priorityClassName;
    const pc = name ? pcs.get(undefined, name) : pcs.list().find((c) => c.globalDefault);
    if (pc) {
      value = pc.value ?? 0;
      policy = pc.preemptionPolicy;
    }
    return { ...pod, spec: { ...pod.spec!, priority: value, preemptionPolicy: pod.spec?.preemptionPolicy ?? policy } };
  }

  // ---- informer events ----

  onPodAdd(podIn: Pod): void {
    const pod = this.resolvePod(podIn);
    if (pod.spec?.nodeName) {
      if (isTerminal(pod)) return;
      this.cache.addPod(pod);
      this.queue.assignedPodAdded(pod);
      return;
    }
    if (!this.responsibleForPod(pod) || isTerminal(pod)) return;
    this.queue.add(pod);
  }

  onPodUpdate(oldIn: Pod, newIn: Pod): void {
    const oldPod = this.resolvePod(oldIn);
    const pod = this.resolvePod(newIn);
    if (pod.spec?.nodeName) {
      if (!oldPod.spec?.nodeName) {
        // Bound (by us or by someone else): it leaves the queue and joins the cache.
        this.queue.delete(oldPod);
        if (isTerminal(pod)) {
          this.cache.removePod(pod);
          return;
        }
        this.cache.addPod(pod);
        this.queue.assignedPodAdded(pod);
        return;
      }
      if (isTerminal(pod)) {
        // A finished pod frees its resources, as a deleted one does.
        this.cache.removePod(pod);
        this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', actions: ActionType.Delete, label: 'AssignedPodDelete' });
        return;
      }
      this.cache.updatePod(oldPod, pod);
      let actions = 0;
      if (JSON.stringify(oldPod.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {})) actions |= ActionType.UpdatePodLabel;
      if (new PodInfo(pod).requests.milliCPU < new PodInfo(oldPod).requests.milliCPU || new PodInfo(pod).requests.memory < new PodInfo(oldPod).requests.memory) actions |= ActionType.UpdatePodScaleDown;
      if (actions) this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', actions, label: 'AssignedPodUpdate' });
      if (actions & ActionType.UpdatePodLabel) this.queue.assignedPodAdded(pod);
      return;
    }
    if (!this.responsibleForPod(pod)) {
      this.queue.delete(pod);
      return;
    }
    if (this.cache.isAssumedPod(pod)) return;
    if (isTerminal(pod)) {
      this.queue.delete(pod);
      return;
    }
    this.queue.update(oldPod, pod);
  }

  onPodDelete(pod: Pod): void {
    if (pod.spec?.nodeName || this.cache.getPod(pod)) {
      this.cache.removePod(pod);
      this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', actions: ActionType.Delete, label: 'AssignedPodDelete' });
      return;
    }
    this.queue.delete(pod);
    for (const fwk of this.profiles.values()) fwk.getWaitingPod(pod.metadata?.uid ?? '')?.reject('', 'removed');
  }

  onNodeAdd(node: Node): void {
    this.cache.addNode(node);
    this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Node', actions: ActionType.Add, label: 'NodeAdd' });
  }

  onNodeUpdate(oldNode: Node, node: Node): void {
    this.cache.updateNode(oldNode, node);
    const actions = nodeUpdateActions(oldNode, node);
    if (actions) this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Node', actions, label: 'NodeUpdate' });
  }

  onNodeDelete(node: Node): void {
    this.cache.removeNode(node);
    this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Node', actions: ActionType.Delete, label: 'NodeDelete' });
  }

  /** PVC, PV, StorageClass and Namespace changes. */
  onClusterEvent(resource: ClusterEvent['resource'], action: 'Add' | 'Update' | 'Delete'): void {
    this.queue.moveAllToActiveOrBackoffQueue({ resource, actions: ActionType[action === 'Update' ? 'UpdateOther' : action], label: `${resource}${action}` });
  }

  // ---- the scheduling cycle ----

  /**
   * How many feasible nodes a cycle looks for before it stops filtering (upstream
   * numFeasibleNodesToFind): every node of a cluster under 100 nodes; else the profile's
   * percentageOfNodesToScore, or the global one when the profile sets none, where 0 means
   * adaptive (50% less 1% per 125 nodes, at least 5%); and never fewer than 100 nodes.
   */
  numFeasibleNodesToFind(profilePercentage: number | undefined, numAllNodes: number): number {
    if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
    let p = profilePercentage ?? this.percentageOfNodesToScore;
    if (p === 0) {
      p = 50 - Math.trunc(numAllNodes / 125);
      if (p < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) p = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
    }
    const n = Math.trunc((numAllNodes * p) / 100);
    return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n;
  }

  /** Where the next cycle starts looking: nodes are tried round robin across cycles. */
  get nextStartIndex(): number {
    return this.nextStartNodeIndex;
  }

  /** Runs PreFilter and Filter; returns the feasible nodes and why the others failed. */
  findNodesThatFitPod(fwk: Framework, state: CycleState, pod: Pod): { feasible: NodeInfo[]; diagnosis: Diagnosis } {
    const diagnosis = newDiagnosis();
    const all = this.snapshot.list();
    const pre = fwk.runPreFilterPlugins(state, pod, all);
    if (!pre.isSuccess()) {
      if (!pre.isRejected()) throw pre.error ?? new Error(pre.message());
      diagnosis.nodeToStatus.absentStatus = pre;
      diagnosis.preFilterMsg = pre.message();
      if (pre.plugin) diagnosis.unschedulablePlugins.add(pre.plugin);
      return { feasible: [], diagnosis };
    }
    // A pod nominated by an earlier preemption tries its node first.
    const nominated = pod.status?.nominatedNodeName;
    if (nominated) {
      const ni = this.snapshot.get(nominated);
      if (ni && fwk.runFilterPluginsWithNominatedPods(state, pod, ni).isSuccess()) return { feasible: [ni], diagnosis };
    }
    const feasible = this.findNodesThatPassFilters(fwk, state, pod, diagnosis, all);
    // Every node gets its turn: the next cycle starts after the last node this one looked at.
    if (all.length > 0) this.nextStartNodeIndex = (this.nextStartNodeIndex + feasible.length + diagnosis.nodeToStatus.size) % all.length;
    return { feasible, diagnosis };
  }

  private findNodesThatPassFilters(fwk: Framework, state: CycleState, pod: Pod, diagnosis: Diagnosis, nodes: NodeInfo[]): NodeInfo[] {
    const n = nodes.length;
    if (n === 0) return [];
    // Without scoring, the first feasible node is as good as any.
    const want = fwk.hasScorePlugins() ? this.numFeasibleNodesToFind(fwk.percentageOfNodesToScore, n) : 1;
    const start = this.nextStartNodeIndex;
    if (!fwk.hasFilterPlugins()) {
      const out: NodeInfo[] = new Array(want);
      for (let i = 0; i < want; i++) out[i] = nodes[(start + i) % n]!;
      return out;
    }
    const feasible: NodeInfo[] = [];
    for (let i = 0; i < n && feasible.length < want; i++) {
      const ni = nodes[(start + i) % n]!;
      const s = fwk.runFilterPluginsWithNominatedPods(state, pod, ni);
      if (s.isSuccess()) {
        feasible.push(ni);
        continue;
      }
      if (!s.isRejected()) throw s.error ?? new Error(s.message());
      diagnosis.nodeToStatus.set(ni.name, s);
      if (s.plugin) diagnosis.unschedulablePlugins.add(s.plugin);
    }
    return feasible;
  }

  /** Picks the node: the highest total score, ties broken at random (reservoir sampling). */
  selectHost(scores: { name: string; score: number }[]): string {
    if (scores.length === 0) throw new Error('empty priorityList');
    let best = scores[0]!;
    let ties = 1;
    for (let i = 1; i < scores.length; i++) {
      const s = scores[i]!;
      if (s.score > best.score) {
        best = s;
        ties = 1;
      } else if (s.score === best.score) {
        ties++;
        if (Math.floor(this.rand() * ties) === 0) best = s;
      }
    }
    return best.name;
  }

  /** The scheduling algorithm: throws FitError when no node fits. */
  schedulePod(fwk: Framework, state: CycleState, pod: Pod): ScheduleResult {
    this.snapshot.update(this.cache);
    if (this.snapshot.numNodes() === 0) throw new NoNodesAvailableError();
    const { feasible, diagnosis } = this.findNodesThatFitPod(fwk, state, pod);
    if (feasible.length === 0) throw new FitError(this.snapshot.numNodes(), diagnosis);
    if (feasible.length === 1) return { suggestedHost: feasible[0]!.name, evaluatedNodes: 1 + diagnosis.nodeToStatus.size, feasibleNodes: 1 };
    let totals: { name: string; score: number }[];
    if (!fwk.hasScorePlugins()) {
      totals = feasible.map((n) => ({ name: n.name, score: 1 }));
    } else {
      const pre = fwk.runPreScorePlugins(state, pod, feasible);
      if (!pre.isSuccess()) throw pre.error ?? new Error(pre.message());
      const r = fwk.runScorePlugins(state, pod, feasible);
      if (r instanceof Status) throw r.error ?? new Error(r.message());
      totals = r.totals;
    }
    return { suggestedHost: this.selectHost(totals), evaluatedNodes: feasible.length + diagnosis.nodeToStatus.size, feasibleNodes: feasible.length };
  }

  /**
   * Pops one pod and runs its scheduling cycle; the binding cycle continues in the background.
   * Resolves false once the queue is closed.
   */
  async scheduleOne(signal?: AbortSignal): Promise<boolean> {
    const qpi = await this.queue.pop(signal);
    if (!qpi) return false;
    const pod = qpi.podInfo.pod;
    const fwk = this.frameworkFor(pod);
    if (!fwk) {
      this.queue.done(pod);
      return true;
    }
    if (pod.metadata?.deletionTimestamp || this.cache.isAssumedPod(pod)) {
      this.queue.done(pod);
      return true;
    }
    const cycle = this.queue.currentSchedulingCycle;
    const start = this.clock.now();
    const state = new CycleState();
    let result: ScheduleResult;
    try {
      result = this.schedulePod(fwk, state, pod);
    } catch (e) {
      await this.handleScheduleError(fwk, qpi, state, e, start, cycle);
      return true;
    }
    // Assume: the decision counts in the cache from now on, before the binding lands.
    const assumed: Pod = { ...pod, spec: { ...pod.spec!, nodeName: result.suggestedHost } };
    const reserve = fwk.runReservePluginsReserve(state, assumed, result.suggestedHost);
    if (!reserve.isSuccess()) {
      fwk.runReservePluginsUnreserve(state, assumed, result.suggestedHost);
      await this.failure(fwk, qpi, reserve, undefined, start, cycle);
      return true;
    }
    try {
      this.cache.assumePod(assumed);
    } catch (e) {
      fwk.runReservePluginsUnreserve(state, assumed, result.suggestedHost);
      await this.failure(fwk, qpi, Status.error(e), undefined, start, cycle);
      return true;
    }
    const permit = fwk.runPermitPlugins(state, assumed, result.suggestedHost);
    if (!permit.isSuccess() && permit.code !== 'Wait') {
      fwk.runReservePluginsUnreserve(state, assumed, result.suggestedHost);
      this.cache.forgetPod(assumed);
      await this.failure(fwk, qpi, permit, undefined, start, cycle);
      return true;
    }
    this.queue.nominator.delete(pod);
    const b = this.bindingCycle(fwk, state, qpi, assumed, result.suggestedHost, start, cycle).finally(() => this.bindings.delete(b));
    this.bindings.add(b);
    return true;
  }

  private async handleScheduleError(fwk: Framework, qpi: QueuedPodInfo, state: CycleState, e: unknown, start: number, cycle: number): Promise<void> {
    const pod = qpi.podInfo.pod;
    if (e instanceof NoNodesAvailableError) {
      await this.failure(fwk, qpi, Status.unresolvable(ErrNoNodesAvailable), { nominatedNodeName: '', mode: 'Override' }, start, cycle);
      return;
    }
    if (!(e instanceof FitError)) {
      this.log.error({ pod: podKey(pod), err: e instanceof Error ? e.message : String(e) }, 'Error selecting node for pod');
      await this.failure(fwk, qpi, Status.error(e), { nominatedNodeName: '', mode: 'Override' }, start, cycle);
      return;
    }
    let nominating: NominatingInfo | undefined;
    if (fwk.hasPostFilterPlugins()) {
      try {
        const { result, status } = await fwk.runPostFilterPlugins(state, pod, e.diagnosis.nodeToStatus);
        if (status.code === 'Error') this.log.error({ pod: podKey(pod), err: status.message() }, 'Status after running PostFilter plugins for pod');
        else this.log.debug({ pod: podKey(pod), status: status.message() }, 'Status after running PostFilter plugins for pod');
        if (status.reasons.length) e.diagnosis.postFilterMsg = status.message();
        if (result) nominating = { nominatedNodeName: result.nominatedNodeName, mode: 'Override' };
      } catch (err) {
        this.log.error({ pod: podKey(pod), err: err instanceof Error ? err.message : String(err) }, 'PostFilter failed');
      }
    }
    qpi.unschedulablePlugins = new Set(e.diagnosis.unschedulablePlugins);
    await this.failure(fwk, qpi, Status.unschedulable(e.message), nominating, start, cycle);
  }

  /**
   * An attempt failed: requeue the pod (unless it is gone or bound meanwhile), record the
   * nomination, emit FailedScheduling, and set PodScheduled=False with the same message.
   */
  private async failure(fwk: Framework, qpi: QueuedPodInfo, status: Status, nominating: NominatingInfo | undefined, start: number, cycle: number): Promise<void> {
    const pod = qpi.podInfo.pod;
    const rejected = status.isRejected();
    this.metrics.scheduleAttempt(rejected ? 'unschedulable' : 'error', fwk.profileName, (this.clock.now() - start) / 1000);
    const msg = status.message();
    const reason = rejected ? 'Unschedulable' : 'SchedulerError';
    const latest = this.listers.pods.get(pod.metadata?.namespace, pod.metadata?.name ?? '');
    if (!latest || latest.metadata?.uid !== pod.metadata?.uid) {
      this.queue.done(pod);
      this.log.debug({ pod: podKey(pod) }, 'Pod does not exist anymore, not requeued');
      return;
    }
    if (latest.spec?.nodeName) {
      this.queue.done(pod);
      return;
    }
    const current = this.resolvePod(latest);
    qpi.podInfo = new PodInfo(current);
    this.queue.addUnschedulableIfNotPresent(qpi, cycle, !rejected);
    if (nominating?.mode === 'Override') this.queue.nominator.add(qpi.podInfo, nominating);
    this.log.info({ pod: podKey(pod), err: msg }, 'Unable to schedule pod; no fit; waiting');
    this.client.recordEvent(podRef(pod), 'Warning', 'FailedScheduling', 'Scheduling', truncateMessage(msg), fwk.profileName);
    const cond: PodCondition = { type: 'PodScheduled', status: 'False', reason, message: msg, lastProbeTime: null as unknown as undefined, lastTransitionTime: nowRFC3339(this.clock.now()) };
    const old = (current.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    const condChanged = !old || old.status !== cond.status || old.reason !== cond.reason || old.message !== cond.message;
    const nnnChanged = nominating?.mode === 'Override' && (current.status?.nominatedNodeName ?? '') !== nominating.nominatedNodeName;
    if (!condChanged && !nnnChanged) return;
    try {
      await this.client.updatePodStatus(current, condChanged ? cond : undefined, nnnChanged ? nominating!.nominatedNodeName : undefined);
    } catch (e) {
      this.log.error({ pod: podKey(pod), err: e instanceof Error ? e.message : String(e) }, 'Error updating pod');
    }
  }

  private async bindingCycle(fwk: Framework, state: CycleState, qpi: QueuedPodInfo, assumed: Pod, node: string, start: number, cycle: number): Promise<void> {
    const fail = async (s: Status) => {
      fwk.runReservePluginsUnreserve(state, assumed, node);
      this.cache.forgetPod(assumed);
      // The room this pod held is free again: others may fit now.
      this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', actions: ActionType.Delete, label: 'AssignedPodDelete' });
      await this.failure(fwk, qpi, s, { nominatedNodeName: '', mode: 'Override' }, start, cycle);
    };
    try {
      const permit = await fwk.waitOnPermit(assumed);
      if (!permit.isSuccess()) return await fail(permit);
      await this.bindSlots.acquire();
      let bind: Status;
      try {
        const pre = await fwk.runPreBindPlugins(state, assumed, node);
        if (!pre.isSuccess()) return await fail(pre);
        bind = await fwk.runBindPlugins(state, assumed, node);
      } finally {
        this.bindSlots.release();
      }
      if (!bind.isSuccess()) return await fail(bind.isSkip() ? Status.error(new Error('no bind plugin bound the pod')) : bind);
      this.cache.finishBinding(assumed);
      this.queue.done(assumed);
      this.metrics.scheduleAttempt('scheduled', fwk.profileName, (this.clock.now() - start) / 1000);
      this.metrics.podScheduled(fwk.profileName, qpi.attempts, (this.clock.now() - qpi.initialAttemptTimestamp) / 1000);
      fwk.runPostBindPlugins(state, assumed, node);
      this.client.recordEvent(podRef(assumed), 'Normal', 'Scheduled', 'Binding', `Successfully assigned ${assumed.metadata?.namespace}/${assumed.metadata?.name} to ${node}`, fwk.profileName);
      this.log.debug({ pod: podKey(assumed), node, evaluatedNodes: qpi.attempts }, 'Successfully bound pod to node');
    } catch (e) {
      await fail(Status.error(e));
    }
  }

  /** Waits for binding cycles in flight (for shutdown and tests). */
  async drainBindings(): Promise<void> {
    while (this.bindings.size) await Promise.allSettled([...this.bindings]);
  }

  /** Expires assumed pods whose binding never showed up. */
  cleanupAssumedPods(): void {
    for (const p of this.cache.cleanupAssumedPods()) {
      this.log.warn({ pod: podKey(p), node: p.spec?.nodeName }, 'Assumed pod expired');
      this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', actions: ActionType.Delete, label: 'AssignedPodDelete' });
    }
  }

  /** Schedules until `signal` aborts, with the queue's flushes and the cache's expiry running alongside. */
  async run(signal: AbortSignal): Promise<void> {
    const flushes = this.queue.run(signal);
    const cleanup = (async () => {
      while (!signal.aborted) {
        await this.clock.sleep(1_000, signal);
        if (!signal.aborted) this.cleanupAssumedPods();
      }
    })();
    const onAbort = () => this.queue.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let since = performance.now();
      while (!signal.aborted) {
        // Popping a queued pod resolves at once, so without this the loop would only run
        // microtasks while a backlog lasts: bindings and informer events would wait for it all.
        if (performance.now() - since >= this.yieldEveryMs) {
          await new Promise((r) => setImmediate(r));
          since = performance.now();
        }
        try {
          if (!(await this.scheduleOne(signal))) break;
        } catch (e) {
          this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'scheduling cycle failed');
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.queue.close();
      await Promise.all([flushes, cleanup]);
      await this.drainBindings();
    }
  }
}

/** A counting semaphore: at most `n` holders, the rest wait in order. */
class Semaphore {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  acquire(): Promise<void> | void {
    if (this.free > 0) {
      this.free--;
      return;
    }
    return new Promise((r) => this.waiting.push(r));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

class NoNodesAvailableError extends Error {
  constructor() {
    super(ErrNoNodesAvailable);
  }
}

function podRef(pod: Pod) {
  return { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '', uid: pod.metadata?.uid };
}

/** Which kinds of node change this update is (upstream nodeSchedulingPropertiesChange). */
export function nodeUpdateActions(oldNode: Node, node: Node): number {
  let a = 0;
  const j = (v: unknown) => JSON.stringify(v ?? null);
  if (j(oldNode.status?.allocatable) !== j(node.status?.allocatable)) a |= ActionType.UpdateNodeAllocatable;
  if (j(oldNode.metadata?.labels) !== j(node.metadata?.labels)) a |= ActionType.UpdateNodeLabel;
  if (j(oldNode.spec?.taints) !== j(node.spec?.taints) || !!oldNode.spec?.unschedulable !== !!node.spec?.unschedulable) a |= ActionType.UpdateNodeTaint;
  const conds = (n: Node) => j((n.status?.conditions ?? []).map((c) => [c.type, c.status]));
  if (conds(oldNode) !== conds(node)) a |= ActionType.UpdateNodeCondition;
  if (j(oldNode.metadata?.annotations) !== j(node.metadata?.annotations)) a |= ActionType.UpdateOther;
  return a;
}
