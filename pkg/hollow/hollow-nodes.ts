/**
 * N hollow nodes in one process: they register Nodes, renew Leases, and "run" the pods bound to
 * them, all through the apiserver, as N kubelets would, without containers.
 *
 * Sharing is what makes a thousand nodes cheap:
 * - one RestClient (one connection pool) for every write;
 * - one watch of all bound pods, not one per node (bound-pods.ts), keeping a few fields per pod;
 * - two work queues whose worker counts bound the writes in flight: pods, and leases with node
 *   status, so a backlog of pods never delays a Lease past its duration;
 * - one timer wheel that spreads the Lease renewals evenly over the renew interval.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Node, Pod } from '../api/types.js';
import { isAlreadyExists, isConflict, isNotFound, resources, type RestClient } from '../client/rest.js';
import type { Clock, ClockTimer } from '../controller/framework/clock.js';
import { ItemExponentialFailureRateLimiter } from '../controller/framework/rate-limiter.js';
import { RateLimitingQueue } from '../controller/framework/workqueue.js';
import type { WorkqueueMetricsProvider } from '../controller/framework/workqueue-metrics.js';
import { parseCIDR } from '../registry/allocators/cidr.js';
import { BoundPodWatch, type BoundPodHandler } from './bound-pods.js';
import type { HollowConfig } from './config.js';
import type { HollowMetrics } from './metrics.js';
import { effectiveMaskSize, nodeAddress, nodePodCIDR, parseIPv4CIDR, PodIPPool } from './node-network.js';
import {
  leaseObject,
  leaseRenewPatch,
  looksRunning,
  nodeConditions,
  nodeLeaseNamespace,
  nodeObject,
  nodeStatus,
  podRunInput,
  rfc3339,
  runningPodStatus,
  type NodeSpecInput,
  type PodRunInput,
} from './objects.js';
import { forEachLimited, runQueueWorkers, withRetries } from './workers.js';

/** One simulated node. */
interface HollowNode {
  index: number;
  name: string;
  zone?: string;
  hostIP: string;
  pool: PodIPPool;
  uid?: string;
  registered: boolean;
  renewals: number;
}

type PodAction = 'none' | 'run' | 'delete' | 'deleted';

/** What is kept per bound pod: enough to act on it, never the whole object. */
interface PodRecord {
  node: HollowNode;
  uid: string;
  podIP?: string;
  running: boolean;
  action: PodAction;
  /** Bumped whenever `action` changes, so a finished write does not clear a newer action. */
  gen: number;
  run?: PodRunInput;
  /** The relist epoch the pod was last seen in. */
  epoch: number;
}

export interface HollowDeps {
  kubeConfig: KubeConfig;
  client: RestClient;
  clock: Clock;
  logger: Logger;
  metrics: HollowMetrics;
  queueMetrics?: WorkqueueMetricsProvider;
}

/** The smallest gap between two wheel ticks: renewals due within it go out together. */
const minTickMs = 20;

export class HollowNodes implements BoundPodHandler {
  private readonly nodes: HollowNode[] = [];
  private readonly byName = new Map<string, HollowNode>();
  private readonly pods = new Map<string, PodRecord>();
  private readonly podQueue: RateLimitingQueue<string>;
  private readonly leaseQueue: RateLimitingQueue<string>;
  private readonly watch: BoundPodWatch;
  private readonly since: string;
  private epoch = 0;
  private registeredCount = 0;
  private ready = false;

  constructor(
    private readonly config: HollowConfig,
    private readonly deps: HollowDeps,
  ) {
    const { clock, logger } = deps;
    this.since = rfc3339(clock.now());
    const cluster = parseCIDR(config.clusterCIDR);
    const mask = effectiveMaskSize(config.nodeCIDRMaskSize, config.pods);
    const ipRange = parseCIDR(config.nodeIPRange);
    for (let i = 0; i < config.count; i++) {
      const name = `${config.namePrefix}${i}`;
      const zone = config.zones.length ? config.zones[i % config.zones.length] : undefined;
      const node: HollowNode = { index: i, name, zone, hostIP: nodeAddress(ipRange, i), pool: new PodIPPool(nodePodCIDR(cluster, mask, i)), registered: false, renewals: 0 };
      this.nodes.push(node);
      this.byName.set(name, node);
    }
    const queue = (name: string) =>
      new RateLimitingQueue<string>({ name, clock, rateLimiter: new ItemExponentialFailureRateLimiter<string>(10, 30_000), metrics: deps.queueMetrics });
    this.podQueue = queue('hollow_pods');
    this.leaseQueue = queue('hollow_leases');
    this.watch = new BoundPodWatch(deps.kubeConfig, deps.client, this, clock, logger.child({ component: 'bound-pods' }));
  }

