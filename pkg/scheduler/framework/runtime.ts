/**
 * A scheduling profile's framework (upstream framework/runtime): the plugins of each extension
 * point in order, with score weights, and the loops that run them.
 */
import type { Clock } from '../../controller/framework/clock.js';
import type { Pod } from '../api-types.js';
import { CycleState } from './cycle-state.js';
import { expandPlugins } from '../config/expand.js';
import type { Plugins } from '../config/types.js';
import type {
  BindPlugin,
  ClusterEvent,
  EnqueueExtensions,
  FilterPlugin,
  Handle,
  Listers,
  PermitPlugin,
  Plugin,
  PluginFactory,
  PluginMetrics,
  PodNominator,
  PostBindPlugin,
  PostFilterPlugin,
  PostFilterResult,
  PreBindPlugin,
  PreEnqueuePlugin,
  PreFilterPlugin,
  PreScorePlugin,
  QueueSortPlugin,
  ReservePlugin,
  SchedulerClient,
  ScorePlugin,
  SharedLister,
  NodeScore,
} from './interface.js';
import { NodeToStatus, Status } from './status.js';
import { MAX_NODE_SCORE, podPriority, type NodeInfo, type PodInfo, type QueuedPodInfo } from './types.js';

/** The plugins enabled at each extension point, in order, as the configuration resolves them. */
export interface PluginSets {
  preEnqueue: string[];
  queueSort: string[];
  preFilter: string[];
  filter: string[];
  postFilter: string[];
  preScore: string[];
  score: { name: string; weight: number }[];
  reserve: string[];
  permit: string[];
  preBind: string[];
  bind: string[];
  postBind: string[];
}

export interface FrameworkOptions {
  profileName: string;
  /** The profile's plugins, as configured (multiPoint and per extension point, merged with defaults). */
  plugins: Plugins;
  pluginArgs: Map<string, Record<string, unknown>>;
  registry: Map<string, PluginFactory>;
  listers: Listers;
  client: SchedulerClient;
  nominator: PodNominator;
  clock: Clock;
  snapshot: () => SharedLister;
  rand?: () => number;
  metrics?: PluginMetrics;
  /** The profile's percentage of nodes to score; unset: the configuration's global one (0 there: adaptive). */
  percentageOfNodesToScore?: number;
}

/** A pod held at Permit until every waiting plugin allows it, one rejects it, or time runs out. */
export class WaitingPod {
  private readonly pending: Map<string, { cancel(): void }>;
  private resolve!: (s: Status) => void;
  readonly result: Promise<Status>;

  constructor(
    readonly pod: Pod,
    waits: Map<string, number>,
    clock: Clock,
  ) {
    this.result = new Promise((r) => (this.resolve = r));
    this.pending = new Map();
    for (const [plugin, ms] of waits) {
      this.pending.set(plugin, clock.setTimeout(() => this.reject(plugin, `rejected due to timeout after waiting ${ms / 1000}s at plugin ${plugin}`), ms));
    }
  }

  allow(plugin: string): void {
    this.pending.get(plugin)?.cancel();
    this.pending.delete(plugin);
    if (this.pending.size === 0) this.resolve(Status.success());
  }

  reject(plugin: string, msg: string): void {
    for (const t of this.pending.values()) t.cancel();
    this.pending.clear();
    this.resolve(Status.unschedulable(msg).withPlugin(plugin));
  }
}

export class Framework implements Handle {
  readonly profileName: string;
  readonly listers: Listers;
  readonly client: SchedulerClient;
  readonly nominator: PodNominator;
  readonly clock: Clock;
  readonly rand: () => number;
  readonly metrics: PluginMetrics;
  readonly percentageOfNodesToScore: number | undefined;
  private readonly snapshotFn: () => SharedLister;
  private readonly instances = new Map<string, Plugin>();
  readonly preEnqueuePlugins: PreEnqueuePlugin[];
  readonly queueSortPlugins: QueueSortPlugin[];
  readonly preFilterPlugins: PreFilterPlugin[];
  readonly filterPlugins: FilterPlugin[];
  readonly postFilterPlugins: PostFilterPlugin[];
  readonly preScorePlugins: PreScorePlugin[];
  readonly scorePlugins: { plugin: ScorePlugin; weight: number }[];
  readonly reservePlugins: ReservePlugin[];
  readonly permitPlugins: PermitPlugin[];
  readonly preBindPlugins: PreBindPlugin[];
  readonly bindPlugins: BindPlugin[];
  readonly postBindPlugins: PostBindPlugin[];
  private readonly waitingPods = new Map<string, WaitingPod>();
  /** Plugin name → the events that may make pods it rejected schedulable. */
  readonly clusterEvents = new Map<string, ClusterEvent[]>();

