/**
 * The scheduling queue (upstream backend/queue.PriorityQueue), three parts:
 * - activeQ: pods ready to be tried, a heap in QueueSort order (priority, then age);
 * - backoffQ: pods that failed recently, waiting out a per-pod exponential backoff (1s → 10s);
 * - unschedulablePods: pods no node fits, parked until a cluster event that concerns one of the
 *   plugins that rejected them, or until they have waited `podMaxInUnschedulablePodsDuration`.
 *
 * A pod is in at most one of them, or in flight (popped and being scheduled).
 */
import type { Clock } from '../../controller/framework/clock.js';
import { deepEqual } from '../../api/meta.js';
import type { Pod } from '../api-types.js';
import type { ClusterEvent } from '../framework/interface.js';
import type { Status } from '../framework/status.js';
import { newQueuedPodInfo, PodInfo, termMatches, type QueuedPodInfo } from '../framework/types.js';
import { KeyedHeap } from './heap.js';
import { Nominator } from './nominator.js';

export interface SchedulingQueueOptions {
  clock: Clock;
  /** QueueSort: whether a is tried before b. */
  less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  podMaxInUnschedulablePodsDurationMs?: number;
  /** PreEnqueue plugins of the pod's profile; a rejection keeps the pod out of activeQ (gated). */
  preEnqueue?: (pod: Pod) => Status;
  /** Whether an event may make this rejected pod schedulable (its rejecting plugins care). */
  isInterested?: (qpi: QueuedPodInfo, event: ClusterEvent) => boolean;
  /** Namespace labels, for moving pods whose affinity terms select a newly assigned pod. */
  namespaceLabels?: (ns: string) => Record<string, string> | undefined;
}

export const DEFAULT_POD_INITIAL_BACKOFF_MS = 1_000;
export const DEFAULT_POD_MAX_BACKOFF_MS = 10_000;
export const DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS = 5 * 60_000;

const uidOf = (p: Pod) => p.metadata?.uid ?? `${p.metadata?.namespace}/${p.metadata?.name}`;
const qKey = (q: QueuedPodInfo) => uidOf(q.podInfo.pod);