  /** True once every node registered and the pod watch delivered its first list. */
  isReady(): boolean {
    return this.ready;
  }

  /** Registers the nodes, then renews and runs pods until `signal` aborts. */
  async run(signal: AbortSignal, onReady?: () => void): Promise<void> {
    const { logger, clock } = this.deps;
    const inner = new AbortController();
    const stop = () => inner.abort();
    signal.addEventListener('abort', stop, { once: true });
    const podWorkers = runQueueWorkers(this.podQueue, (k) => this.syncPod(k, inner.signal), this.config.concurrency, logger);
    const leaseWorkers = runQueueWorkers(this.leaseQueue, (k) => this.syncLease(k, inner.signal), this.config.leaseConcurrency, logger);
    let wheel: { stop(): void } | undefined;
    let watchDone: Promise<void> = Promise.resolve();
    try {
      const started = clock.now();
      await forEachLimited(this.nodes.length, this.config.concurrency, async (i) => {
        if (!inner.signal.aborted) await this.register(this.nodes[i]!, inner.signal);
      });
      if (inner.signal.aborted) return;
      logger.info({ nodes: this.nodes.length, ms: clock.now() - started }, 'hollow nodes registered');
      wheel = this.startLeaseWheel();
      watchDone = this.watch.run(inner.signal).catch((e: unknown) => {
        logger.error({ err: e instanceof Error ? e.message : String(e) }, 'pod watch stopped');
        inner.abort();
      });
      while (!inner.signal.aborted && !this.watch.hasSynced()) await clock.sleep(50, inner.signal);
      if (inner.signal.aborted) return;
      this.ready = true;
      logger.info({ pods: this.pods.size }, 'hollow nodes ready');
      onReady?.();
      await new Promise<void>((resolve) => (inner.signal.aborted ? resolve() : inner.signal.addEventListener('abort', () => resolve(), { once: true })));
    } finally {
      inner.abort();
      signal.removeEventListener('abort', stop);
      wheel?.stop();
      this.podQueue.shutDown();
      this.leaseQueue.shutDown();
      await Promise.all([podWorkers, leaseWorkers, watchDone]);
    }
  }

  /** Counts for logs and the benchmark. */
  stats(): { nodes: number; podsBound: number; podsRunning: number; podQueue: number; leaseQueue: number } {
    let running = 0;
    for (const r of this.pods.values()) if (r.running) running++;
    return { nodes: this.registeredCount, podsBound: this.pods.size, podsRunning: running, podQueue: this.podQueue.len(), leaseQueue: this.leaseQueue.len() };
  }

  // --- nodes and leases ---

  private specInput(node: HollowNode): NodeSpecInput {
    const now = rfc3339(this.deps.clock.now());
    return {
      name: node.name,
      zone: node.zone,
      labels: this.config.labels,
      cpu: this.config.cpu,
      memory: this.config.memory,
      pods: this.config.pods,
      podCIDR: node.pool.range.text,
      hostIP: node.hostIP,
      since: this.since,
      now,
    };
  }

