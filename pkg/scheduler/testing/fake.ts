/**
 * Builders and fakes for the scheduler's unit tests (upstream scheduler/testing): nodes and pods
 * in a line, listers over arrays, a client that records what it was asked to do, and a Handle
 * over a fixed snapshot.
 */
import { FakeClock } from '../../controller/framework/clock.js';
import { newLogger } from '../../log/logger.js';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, PodCondition, Taint, Toleration } from '../api-types.js';
import { Snapshot } from '../cache/snapshot.js';
import { defaultConfiguration } from '../config/defaults.js';
import type { KubeSchedulerConfiguration } from '../config/types.js';
import type { Handle, Lister, Listers, SchedulerClient } from '../framework/interface.js';
import { Framework } from '../framework/runtime.js';
import { NodeInfo, PodInfo } from '../framework/types.js';
import { inTreeRegistry } from '../plugins/registry.js';
import { Scheduler } from '../scheduler.js';
import { CycleState as CycleStateCtor } from '../framework/cycle-state.js';

let uidCounter = 0;

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  images?: { names: string[]; sizeBytes: number }[];
  extra?: Record<string, string>;
}

export function makeNode(name: string, o: NodeOpts = {}): Node {
  const allocatable = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', ...(o.extra ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `node-${name}`, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { capacity: allocatable, allocatable, images: o.images },
  };
}

export interface PodOpts {
  namespace?: string;
  uid?: string;
  cpu?: string;
  memory?: string;
  requests?: Record<string, string>;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  schedulerName?: string;
  tolerations?: Toleration[];
  nodeSelector?: Record<string, string>;
  affinity?: NonNullable<Pod['spec']>['affinity'];
  topologySpreadConstraints?: NonNullable<Pod['spec']>['topologySpreadConstraints'];
  hostPorts?: number[];
  image?: string;
  initContainers?: NonNullable<Pod['spec']>['initContainers'];
  overhead?: Record<string, string>;
  volumes?: NonNullable<Pod['spec']>['volumes'];
  nominatedNodeName?: string;
  startTime?: string;
  ownerReferences?: NonNullable<Pod['metadata']>['ownerReferences'];
  preemptionPolicy?: string;
  creationTimestamp?: string;
}

export function makePod(name: string, o: PodOpts = {}): Pod {
  const requests: Record<string, string> = { ...(o.requests ?? {}) };
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: o.uid ?? `uid-${name}-${++uidCounter}`,
      labels: o.labels,
      ownerReferences: o.ownerReferences,
      creationTimestamp: o.creationTimestamp,
    },
    spec: {
      nodeName: o.nodeName,
      schedulerName: o.schedulerName ?? 'default-scheduler',
      priority: o.priority,
      preemptionPolicy: o.preemptionPolicy,
      tolerations: o.tolerations,
      nodeSelector: o.nodeSelector,
      affinity: o.affinity,
      topologySpreadConstraints: o.topologySpreadConstraints,
      initContainers: o.initContainers,
      overhead: o.overhead,
      volumes: o.volumes,
      containers: [
        {
          name: 'c',
          image: o.image ?? 'busybox',
          resources: Object.keys(requests).length ? { requests } : undefined,
          ports: o.hostPorts?.map((p) => ({ containerPort: p, hostPort: p })),
        },
      ],
    },
    status: { phase: 'Pending', nominatedNodeName: o.nominatedNodeName, startTime: o.startTime },
  };
}

export class FakeLister<T extends { metadata?: { name?: string; namespace?: string } }> implements Lister<T> {
  constructor(public items: T[] = []) {}
  list(): T[] {
    return this.items;
  }
  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.find((i) => i.metadata?.name === name && (namespace === undefined || (i.metadata?.namespace ?? undefined) === namespace || !i.metadata?.namespace));
  }
  upsert(o: T): void {
    const i = this.items.findIndex((x) => x.metadata?.name === o.metadata?.name && x.metadata?.namespace === o.metadata?.namespace);
    if (i >= 0) this.items[i] = o;
    else this.items.push(o);
  }
  remove(o: T): void {
    this.items = this.items.filter((x) => !(x.metadata?.name === o.metadata?.name && x.metadata?.namespace === o.metadata?.namespace));
  }
}

export type FakeListers = { [K in keyof Listers]: Listers[K] extends Lister<infer T> ? FakeLister<T & { metadata?: { name?: string; namespace?: string } }> : never };

export function fakeListers(): FakeListers {
  return {
    pods: new FakeLister(),
    nodes: new FakeLister(),
    namespaces: new FakeLister(),
    persistentVolumeClaims: new FakeLister(),
    persistentVolumes: new FakeLister(),
    storageClasses: new FakeLister(),
    podDisruptionBudgets: new FakeLister(),
    services: new FakeLister(),
    replicationControllers: new FakeLister(),
    replicaSets: new FakeLister(),
    statefulSets: new FakeLister(),
    priorityClasses: new FakeLister(),
  } as unknown as FakeListers;
}

/** Records every write; binding, deleting and status updates also update the listers. */
export class FakeClient implements SchedulerClient {
  binds: { pod: string; node: string }[] = [];
  deleted: string[] = [];
  statusUpdates: { pod: string; condition?: PodCondition; nominatedNodeName?: string }[] = [];
  events: { name: string; type: string; reason: string; message: string }[] = [];
  pvUpdates: PersistentVolume[] = [];
  pvcUpdates: PersistentVolumeClaim[] = [];
  failBind?: (pod: Pod) => Error | undefined;
  /** When set, each bind waits for it before it lands (to hold bindings in flight). */
  bindGate?: Promise<void>;
  /** Bindings started and not yet finished, and the most ever at once. */
  bindsInFlight = 0;
  maxBindsInFlight = 0;