  constructor(o: FrameworkOptions) {
    this.profileName = o.profileName;
    this.listers = o.listers;
    this.client = o.client;
    this.nominator = o.nominator;
    this.clock = o.clock;
    this.rand = o.rand ?? Math.random;
    this.metrics = o.metrics ?? { preemptionAttempt: () => {}, preemptionVictims: () => {} };
    this.snapshotFn = o.snapshot;
    this.percentageOfNodesToScore = o.percentageOfNodesToScore;
    const instance = (name: string): Plugin => {
      let p = this.instances.get(name);
      if (!p) {
        const f = o.registry.get(name);
        if (!f) throw new Error(`plugin "${name}" does not exist`);
        p = f(o.pluginArgs.get(name), this);
        this.instances.set(name, p);
      }
      return p;
    };
    const get = <T extends Plugin>(name: string, has: (p: Plugin) => boolean, point: string): T => {
      const p = instance(name);
      if (!has(p)) throw new Error(`plugin "${name}" does not extend ${point} plugin`);
      return p as T;
    };
    const pts = expandPlugins(o.plugins, instance);
    this.preEnqueuePlugins = pts.preEnqueue.map((n) => get<PreEnqueuePlugin>(n, (p) => 'preEnqueue' in p, 'preEnqueue'));
    this.queueSortPlugins = pts.queueSort.map((n) => get<QueueSortPlugin>(n, (p) => 'less' in p, 'queueSort'));
    this.preFilterPlugins = pts.preFilter.map((n) => get<PreFilterPlugin>(n, (p) => 'preFilter' in p, 'preFilter'));
    this.filterPlugins = pts.filter.map((n) => get<FilterPlugin>(n, (p) => 'filter' in p, 'filter'));
    this.postFilterPlugins = pts.postFilter.map((n) => get<PostFilterPlugin>(n, (p) => 'postFilter' in p, 'postFilter'));
    this.preScorePlugins = pts.preScore.map((n) => get<PreScorePlugin>(n, (p) => 'preScore' in p, 'preScore'));
    this.scorePlugins = pts.score.map((s) => ({ plugin: get<ScorePlugin>(s.name, (p) => 'score' in p, 'score'), weight: s.weight }));
    this.reservePlugins = pts.reserve.map((n) => get<ReservePlugin>(n, (p) => 'reserve' in p, 'reserve'));
    this.permitPlugins = pts.permit.map((n) => get<PermitPlugin>(n, (p) => 'permit' in p, 'permit'));
    this.preBindPlugins = pts.preBind.map((n) => get<PreBindPlugin>(n, (p) => 'preBind' in p, 'preBind'));
    this.bindPlugins = pts.bind.map((n) => get<BindPlugin>(n, (p) => 'bind' in p, 'bind'));
    this.postBindPlugins = pts.postBind.map((n) => get<PostBindPlugin>(n, (p) => 'postBind' in p, 'postBind'));
    if (this.queueSortPlugins.length !== 1) throw new Error(`one queue sort plugin required for profile with scheduler name "${this.profileName}", got ${this.queueSortPlugins.length}`);
    if (this.bindPlugins.length === 0) throw new Error(`at least one bind plugin is needed for profile with scheduler name "${this.profileName}"`);
    for (const [name, p] of this.instances) {
      if ('eventsToRegister' in p) this.clusterEvents.set(name, (p as unknown as EnqueueExtensions).eventsToRegister());
    }
  }

  snapshot(): SharedLister {
    return this.snapshotFn();
  }

  plugin(name: string): Plugin | undefined {
    return this.instances.get(name);
  }

  pluginNames(): string[] {
    return [...this.instances.keys()];
  }

  queueSortLess(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    return this.queueSortPlugins[0]!.less(a, b);
  }