export class SchedulingQueue {
  readonly nominator = new Nominator();
  private readonly clock: Clock;
  private readonly activeQ: KeyedHeap<QueuedPodInfo>;
  private readonly backoffQ: KeyedHeap<QueuedPodInfo>;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  /** In-flight pods that changed or saw a relevant event while being scheduled. */
  private readonly inFlightDirty = new Set<string>();
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxInUnschedulable: number;
  private schedulingCycle = 0;
  /** The cycle at which the last move request came; pods failing in an earlier cycle retry soon. */
  private moveRequestCycle = -1;
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly opts: SchedulingQueueOptions) {
    this.clock = opts.clock;
    this.initialBackoff = opts.podInitialBackoffMs ?? DEFAULT_POD_INITIAL_BACKOFF_MS;
    this.maxBackoff = opts.podMaxBackoffMs ?? DEFAULT_POD_MAX_BACKOFF_MS;
    this.maxInUnschedulable = opts.podMaxInUnschedulablePodsDurationMs ?? DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS;
    this.activeQ = new KeyedHeap(qKey, opts.less);
    this.backoffQ = new KeyedHeap(qKey, (a, b) => this.backoffTime(a) < this.backoffTime(b));
  }

  /** The number of pods in each part, for scheduler_pending_pods. */
  pendingPods(): { active: number; backoff: number; unschedulable: number; gated: number } {
    let gated = 0;
    for (const q of this.unschedulable.values()) if (q.gated) gated++;
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size - gated, gated };
  }

  /** Where the pod is: for tests and debugging. */
  whereIs(pod: Pod): 'active' | 'backoff' | 'unschedulable' | 'gated' | 'inFlight' | undefined {
    const k = uidOf(pod);
    if (this.activeQ.has(k)) return 'active';
    if (this.backoffQ.has(k)) return 'backoff';
    const u = this.unschedulable.get(k);
    if (u) return u.gated ? 'gated' : 'unschedulable';
    if (this.inFlight.has(k)) return 'inFlight';
    return undefined;
  }

  /** A new pending pod. */
  add(pod: Pod): void {
    if (this.whereIs(pod)) return;
    const qpi = newQueuedPodInfo(pod, this.clock.now());
    this.moveToActiveQ(qpi);
    this.nominator.add(qpi.podInfo);
  }

  /** Runs PreEnqueue; a gated pod waits in unschedulablePods until it is updated. */
  private moveToActiveQ(qpi: QueuedPodInfo): boolean {
    const k = qKey(qpi);
    const s = this.opts.preEnqueue?.(qpi.podInfo.pod);
    if (s && !s.isSuccess()) {
      qpi.gated = true;
      this.unschedulable.set(k, qpi);
      return false;
    }
    qpi.gated = false;
    this.unschedulable.delete(k);
    this.backoffQ.delete(k);
    this.activeQ.addOrUpdate(qpi);
    this.wake();
    return true;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * Waits for the next pod to try. Resolves undefined once the queue is closed or `signal`
   * aborts. The pod is in flight until `done` is called.
   */
  async pop(signal?: AbortSignal): Promise<QueuedPodInfo | undefined> {
    for (;;) {
      if (this.closed || signal?.aborted) return undefined;
      const qpi = this.activeQ.pop();
      if (qpi) {
        qpi.attempts++;
        this.schedulingCycle++;
        this.inFlight.set(qKey(qpi), qpi);
        return qpi;
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  /** The cycle number of the most recent pop. */
  get currentSchedulingCycle(): number {
    return this.schedulingCycle;
  }

  /** The attempt for this pod is over (bound, requeued, or deleted). */
  done(pod: Pod): void {
    const k = uidOf(pod);
    this.inFlight.delete(k);
    this.inFlightDirty.delete(k);
  }

  /**
   * Requeues a pod whose attempt failed. It waits in unschedulablePods, unless a move request
   * came in while it was being scheduled, it was updated meanwhile, or it failed with an error
   * rather than a rejection: then it only waits out its backoff.
   */
  addUnschedulableIfNotPresent(qpi: QueuedPodInfo, podSchedulingCycle: number, failedWithError = false): void {
    const k = qKey(qpi);
    const dirty = this.inFlightDirty.has(k);
    this.inFlight.delete(k);
    this.inFlightDirty.delete(k);
    if (this.activeQ.has(k) || this.backoffQ.has(k) || this.unschedulable.has(k)) return;
    qpi.timestamp = this.clock.now();
    this.nominator.add(qpi.podInfo);
    if (dirty || failedWithError || this.moveRequestCycle >= podSchedulingCycle) {
      this.backoffQ.addOrUpdate(qpi);
    } else {
      this.unschedulable.set(k, qpi);
    }
  }

  /** The pod's backoff: initial × 2^(attempts−1), at most max. */
  backoffDuration(qpi: QueuedPodInfo): number {
    let d = this.initialBackoff;
    for (let i = 1; i < qpi.attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoff) return this.maxBackoff;
    }
    return Math.min(d, this.maxBackoff);
  }

  private backoffTime(qpi: QueuedPodInfo): number {
    return qpi.timestamp + this.backoffDuration(qpi);
  }

  private isBackingOff(qpi: QueuedPodInfo): boolean {
    return this.backoffTime(qpi) > this.clock.now();
  }

  /** Moves pods whose backoff has expired to activeQ (upstream runs this every second). */
  flushBackoffQCompleted(): void {
    for (;;) {
      const q = this.backoffQ.peek();
      if (!q || this.isBackingOff(q)) return;
      this.backoffQ.pop();
      this.moveToActiveQ(q);
    }
  }

  /** Retries pods that have sat in unschedulablePods too long (upstream: every 30s, after 5m). */
  flushUnschedulablePodsLeftover(): void {
    const now = this.clock.now();
    const stale = [...this.unschedulable.values()].filter((q) => !q.gated && now - q.timestamp > this.maxInUnschedulable);
    this.movePods(stale, { resource: 'Pod', actions: 0, label: 'UnschedulableTimeout' });
  }

  private movePods(pods: QueuedPodInfo[], _event: ClusterEvent): void {
    for (const q of pods) {
      const k = qKey(q);
      if (q.gated) continue;
      this.unschedulable.delete(k);
      if (this.isBackingOff(q)) this.backoffQ.addOrUpdate(q);
      else this.moveToActiveQ(q);
    }
    this.moveRequestCycle = this.schedulingCycle;
  }

  /** A cluster event: pods waiting for it go back to activeQ (or backoffQ if still backing off). */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, preCheck?: (pod: Pod) => boolean): void {
    const interested = this.opts.isInterested;
    const pods: QueuedPodInfo[] = [];
    for (const q of this.unschedulable.values()) {
      if (!q.gated && (!preCheck || preCheck(q.podInfo.pod)) && (q.unschedulablePlugins.size === 0 || !interested || interested(q, event))) pods.push(q);
    }
    // Pods in flight need no marking: movePods records the cycle, and a pod whose attempt
    // started before it goes to backoffQ rather than unschedulablePods when it fails.
    this.movePods(pods, event);
  }

  /**
   * A pod was assigned to a node: pods with affinity terms that select it may now fit
   * (upstream getUnschedulablePodsWithMatchingAffinityTerm).
   */
  assignedPodAdded(pod: Pod): void {
    const matching: QueuedPodInfo[] = [];
    if (this.unschedulable.size > 0) {
      const nsLabels = this.opts.namespaceLabels?.(pod.metadata?.namespace ?? '');
      for (const q of this.unschedulable.values()) if (!q.gated && q.podInfo.requiredAffinityTerms.some((t) => termMatches(t, pod, nsLabels))) matching.push(q);
    }
    this.movePods(matching, { resource: 'Pod', actions: 1, label: 'AssignedPodAdd' });
  }

  /** A pending pod changed. Spec or label changes give it another try at once. */
  update(oldPod: Pod, newPod: Pod): void {
    const k = uidOf(newPod);
    const pi = new PodInfo(newPod);
    this.nominator.update(oldPod, pi);
    if (this.inFlight.has(k)) {
      if (isPodUpdated(oldPod, newPod)) this.inFlightDirty.add(k);
      return;
    }
    const a = this.activeQ.get(k);
    if (a) {
      a.podInfo = pi;
      this.activeQ.addOrUpdate(a);
      return;
    }
    const b = this.backoffQ.get(k);
    if (b) {
      b.podInfo = pi;
      this.backoffQ.addOrUpdate(b);
      return;
    }
    const u = this.unschedulable.get(k);
    if (u) {
      u.podInfo = pi;
      if (isPodUpdated(oldPod, newPod)) {
        if (u.gated) {
          this.moveToActiveQ(u);
        } else {
          this.unschedulable.delete(k);
          if (this.isBackingOff(u)) this.backoffQ.addOrUpdate(u);
          else this.moveToActiveQ(u);
        }
      }
      return;
    }
    this.add(newPod);
  }

  /** A pending pod was deleted or got bound by someone else. */
  delete(pod: Pod): void {
    const k = uidOf(pod);
    this.nominator.delete(pod);
    this.activeQ.delete(k);
    this.backoffQ.delete(k);
    this.unschedulable.delete(k);
  }

  /** Moves these pods to activeQ at once, wherever they wait. */
  activate(pods: Pod[]): void {
    for (const p of pods) {
      const k = uidOf(p);
      const q = this.unschedulable.get(k) ?? this.backoffQ.get(k);
      if (!q) continue;
      this.backoffQ.delete(k);
      this.moveToActiveQ(q);
    }
  }

  /** Runs the periodic flushes on the injected clock until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let last = this.clock.now();
    while (!signal.aborted) {
      await this.clock.sleep(1_000, signal);
      if (signal.aborted) break;
      this.flushBackoffQCompleted();
      if (this.clock.now() - last >= 30_000) {
        last = this.clock.now();
        this.flushUnschedulablePodsLeftover();
      }
    }
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Every pod waiting, for tests and for the scheduler's debug dump. */
  pendingPodList(): Pod[] {
    return [...this.activeQ.list(), ...this.backoffQ.list(), ...this.unschedulable.values()].map((q) => q.podInfo.pod);
  }
}

/** Whether a change to a pending pod could matter to scheduling: anything but status and bookkeeping. */
export function isPodUpdated(oldPod: Pod, newPod: Pod): boolean {
  const strip = (p: Pod) => {
    const m = { ...(p.metadata ?? {}) };
    delete m.resourceVersion;
    delete m.generation;
    delete m.managedFields;
    delete m.finalizers;
    return { m, s: p.spec };
  };
  return !deepEqual(strip(oldPod), strip(newPod));
}
