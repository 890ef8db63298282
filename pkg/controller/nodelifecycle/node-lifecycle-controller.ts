/**
 * The node lifecycle controller (pkg/controller/nodelifecycle) and the taint eviction controller
 * (pkg/controller/tainteviction).
 *
 * Node lifecycle, every `--node-monitor-period` and on every Node or node Lease change:
 * - a node not heard from (Ready heartbeat or Lease renewal) for `--node-monitor-grace-period`
 *   gets its kubelet conditions set to Unknown (NodeStatusUnknown);
 * - the node's taints follow its conditions: `node.kubernetes.io/unreachable` (Ready Unknown) or
 *   `not-ready` (Ready False), NoSchedule and NoExecute, removed again when Ready is True;
 * - the pods of a node that is not Ready are marked not ready, so Services stop sending to them.
 *
 * Taint eviction: a pod on a node with a NoExecute taint it does not tolerate is deleted at once;
 * one it tolerates for tolerationSeconds is deleted when they run out, after a DisruptionTarget
 * condition (DeletionByTaintManager) is set on it.
 */
import type { Logger } from 'pino';
import type { Lease, Node, Pod } from '../../api/types.js';
import { deepEqual } from '../../api/meta.js';
import { isConflict, isNotFound, type RestClient } from '../../client/rest.js';
import type { Clock, ClockTimer } from '../framework/clock.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import type { EventRecorder } from '../framework/event-recorder.js';
import { informerResources, keyOf, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { NodeHealthTracker, desiredControllerTaints, reconcileTaints, type NodeCondition } from './node-health.js';
import { evictionTime } from './taint-eviction.js';

export const nodeLeaseNamespace = 'kube-node-lease';

export interface NodeLifecycleControllerOptions {
  nodeMonitorPeriodMs: number;
  nodeMonitorGracePeriodMs: number;
  nodeStartupGracePeriodMs: number;
  workers?: number;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle-controller';
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  private readonly queue: RateLimitingQueue<string>;
  private readonly nodeInformer: SharedInformer<Node>;
  private readonly leaseInformer: SharedInformer<Lease>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly health: NodeHealthTracker;

  constructor(
    ctx: ControllerContext,
    private readonly opts: NodeLifecycleControllerOptions,
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.recorder = ctx.events.newRecorder('node-controller');
    this.queue = newQueue(ctx, 'node_lifecycle_controller');
    this.health = new NodeHealthTracker(ctx.clock, opts.nodeMonitorGracePeriodMs, opts.nodeStartupGracePeriodMs);
    this.nodeInformer = ctx.informers.informerFor<Node>(informerResources.nodes);
    this.leaseInformer = ctx.informers.informerFor<Lease>(informerResources.leases);
    this.podInformer = ctx.informers.informerFor<Pod>(informerResources.pods);
    this.nodeInformer.addEventHandler({
      add: (n) => this.queue.add(n.metadata!.name!),
      update: (_o, n) => this.queue.add(n.metadata!.name!),
      delete: (n) => this.queue.add(n.metadata!.name!),
    });
    this.leaseInformer.addEventHandler({
      add: (l) => this.onLease(l),
      update: (_o, l) => this.onLease(l),
    });
  }

  private onLease(l: Lease): void {
    if (l.metadata?.namespace === nodeLeaseNamespace) this.queue.add(l.metadata.name!);
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.nodeInformer, this.leaseInformer, this.podInformer], signal))) return;
    let timer: ClockTimer | undefined;
    const tick = () => {
      if (signal.aborted) return;
      for (const n of this.nodeInformer.list()) this.queue.add(n.metadata!.name!);
      timer = this.clock.setTimeout(tick, this.opts.nodeMonitorPeriodMs);
    };
    tick();
    try {
      await runWorkers(this.queue, (name) => this.syncNode(name), { workers: this.opts.workers ?? 1, logger: this.logger });
    } finally {
      timer?.cancel();
    }
  }

  async syncNode(name: string): Promise<void> {
    let node = this.nodeInformer.get('', name);
    if (!node) {
      this.health.forget(name);
      return;
    }
    const wasReady = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    const verdict = this.health.observe(node, this.leaseInformer.get(nodeLeaseNamespace, name));
    if (verdict.conditions) {
      node = await this.client.updateStatus<Node>(informerResources.nodes, { ...node, status: { ...node.status, conditions: verdict.conditions } });
      this.logger.info({ node: name }, 'node stopped posting status; conditions set to Unknown');
      if (wasReady === 'True') this.recorder.event({ apiVersion: 'v1', kind: 'Node', ...node }, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    await this.syncTaints(node);
    if (verdict.ready?.status !== 'True' && verdict.ready) await this.markPodsNotReady(name);
  }

  private async syncTaints(node: Node): Promise<void> {
    const taints = reconcileTaints(node.spec?.taints ?? [], desiredControllerTaints(node), this.clock.now());
    if (!taints) return;
    // The status update above or a kubelet may have moved the node on: re-read on conflict.
    let cur = node;
    for (let attempt = 0; ; attempt++) {
      const next = reconcileTaints(cur.spec?.taints ?? [], desiredControllerTaints(cur), this.clock.now());
      if (!next) return;
      try {
        await this.client.update<Node>(informerResources.nodes, { ...cur, spec: { ...cur.spec, taints: next.length ? next : undefined } });
        this.logger.info({ node: cur.metadata!.name, taints: next.map((t) => `${t.key}:${t.effect}`) }, 'updated node taints');
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e) || attempt >= 3) throw e;
        cur = await this.client.get<Node>(informerResources.nodes, undefined, cur.metadata!.name!);
      }
    }
  }

  /** MarkPodsNotReady: pods on a node that is not Ready are not ready either. */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    const failures: unknown[] = [];
    for (const pod of this.podInformer.list()) {
      if (pod.spec?.nodeName !== nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const conditions = pod.status?.conditions ?? [];
      const ready = conditions.find((c) => c.type === 'Ready');
      if (ready?.status !== 'True') continue;
      const now = rfc3339(this.clock.now());
      const next = conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: now } : c));
      try {
        await this.client.updateStatus<Pod>(informerResources.pods, { ...pod, status: { ...pod.status, conditions: next } });
        this.recorder.event({ apiVersion: 'v1', kind: 'Pod', ...pod }, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (e) {
        if (!isNotFound(e)) failures.push(e);
      }
    }
    if (failures.length) throw failures[0];
  }
}