  runPreEnqueuePlugins(pod: Pod): Status {
    for (const p of this.preEnqueuePlugins) {
      const s = p.preEnqueue(pod);
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.success();
  }

  /**
   * Runs every PreFilter. A rejection ends the attempt for all nodes; Skip turns the plugin's
   * Filter off for this attempt.
   */
  runPreFilterPlugins(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    for (const p of this.preFilterPlugins) {
      const s = p.preFilter(state, pod, nodes);
      if (s.isSkip()) {
        state.skipFilterPlugins.add(p.name);
        continue;
      }
      if (!s.isSuccess()) return s.isRejected() ? s.withPlugin(p.name) : new Status('Error', [`running PreFilter plugin "${p.name}": ${s.message()}`], s.error).withPlugin(p.name);
    }
    return Status.success();
  }

  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    for (const p of this.preFilterPlugins) {
      if (state.skipFilterPlugins.has(p.name)) continue;
      const ext = p.preFilterExtensions?.();
      if (!ext) continue;
      const s = ext.addPod(state, podToSchedule, podInfoToAdd, nodeInfo);
      if (!s.isSuccess()) return new Status('Error', [`running AddPod on PreFilter plugin "${p.name}": ${s.message()}`]).withPlugin(p.name);
    }
    return Status.success();
  }

  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    for (const p of this.preFilterPlugins) {
      if (state.skipFilterPlugins.has(p.name)) continue;
      const ext = p.preFilterExtensions?.();
      if (!ext) continue;
      const s = ext.removePod(state, podToSchedule, podInfoToRemove, nodeInfo);
      if (!s.isSuccess()) return new Status('Error', [`running RemovePod on PreFilter plugin "${p.name}": ${s.message()}`]).withPlugin(p.name);
    }
    return Status.success();
  }

  /** Runs the Filters in order; the first that does not pass decides the node's status. */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    for (const p of this.filterPlugins) {
      if (state.skipFilterPlugins.has(p.name)) continue;
      const s = p.filter(state, pod, nodeInfo);
      if (!s.isSuccess()) {
        if (!s.isRejected()) return new Status('Error', [`running "${p.name}" filter plugin: ${s.message()}`], s.error).withPlugin(p.name);
        return s.withPlugin(p.name);
      }
    }
    return Status.success();
  }

  /**
   * Filters twice when pods of higher or equal priority are nominated to the node: once with
   * them counted (they must keep their room), once without (affinity to them must not count).
   * Both must pass (upstream RunFilterPluginsWithNominatedPods).
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const onNode = this.nominator.nominatedPodsForNode(nodeInfo.name);
    if (onNode.length === 0) return this.runFilterPlugins(state, pod, nodeInfo);
    const nominated = onNode.filter((pi) => podPriority(pi.pod) >= podPriority(pod) && pi.uid !== pod.metadata?.uid);
    if (nominated.length === 0) return this.runFilterPlugins(state, pod, nodeInfo);
    const stateWith = state.clone();
    const infoWith = nodeInfo.clone();
    for (const pi of nominated) {
      infoWith.addPod(pi);
      const s = this.runPreFilterExtensionAddPod(stateWith, pod, pi, infoWith);
      if (!s.isSuccess()) return s;
    }
    const s = this.runFilterPlugins(stateWith, pod, infoWith);
    if (!s.isSuccess()) return s;
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  /** PostFilter (preemption): the first plugin that succeeds decides. */
  async runPostFilterPlugins(state: CycleState, pod: Pod, m: NodeToStatus): Promise<{ result?: PostFilterResult; status: Status }> {
    let result: PostFilterResult | undefined;
    const reasons: string[] = [];
    for (const p of this.postFilterPlugins) {
      const r = await p.postFilter(state, pod, m);
      if (r.status.isSuccess()) return { result: r.result, status: r.status.withPlugin(p.name) };
      if (!r.status.isRejected()) return { result: r.result, status: r.status.withPlugin(p.name) };
      if (r.result) result = r.result;
      reasons.push(...r.status.reasons);
    }
    return { result, status: Status.unschedulable(...reasons) };
  }

  hasFilterPlugins(): boolean {
    return this.filterPlugins.length > 0;
  }

  hasScorePlugins(): boolean {
    return this.scorePlugins.length > 0;
  }

  hasPostFilterPlugins(): boolean {
    return this.postFilterPlugins.length > 0;
  }

  runPreScorePlugins(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    for (const p of this.preScorePlugins) {
      const s = p.preScore(state, pod, nodes);
      if (s.isSkip()) {
        state.skipScorePlugins.add(p.name);
        continue;
      }
      if (!s.isSuccess()) return new Status('Error', [`running PreScore plugin "${p.name}": ${s.message()}`], s.error).withPlugin(p.name);
    }
    return Status.success();
  }

  /**
   * Scores every node with every Score plugin, normalizes each plugin's scores to [0, 100],
   * and sums them times the plugin weights.
   */
  runScorePlugins(state: CycleState, pod: Pod, nodes: NodeInfo[]): { totals: NodeScore[]; byPlugin: Map<string, NodeScore[]> } | Status {
    const byPlugin = new Map<string, NodeScore[]>();
    const active = this.scorePlugins.filter((s) => !state.skipScorePlugins.has(s.plugin.name));
    for (const { plugin } of active) {
      const scores: NodeScore[] = new Array(nodes.length);
      for (let i = 0; i < nodes.length; i++) {
        const r = plugin.score(state, pod, nodes[i]!);
        if (r instanceof Status) return new Status('Error', [`running Score plugin "${plugin.name}": ${r.message()}`], r.error).withPlugin(plugin.name);
        scores[i] = { name: nodes[i]!.name, score: r };
      }
      const ext = plugin.scoreExtensions?.();
      if (ext) {
        const s = ext.normalizeScore(state, pod, scores);
        if (!s.isSuccess()) return new Status('Error', [`running Normalize on Score plugin "${plugin.name}": ${s.message()}`]).withPlugin(plugin.name);
      }
      byPlugin.set(plugin.name, scores);
    }
    const totals: NodeScore[] = nodes.map((n) => ({ name: n.name, score: 0 }));
    for (const { plugin, weight } of active) {
      const scores = byPlugin.get(plugin.name)!;
      for (let i = 0; i < scores.length; i++) {
        const sc = scores[i]!.score;
        if (sc > MAX_NODE_SCORE || sc < 0) return Status.error(new Error(`plugin "${plugin.name}" returns an invalid score ${sc}, it should in the range of [0, ${MAX_NODE_SCORE}] after normalizing`));
        totals[i]!.score += sc * weight;
      }
    }
    return { totals, byPlugin };
  }

  runReservePluginsReserve(state: CycleState, pod: Pod, nodeName: string): Status {
    for (const p of this.reservePlugins) {
      const s = p.reserve(state, pod, nodeName);
      if (!s.isSuccess()) return (s.isRejected() ? s : new Status('Error', [`running Reserve plugin "${p.name}": ${s.message()}`], s.error)).withPlugin(p.name);
    }
    return Status.success();
  }

  /** Unreserve runs in reverse order, and never fails. */
  runReservePluginsUnreserve(state: CycleState, pod: Pod, nodeName: string): void {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) this.reservePlugins[i]!.unreserve(state, pod, nodeName);
  }

  runPermitPlugins(state: CycleState, pod: Pod, nodeName: string): Status {
    const waits = new Map<string, number>();
    for (const p of this.permitPlugins) {
      const { status, timeoutMs } = p.permit(state, pod, nodeName);
      if (status.code === 'Wait') {
        waits.set(p.name, Math.min(timeoutMs ?? 15 * 60_000, 15 * 60_000));
        continue;
      }
      if (!status.isSuccess()) return (status.isRejected() ? status : new Status('Error', [`running Permit plugin "${p.name}": ${status.message()}`])).withPlugin(p.name);
    }
    if (waits.size) {
      this.waitingPods.set(pod.metadata?.uid ?? '', new WaitingPod(pod, waits, this.clock));
      return new Status('Wait');
    }
    return Status.success();
  }

  getWaitingPod(uid: string): WaitingPod | undefined {
    return this.waitingPods.get(uid);
  }

  /** Resolves once a pod that Permit held is allowed or rejected (at once if it was not held). */
  async waitOnPermit(pod: Pod): Promise<Status> {
    const uid = pod.metadata?.uid ?? '';
    const wp = this.waitingPods.get(uid);
    if (!wp) return Status.success();
    try {
      return await wp.result;
    } finally {
      this.waitingPods.delete(uid);
    }
  }

  async runPreBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    for (const p of this.preBindPlugins) {
      const s = await p.preBind(state, pod, nodeName);
      if (s.isSkip()) continue;
      if (!s.isSuccess()) return (s.isRejected() ? s : new Status('Error', [`running PreBind plugin "${p.name}": ${s.message()}`], s.error)).withPlugin(p.name);
    }
    return Status.success();
  }

  async runBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    for (const p of this.bindPlugins) {
      const s = await p.bind(state, pod, nodeName);
      if (s.isSkip()) continue;
      if (!s.isSuccess()) return (s.isRejected() ? s : new Status('Error', [`binding rejected: running Bind plugin "${p.name}": ${s.message()}`], s.error)).withPlugin(p.name);
      return s.withPlugin(p.name);
    }
    return new Status('Skip');
  }

  runPostBindPlugins(state: CycleState, pod: Pod, nodeName: string): void {
    for (const p of this.postBindPlugins) p.postBind(state, pod, nodeName);
  }
}

export { CycleState };
