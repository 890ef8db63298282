/**
 * One worker per pod (upstream pkg/kubelet/pod_workers.go). A worker runs its pod's syncs one at a
 * time; a trigger during a sync runs it once more afterwards. It syncs on spec changes, runtime
 * events (the relist), probe results, backoff expiry and at least every --sync-frequency. A pod
 * with a deletionTimestamp is stopped (preStop, grace period, network, sandbox), reported terminal
 * and deleted with grace 0; a pod gone from the API is removed from the node entirely.
 */
import type { Pod } from './types.js';
import type { Logger } from '../log/logger.js';
import type { Clock, KubeletConfig } from './config.js';
import type { PodSync, NodeFacts, SyncResult } from './pod-sync.js';
import type { StatusManager } from './status-manager.js';
import type { ProbeManager } from './probes.js';
import type { KubeletMetrics } from './metrics.js';
import { generatePodStatus } from './pod-status.js';

export interface PodWorkersDeps {
  sync: PodSync;
  status: StatusManager;
  probes: ProbeManager;
  log: Logger;
  config: KubeletConfig;
  clock: Clock;
  metrics: KubeletMetrics;
  node: () => NodeFacts;
}

/** What about a pod's object matters to its sync: everything but status and bookkeeping. */
function fingerprint(pod: Pod): string {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = pod.metadata ?? {};
  return JSON.stringify([meta, pod.spec]);
}

function isTerminalPhase(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

class Worker {
  pod: Pod | undefined;
  apiDeleted = false;
  /** For a pod found only in the runtime (deleted while the kubelet was down). */
  orphanRef: { namespace: string; name: string } | undefined;
  private running = false;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private killed = false;
  private readonly firstSeen: number;
  private startObserved = false;
  private stopped = false;
  private fp = '';

  constructor(
    readonly uid: string,
    private readonly w: PodWorkers,
  ) {
    this.firstSeen = w.d.clock.now();
  }

  update(pod: Pod): void {
    const fp = fingerprint(pod);
    const changed = fp !== this.fp;
    this.fp = fp;
    this.pod = pod;
    // Our own status writes come back as updates: they need no sync.
    if (changed) this.trigger();
  }

  trigger(): void {
    if (this.stopped) return;
    this.pending = true;
    if (!this.running) void this.loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.trigger(), Math.max(0, ms));
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.pending && !this.stopped) {
        this.pending = false;
        const start = this.w.d.clock.now();
        try {
          await this.once();
        } catch (e) {
          this.w.d.log.warn({ uid: this.uid, pod: this.name(), err: (e as Error).message }, 'pod sync failed; retrying');
          this.schedule(2_000);
        }
        this.w.d.metrics.podWorkerDuration.observe({ operation_type: 'sync' }, (this.w.d.clock.now() - start) / 1000);
      }
    } finally {
      this.running = false;
    }
  }

  private name(): string {
    return this.pod ? `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}` : this.orphanRef ? `${this.orphanRef.namespace}/${this.orphanRef.name}` : this.uid;
  }

  private async once(): Promise<void> {
    const d = this.w.d;
    if (this.apiDeleted || !this.pod) {
      const ref = this.pod ? { namespace: this.pod.metadata!.namespace!, name: this.pod.metadata!.name! } : this.orphanRef;
      d.log.info({ pod: this.name(), uid: this.uid }, 'removing pod from the node');
      await d.sync.removePod(this.uid, ref);
      d.status.forget(this.uid);
      this.w.forget(this.uid, this);
      this.stop();
      return;
    }
    const pod = d.status.withLatestStatus(this.pod);
    if (pod.metadata?.deletionTimestamp) {
      if (!this.killed) {
        const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
        d.log.info({ pod: this.name(), grace }, 'stopping pod');
        await d.sync.killPod(pod, this.uid, grace);
        this.killed = true;
      }
      const res = await d.sync.syncTerminalPod(pod);
      await d.status.setStatus(pod, this.status(pod, res, true));
      await d.status.deletePod(pod);
      return;
    }
    if (isTerminalPhase(pod)) {
      const res = await d.sync.syncTerminalPod(pod);
      await d.status.setStatus(pod, this.status(pod, res, false));
      return;
    }
    const res = await d.sync.syncPod(pod);
    const status = this.status(pod, res, false);
    await d.status.setStatus(pod, status);
    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      // Stop the sandbox and release the IP now that the pod is finished.
      this.schedule(0);
      return;
    }
    if (!this.startObserved && status.phase === 'Running' && (status.containerStatuses ?? []).every((c) => c.state?.running)) {
      this.startObserved = true;
      d.metrics.podStartDuration.observe((d.clock.now() - this.firstSeen) / 1000);
    }
    this.schedule(res.requeueAfterMs ?? d.config.syncFrequencyMs);
  }

  private status(pod: Pod, res: SyncResult, terminated: boolean) {
    const d = this.w.d;
    return generatePodStatus({
      pod,
      rp: res.rp,
      nodeIP: d.node().nodeIP,
      podIPs: res.podIPs.length ? res.podIPs : (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip && (terminated || isTerminalPhase(pod))),
      sandboxReady: res.sandboxReady,
      waiting: res.waiting,
      ready: (c, id) => d.probes.ready(c, id),
      started: (c, id) => d.probes.started(c, id),
      now: d.clock.now(),
      currentSandboxId: res.currentSandboxId,
      terminated,
    });
  }
}

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();

  constructor(readonly d: PodWorkersDeps) {}

  /** A pod bound to this node was added or changed. */
  update(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let w = this.workers.get(uid);
    if (!w) {
      w = new Worker(uid, this);
      this.workers.set(uid, w);
    }
    w.update(pod);
  }

  /** The pod is gone from the API. */
  delete(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let w = this.workers.get(uid);
    if (!w) {
      w = new Worker(uid, this);
      this.workers.set(uid, w);
    }
    w.pod = pod;
    w.apiDeleted = true;
    w.trigger();
  }

  /** A pod the runtime has but the API does not (found after the informer synced). */
  removeOrphan(uid: string, ref: { namespace: string; name: string }): void {
    if (this.workers.has(uid)) return;
    const w = new Worker(uid, this);
    w.apiDeleted = true;
    w.orphanRef = ref;
    this.workers.set(uid, w);
    w.trigger();
  }

  trigger(uid: string): void {
    this.workers.get(uid)?.trigger();
  }

  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  uids(): string[] {
    return [...this.workers.keys()];
  }

  pods(): Pod[] {
    return [...this.workers.values()].filter((w) => w.pod && !w.apiDeleted).map((w) => w.pod!);
  }

  forget(uid: string, w: Worker): void {
    if (this.workers.get(uid) === w) this.workers.delete(uid);
  }

  /** Stops every worker without touching the pods (a kubelet shutdown leaves them running). */
  stop(): void {
    for (const w of this.workers.values()) w.stop();
    this.workers.clear();
  }
}