export interface TaintEvictionControllerOptions {
  workers?: number;
}

const disruptionTarget = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' };

export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction-controller';
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  private readonly queue: RateLimitingQueue<string>;
  private readonly nodeInformer: SharedInformer<Node>;
  private readonly podInformer: SharedInformer<Pod>;

  constructor(
    ctx: ControllerContext,
    private readonly opts: TaintEvictionControllerOptions = {},
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.recorder = ctx.events.newRecorder('taint-eviction-controller');
    this.queue = newQueue(ctx, 'taint_eviction_controller');
    this.nodeInformer = ctx.informers.informerFor<Node>(informerResources.nodes);
    this.podInformer = ctx.informers.informerFor<Pod>(informerResources.pods);
    this.podInformer.addEventHandler({
      add: (p) => this.onPod(p),
      update: (o, p) => {
        if (o.spec?.nodeName !== p.spec?.nodeName || !deepEqual(o.spec?.tolerations, p.spec?.tolerations)) this.onPod(p);
      },
    });
    this.nodeInformer.addEventHandler({
      add: (n) => this.onNode(n),
      update: (o, n) => {
        if (!deepEqual(o.spec?.taints, n.spec?.taints)) this.onNode(n);
      },
    });
  }

  private onPod(p: Pod): void {
    if (p.spec?.nodeName) this.queue.add(keyOf(p));
  }

  private onNode(n: Node): void {
    if (!(n.spec?.taints ?? []).some((t) => t.effect === 'NoExecute')) return;
    for (const p of this.podInformer.list()) if (p.spec?.nodeName === n.metadata?.name) this.queue.add(keyOf(p));
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.nodeInformer, this.podInformer], signal))) return;
    await runWorkers(this.queue, (key) => this.syncPod(key), { workers: this.opts.workers ?? 8, logger: this.logger });
  }

  async syncPod(key: string): Promise<void> {
    const pod = this.podInformer.getByKey(key);
    if (!pod || pod.metadata?.deletionTimestamp || !pod.spec?.nodeName) return;
    const node = this.nodeInformer.get('', pod.spec.nodeName);
    if (!node) return;
    const now = this.clock.now();
    const at = evictionTime(pod, node.spec?.taints ?? [], now);
    if (at === undefined) return;
    if (at > now) {
      // Looked at again when due; a taint or toleration change re-evaluates it sooner.
      this.queue.addAfter(key, at - now);
      return;
    }
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    this.recorder.event({ apiVersion: 'v1', kind: 'Pod', ...pod }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${ns}/${name}`);
    try {
      const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
      await this.client.updateStatus<Pod>(informerResources.pods, { ...pod, status: { ...pod.status, conditions: [...conditions, { ...disruptionTarget, lastTransitionTime: rfc3339(now) }] } });
      await this.client.delete(informerResources.pods, ns, name, { preconditions: { uid: pod.metadata?.uid } });
      this.logger.info({ pod: `${ns}/${name}`, node: node.metadata?.name }, 'deleted pod for a NoExecute taint');
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }
}

export function newNodeLifecycleController(ctx: ControllerContext, opts: NodeLifecycleControllerOptions): NodeLifecycleController {
  return new NodeLifecycleController(ctx, opts);
}

export function newTaintEvictionController(ctx: ControllerContext, opts: TaintEvictionControllerOptions = {}): TaintEvictionController {
  return new TaintEvictionController(ctx, opts);
}

export type { NodeCondition };