  constructor(private readonly listers?: FakeListers) {}

  async bind(pod: Pod, nodeName: string): Promise<void> {
    this.bindsInFlight++;
    this.maxBindsInFlight = Math.max(this.maxBindsInFlight, this.bindsInFlight);
    try {
      if (this.bindGate) await this.bindGate;
    } finally {
      this.bindsInFlight--;
    }
    const err = this.failBind?.(pod);
    if (err) throw err;
    this.binds.push({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, node: nodeName });
  }
  async updatePodStatus(pod: Pod, condition: PodCondition | undefined, nominatedNodeName?: string): Promise<void> {
    this.statusUpdates.push({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, condition, nominatedNodeName });
  }
  async deletePod(pod: Pod): Promise<void> {
    this.deleted.push(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
    this.listers?.pods.remove(pod);
  }
  recordEvent(regarding: { name: string }, type: 'Normal' | 'Warning', reason: string, _action: string, message: string): void {
    this.events.push({ name: regarding.name, type, reason, message });
  }
  async updatePersistentVolume(pv: PersistentVolume): Promise<void> {
    this.pvUpdates.push(pv);
    this.listers?.persistentVolumes.upsert(pv);
  }
  async updatePersistentVolumeClaim(pvc: PersistentVolumeClaim): Promise<void> {
    this.pvcUpdates.push(pvc);
    this.listers?.persistentVolumeClaims.upsert(pvc);
  }
}

/** NodeInfos for nodes, with the given (assigned) pods placed on their nodes. */
export function nodeInfos(nodes: Node[], pods: Pod[] = []): NodeInfo[] {
  return nodes.map((n) => new NodeInfo(n, ...pods.filter((p) => p.spec?.nodeName === n.metadata?.name).map((p) => new PodInfo(p))));
}

/** A default-profile Framework over a fixed snapshot, for plugin tests. */
export function testFramework(nis: NodeInfo[], o: { listers?: FakeListers; client?: FakeClient; config?: KubeSchedulerConfiguration; rand?: () => number } = {}): Framework {
  const config = o.config ?? defaultConfiguration();
  const listers = o.listers ?? fakeListers();
  const snapshot = Snapshot.of(nis);
  const profile = config.profiles[0]!;
  return new Framework({
    profileName: profile.schedulerName,
    plugins: profile.plugins,
    pluginArgs: new Map(profile.pluginConfig.map((pc) => [pc.name, pc.args ?? {}])),
    registry: inTreeRegistry(),
    listers,
    client: o.client ?? new FakeClient(listers),
    nominator: { nominatedPodsForNode: () => [] },
    clock: new FakeClock(),
    snapshot: () => snapshot,
    rand: o.rand ?? (() => 0),
  });
}

export function testHandle(nis: NodeInfo[], listers?: FakeListers): Handle {
  return testFramework(nis, { listers });
}

/** A Scheduler on fakes and a fake clock, for whole-cycle tests. */
export function testScheduler(o: { config?: KubeSchedulerConfiguration; listers?: FakeListers; rand?: () => number; maxBindingsInFlight?: number } = {}) {
  const listers = o.listers ?? fakeListers();
  const client = new FakeClient(listers);
  const clock = new FakeClock();
  const scheduler = new Scheduler({
    config: o.config ?? defaultConfiguration(),
    listers,
    client,
    clock,
    logger: newLogger('kube-scheduler', 'silent'),
    rand: o.rand ?? (() => 0),
    maxBindingsInFlight: o.maxBindingsInFlight,
  });
  return { scheduler, listers, client, clock };
}

/** Runs one plugin's PreFilter and Filter over the nodes: node name → 'ok' or its status. */
export function filterEach(
  plugin: { preFilter?: (s: import('../framework/cycle-state.js').CycleState, p: Pod, n: NodeInfo[]) => import('../framework/status.js').Status; filter: (s: import('../framework/cycle-state.js').CycleState, p: Pod, n: NodeInfo) => import('../framework/status.js').Status },
  pod: Pod,
  nis: NodeInfo[],
): Record<string, string> {
  const state = new CycleStateCtor();
  const pre = plugin.preFilter?.(state, pod, nis);
  const out: Record<string, string> = {};
  for (const ni of nis) {
    if (pre && pre.isSkip()) out[ni.name] = 'ok';
    else if (pre && !pre.isSuccess()) out[ni.name] = pre.toString();
    else {
      const s = plugin.filter(state, pod, ni);
      out[ni.name] = s.isSuccess() ? 'ok' : s.toString();
    }
  }
  return out;
}

/** Runs one Score plugin (PreScore, Score, NormalizeScore) over the nodes: node name → score. */
export function scoreEach(
  plugin: import('../framework/interface.js').ScorePlugin & Partial<import('../framework/interface.js').PreScorePlugin>,
  pod: Pod,
  nis: NodeInfo[],
): Record<string, number> {
  const state = new CycleStateCtor();
  const pre = plugin.preScore?.(state, pod, nis);
  const out: Record<string, number> = {};
  if (pre?.isSkip()) {
    for (const ni of nis) out[ni.name] = 0;
    return out;
  }
  const scores = nis.map((ni) => {
    const r = plugin.score(state, pod, ni);
    if (typeof r !== 'number') throw new Error(r.message());
    return { name: ni.name, score: r };
  });
  plugin.scoreExtensions?.()?.normalizeScore(state, pod, scores);
  for (const s of scores) out[s.name] = s.score;
  return out;
}