  /**
   * Creates the Node (or, when it exists from an earlier run, takes it over: its podCIDR and a
   * fresh status), then its Lease.
   */
  private async register(node: HollowNode, signal: AbortSignal): Promise<void> {
    const { client, clock, metrics } = this.deps;
    let obj: Node;
    try {
      obj = await withRetries(() => metrics.track('POST', 'nodes', () => client.create<Node>(resources.nodes, undefined, nodeObject(this.specInput(node)), signal)), clock, signal);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await withRetries(() => metrics.track('GET', 'nodes', () => client.get<Node>(resources.nodes, undefined, node.name, signal)), clock, signal);
      const cidr = parseIPv4CIDR(existing.spec?.podCIDR);
      if (cidr) node.pool.reset(cidr);
      obj = await withRetries(
        () => metrics.track('PATCH', 'nodes/status', () => client.patch<Node>(resources.nodes, undefined, node.name, 'merge', { status: nodeStatus(this.specInput(node)) }, 'status', signal)),
        clock,
        signal,
      );
    }
    node.uid = obj.metadata?.uid;
    await this.createOrRenewLease(node, signal, true);
    if (!node.registered) {
      node.registered = true;
      this.registeredCount++;
      metrics.nodes.set(this.registeredCount);
    }
  }

  /** Renews the node's Lease, creating it when missing; `createFirst` on registration, when it most likely is. */
  private async createOrRenewLease(node: HollowNode, signal: AbortSignal, createFirst = false): Promise<void> {
    const { client, clock, metrics } = this.deps;
    const { leaseDurationSeconds: d } = this.config;
    const create = () => metrics.track('POST', 'leases', () => client.create(resources.leases, nodeLeaseNamespace, leaseObject(node.name, node.uid, d, clock.now()), signal));
    const renew = () => withRetries(() => metrics.track('PATCH', 'leases', () => client.patch(resources.leases, nodeLeaseNamespace, node.name, 'merge', leaseRenewPatch(node.name, d, clock.now()), undefined, signal)), clock, signal);
    if (createFirst) {
      try {
        await withRetries(create, clock, signal);
        return;
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
    try {
      await renew();
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await create();
      } catch (e2) {
        // Created by someone else meanwhile: the next renewal patches it.
        if (!isAlreadyExists(e2)) throw e2;
      }
    }
  }

  /**
   * Queues each node's renewal once per interval, node i at offset i/N of it, so the writes are a
   * steady stream rather than a burst. Every k-th renewal also queues a node status heartbeat.
   */
  private startLeaseWheel(): { stop(): void } {
    const { clock } = this.deps;
    const n = this.nodes.length;
    const interval = this.config.leaseRenewIntervalMs;
    const statusEvery = Math.max(1, Math.round(this.config.nodeStatusReportFrequencyMs / interval));
    if (n === 0) return { stop() {} };
    const start = clock.now();
    const due = this.nodes.map((_, i) => start + Math.floor((i * interval) / n) + Math.floor(interval / n));
    let cursor = 0;
    let timer: ClockTimer | undefined;
    let stopped = false;
    const tick = () => {
      if (stopped) return;
      const now = clock.now();
      for (let k = 0; k < n && due[cursor]! <= now; k++) {
        const node = this.nodes[cursor]!;
        this.leaseQueue.add(`lease/${cursor}`);
        node.renewals++;
        if (node.renewals % statusEvery === 0) this.leaseQueue.add(`status/${cursor}`);
        // Far behind (a stalled loop): resume the rhythm from now instead of firing a backlog.
        due[cursor] = Math.max(due[cursor]! + interval, now + interval / 2);
        cursor = (cursor + 1) % n;
      }
      timer = clock.setTimeout(tick, Math.max(minTickMs, due[cursor]! - now));
    };
    timer = clock.setTimeout(tick, Math.max(minTickMs, due[0]! - start));
    return {
      stop() {
        stopped = true;
        timer?.cancel();
      },
    };
  }

  private async syncLease(key: string, signal: AbortSignal): Promise<void> {
    const [kind, idx] = key.split('/') as [string, string];
    const node = this.nodes[Number(idx)];
    if (!node || signal.aborted) return;
    const { client, clock, metrics } = this.deps;
    if (kind === 'lease') {
      await this.createOrRenewLease(node, signal);
      return;
    }
    try {
      const patch = { status: { conditions: nodeConditions(this.since, rfc3339(clock.now())) } };
      await metrics.track('PATCH', 'nodes/status', () => client.patch(resources.nodes, undefined, node.name, 'merge', patch, 'status', signal));
    } catch (e) {
      // The Node was deleted: register again, as a kubelet does.
      if (!isNotFound(e)) throw e;
      this.deps.logger.info({ node: node.name }, 'node is gone; registering it again');
      await this.register(node, signal);
    }
  }

  // --- pods (BoundPodHandler) ---

  beginRelist(): void {
    this.epoch++;
  }

  endRelist(): void {
    for (const [key, rec] of this.pods) if (rec.epoch !== this.epoch) this.forget(key, rec);
  }

  upsert(pod: Pod): void {
    const m = pod.metadata ?? {};
    const key = `${m.namespace}/${m.name}`;
    const node = this.byName.get(pod.spec?.nodeName ?? '');
    let rec = this.pods.get(key);
    if (rec && (!node || rec.uid !== m.uid)) {
      this.forget(key, rec);
      rec = undefined;
    }
    if (!node) return;
    if (!rec) {
      rec = { node, uid: m.uid ?? '', running: false, action: 'none', gen: 0, epoch: this.epoch };
      this.pods.set(key, rec);
      this.deps.metrics.podsBound.inc();
    }
    rec.epoch = this.epoch;
    const running = looksRunning(pod);
    if (running !== rec.running) {
      rec.running = running;
      this.deps.metrics.podsRunning.inc(running ? 1 : -1);
    }
    const ip = pod.status?.podIP;
    if (running && ip && rec.podIP !== ip) {
      // Found running (after a restart of this process, or written by the last sync): keep its IP.
      if (rec.podIP) node.pool.release(rec.podIP);
      node.pool.claim(ip);
      rec.podIP = ip;
    }
    const phase = pod.status?.phase;
    let want: PodAction;
    if (m.deletionTimestamp) want = rec.action === 'deleted' ? 'deleted' : 'delete';
    else if (phase === 'Succeeded' || phase === 'Failed' || running) want = 'none';
    else want = 'run';
    if (want === rec.action) return;
    rec.action = want;
    rec.gen++;
    rec.run = want === 'run' ? podRunInput(pod) : undefined;
    if (want === 'run' || want === 'delete') this.podQueue.add(key);
  }

  remove(pod: Pod): void {
    const m = pod.metadata ?? {};
    const key = `${m.namespace}/${m.name}`;
    const rec = this.pods.get(key);
    if (rec && (!m.uid || rec.uid === m.uid)) this.forget(key, rec);
  }

  private forget(key: string, rec: PodRecord): void {
    this.pods.delete(key);
    rec.node.pool.release(rec.podIP);
    this.deps.metrics.podsBound.dec();
    if (rec.running) this.deps.metrics.podsRunning.dec();
  }

  private async syncPod(key: string, signal: AbortSignal): Promise<void> {
    const rec = this.pods.get(key);
    if (!rec || signal.aborted) return;
    const { client, clock, metrics } = this.deps;
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const gen = rec.gen;
    if (rec.action === 'run' && rec.run) {
      const podIP = rec.podIP ?? rec.node.pool.allocate();
      if (!podIP) throw new Error(`node ${rec.node.name} has no free pod IP in ${rec.node.pool.range.text}`);
      rec.podIP = podIP;
      const body = { metadata: { uid: rec.uid }, status: runningPodStatus(rec.run, { podIP, hostIP: rec.node.hostIP }, clock.now()) };
      try {
        await metrics.track('PATCH', 'pods/status', () => client.patch(resources.pods, ns, name, 'merge', body, 'status', signal));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (rec.gen === gen) {
        rec.action = 'none';
        rec.run = undefined;
      }
    } else if (rec.action === 'delete') {
      // The containers are "stopped" at once; the kubelet then deletes the pod for good.
      try {
        await metrics.track('DELETE', 'pods', () => client.delete(resources.pods, ns, name, { gracePeriodSeconds: 0, preconditions: { uid: rec.uid } }, signal));
      } catch (e) {
        // Gone already, or replaced by a pod of the same name (the uid precondition failed).
        if (!isNotFound(e) && !(isConflict(e) && /uid|UID/.test(e instanceof Error ? e.message : ''))) throw e;
      }
      if (rec.gen === gen) rec.action = 'deleted';
    }
  }
}
