/**
 * PodTopologySpread: keeps matching pods spread across topology domains. DoNotSchedule
 * constraints filter (skew = matching pods in the node's domain + self − global minimum, at most
 * maxSkew, with minDomains); ScheduleAnyway constraints score. Pods without constraints get the
 * cluster defaults (hostname maxSkew 3 and zone maxSkew 5, ScheduleAnyway), selecting the pods
 * of the same Services, ReplicaSets, StatefulSets or ReplicationControllers.
 */
import { labelSelectorAsSelector, selectorFromSet, Selector, type Requirement } from '../../api/labels.js';
import type { Node, Pod, TopologySpreadConstraint } from '../api-types.js';
import {
  ActionType,
  type ClusterEvent,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type NodeScore,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScoreExtensions,
  type ScorePlugin,
} from '../framework/interface.js';
import type { CycleState, StateData } from '../framework/cycle-state.js';
import { Status } from '../framework/status.js';
import { MAX_NODE_SCORE, type NodeInfo, type PodInfo } from '../framework/types.js';
import { podMatchesNodeSelectorAndAffinityTerms } from '../util/node-affinity.js';
import { doNotScheduleTaints, findMatchingUntoleratedTaint } from '../util/taints.js';
import { Names } from './names.js';

export const ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const ErrReasonNodeLabelNotMatch = ErrReasonConstraintsNotMatch + ' (missing required label)';

const HOSTNAME = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

export const systemDefaultConstraints: TopologySpreadConstraint[] = [
  { topologyKey: HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: ZONE, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

/** PodTopologySpreadArgs (kubescheduler.config.k8s.io/v1). */
export interface PodTopologySpreadArgs {
  defaultConstraints?: TopologySpreadConstraint[];
  /** System (the built-in defaults) or List (defaultConstraints). */
  defaultingType?: 'System' | 'List';
}

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  nodeAffinityPolicy: 'Honor' | 'Ignore';
  nodeTaintsPolicy: 'Honor' | 'Ignore';
}

const preFilterKey = 'PreFilter' + Names.PodTopologySpread;
const preScoreKey = 'PreScore' + Names.PodTopologySpread;

function nodeHasAllKeys(node: Node, cs: Constraint[]): boolean {
  const l = node.metadata?.labels ?? {};
  return cs.every((c) => c.topologyKey in l);
}

/** nodeAffinityPolicy and nodeTaintsPolicy: which nodes count when measuring the spread. */
function matchNodeInclusionPolicies(c: Constraint, pod: Pod, node: Node): boolean {
  if (c.nodeAffinityPolicy === 'Honor' && !podMatchesNodeSelectorAndAffinityTerms(pod, node)) return false;
  if (c.nodeTaintsPolicy === 'Honor' && findMatchingUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, doNotScheduleTaints)) return false;
  return true;
}

/** Matching pods on the node in the pod's namespace; terminating pods do not count. */
function countPodsMatchSelector(pods: PodInfo[], selector: Selector, ns: string): number {
  let n = 0;
  for (const p of pods) {
    const m = p.pod.metadata;
    if (m?.deletionTimestamp || m?.namespace !== ns) continue;
    if (selector.matches(m?.labels)) n++;
  }
  return n;
}

/** The two smallest match counts of a constraint, kept as pods are added and removed. */
class CriticalPaths {
  paths: [{ value: string; num: number }, { value: string; num: number }] = [
    { value: '', num: Number.MAX_SAFE_INTEGER },
    { value: '', num: Number.MAX_SAFE_INTEGER },
  ];

  update(value: string, num: number): void {
    const p = this.paths;
    const existing = value === p[0].value ? p[0] : value === p[1].value ? p[1] : undefined;
    if (existing) {
      existing.num = num;
      if (p[0].num > p[1].num) this.paths = [p[1], p[0]];
    } else if (num < p[0].num) {
      this.paths = [{ value, num }, { ...p[0] }];
    } else if (num < p[1].num) {
      p[1] = { value, num };
    }
  }

  copy(): CriticalPaths {
    const c = new CriticalPaths();
    c.paths = [{ ...this.paths[0] }, { ...this.paths[1] }];
    return c;
  }
}

class PreFilterState implements StateData {
  constructor(
    readonly constraints: Constraint[],
    readonly criticalPaths: CriticalPaths[],
    /** Per constraint: topology value → matching pods in that domain. */
    readonly tpValueToMatchNum: Map<string, number>[],
  ) {}

  clone(): StateData {
    return new PreFilterState(
      this.constraints,
      this.criticalPaths.map((c) => c.copy()),
      this.tpValueToMatchNum.map((m) => new Map(m)),
    );
  }

  /** With fewer eligible domains than minDomains, the global minimum counts as 0. */
  minMatchNum(i: number): number {
    const c = this.constraints[i]!;
    if (this.tpValueToMatchNum[i]!.size < c.minDomains) return 0;
    return this.criticalPaths[i]!.paths[0].num;
  }
}

class ScoreState implements StateData {
  constructor(
    readonly constraints: Constraint[],
    readonly ignoredNodes: Set<string>,
    readonly topologyValueToPodCounts: Map<string, number>[],
    readonly topologyNormalizingWeight: number[],
  ) {}
  clone(): StateData {
    return this;
  }
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions, EnqueueExtensions {
  readonly name = Names.PodTopologySpread;
  private readonly defaultConstraints: TopologySpreadConstraint[];
  private readonly systemDefaulted: boolean;

  constructor(
    private readonly handle: Handle,
    args: PodTopologySpreadArgs = {},
  ) {
    const type = args.defaultingType ?? 'System';
    if (type === 'System' && args.defaultConstraints?.length) throw new Error('defaultConstraints: Invalid value: when .defaultingType is "System", .defaultConstraints must be empty');
    this.systemDefaulted = type === 'System';
    this.defaultConstraints = type === 'System' ? systemDefaultConstraints : (args.defaultConstraints ?? []);
  }

  private filterConstraints(cs: TopologySpreadConstraint[], podLabels: Record<string, string> | undefined, action: string): Constraint[] {
    const out: Constraint[] = [];
    for (const c of cs) {
      if (c.whenUnsatisfiable !== action) continue;
      let selector = labelSelectorAsSelector(c.labelSelector);
      const extra: Record<string, string> = {};
      for (const k of c.matchLabelKeys ?? []) if (podLabels && k in podLabels) extra[k] = podLabels[k]!;
      if (Object.keys(extra).length) selector = new Selector([...selectorFromSet(extra).requirements, ...selector.requirements]);
      out.push({
        maxSkew: c.maxSkew,
        topologyKey: c.topologyKey,
        selector,
        minDomains: c.minDomains ?? 1,
        nodeAffinityPolicy: (c.nodeAffinityPolicy as 'Honor' | 'Ignore' | undefined) ?? 'Honor',
        nodeTaintsPolicy: (c.nodeTaintsPolicy as 'Honor' | 'Ignore' | undefined) ?? 'Ignore',
      });
    }
    return out;
  }

  /** The selector shared by the Services and the controller that select or own the pod. */
  defaultSelector(pod: Pod): Selector {
    const ns = pod.metadata?.namespace ?? '';
    const labels = pod.metadata?.labels ?? {};
    const set: Record<string, string> = {};
    for (const svc of this.handle.listers.services.list()) {
      if (svc.metadata?.namespace !== ns || !svc.spec?.selector) continue;
      if (selectorFromSet(svc.spec.selector).matches(labels)) Object.assign(set, svc.spec.selector);
    }
    let reqs: Requirement[] = selectorFromSet(set).requirements;
    const owner = (pod.metadata?.ownerReferences ?? []).find((o) => o.controller);
    if (owner) {
      if (owner.kind === 'ReplicationController' && owner.apiVersion === 'v1') {
        const rc = this.handle.listers.replicationControllers.get(ns, owner.name);
        if (rc?.spec?.selector) {
          Object.assign(set, rc.spec.selector);
          reqs = selectorFromSet(set).requirements;
        }
      } else if ((owner.kind === 'ReplicaSet' || owner.kind === 'StatefulSet') && owner.apiVersion === 'apps/v1') {
        const o = owner.kind === 'ReplicaSet' ? this.handle.listers.replicaSets.get(ns, owner.name) : this.handle.listers.statefulSets.get(ns, owner.name);
        if (o?.spec?.selector) {
          try {
            reqs = [...reqs, ...labelSelectorAsSelector(o.spec.selector).requirements];
          } catch {
            // An invalid selector adds nothing.
          }
        }
      }
    }
    return new Selector(reqs);
  }

  private defaultConstraintsFor(pod: Pod, action: string): Constraint[] {
    const cs = this.filterConstraints(this.defaultConstraints, pod.metadata?.labels, action);
    if (cs.length === 0) return [];
    const selector = this.defaultSelector(pod);
    if (selector.isEmpty()) return [];
    return cs.map((c) => ({ ...c, selector }));
  }

  private constraintsFor(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
    const own = pod.spec?.topologySpreadConstraints ?? [];
    return own.length ? this.filterConstraints(own, pod.metadata?.labels, action) : this.defaultConstraintsFor(pod, action);
  }

  preFilter(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    let constraints: Constraint[];
    try {
      constraints = this.constraintsFor(pod, 'DoNotSchedule');
    } catch (e) {
      return Status.error(new Error(`get constraints from pod: ${(e as Error).message}`));
    }
    if (constraints.length === 0) return Status.skip();
    const ns = pod.metadata?.namespace ?? '';
    const counts = constraints.map(() => new Map<string, number>());
    for (const ni of nodes) {
      const node = ni.node;
      if (!node || !nodeHasAllKeys(node, constraints)) continue;
      constraints.forEach((c, i) => {
        if (!matchNodeInclusionPolicies(c, pod, node)) return;
        const v = node.metadata!.labels![c.topologyKey]!;
        counts[i]!.set(v, (counts[i]!.get(v) ?? 0) + countPodsMatchSelector(ni.pods, c.selector, ns));
      });
    }
    const paths = counts.map((m) => {
      const cp = new CriticalPaths();
      for (const [v, n] of m) cp.update(v, n);
      return cp;
    });
    state.write(preFilterKey, new PreFilterState(constraints, paths, counts));
    return Status.success();
  }

  preFilterExtensions(): PreFilterExtensions {
    return {
      addPod: (state, pod, pi, nodeInfo) => this.updateWithPod(state, pi.pod, pod, nodeInfo, 1),
      removePod: (state, pod, pi, nodeInfo) => this.updateWithPod(state, pi.pod, pod, nodeInfo, -1),
    };
  }

  private updateWithPod(state: CycleState, updated: Pod, preemptor: Pod, nodeInfo: NodeInfo, delta: number): Status {
    const s = state.read<PreFilterState>(preFilterKey);
    if (!s) return Status.error(new Error(`reading "${preFilterKey}" from cycleState: not found`));
    const node = nodeInfo.node;
    if (!node || updated.metadata?.namespace !== preemptor.metadata?.namespace || !nodeHasAllKeys(node, s.constraints)) return Status.success();
    s.constraints.forEach((c, i) => {
      if (!c.selector.matches(updated.metadata?.labels)) return;
      if (!matchNodeInclusionPolicies(c, preemptor, node)) return;
      const v = node.metadata!.labels![c.topologyKey]!;
      const n = (s.tpValueToMatchNum[i]!.get(v) ?? 0) + delta;
      s.tpValueToMatchNum[i]!.set(v, n);
      s.criticalPaths[i]!.update(v, n);
    });
    return Status.success();
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const s = state.read<PreFilterState>(preFilterKey);
    if (!s) return Status.error(new Error(`reading "${preFilterKey}" from cycleState: not found`));
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const v = labels[c.topologyKey];
      if (v === undefined) return Status.unresolvable(ErrReasonNodeLabelNotMatch);
      const self = c.selector.matches(pod.metadata?.labels) ? 1 : 0;
      const skew = (s.tpValueToMatchNum[i]!.get(v) ?? 0) + self - s.minMatchNum(i);
      if (skew > c.maxSkew) return Status.unschedulable(ErrReasonConstraintsNotMatch);
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: Pod, filtered: NodeInfo[]): Status {
    const all = this.handle.snapshot().list();
    if (all.length === 0) return Status.skip();
    let constraints: Constraint[];
    try {
      constraints = this.constraintsFor(pod, 'ScheduleAnyway');
    } catch (e) {
      return Status.error(new Error(`calculating preScoreState: ${(e as Error).message}`));
    }
    if (constraints.length === 0) return Status.skip();
    // Only the pod's own (or configured List) constraints need every key on a node; the system
    // defaults still spread by hostname on nodes without a zone label.
    const requireAll = (pod.spec?.topologySpreadConstraints?.length ?? 0) > 0 || !this.systemDefaulted;
    const ignored = new Set<string>();
    const counts = constraints.map(() => new Map<string, number>());
    const topoSize = constraints.map(() => 0);
    for (const ni of filtered) {
      const node = ni.node!;
      if (requireAll && !nodeHasAllKeys(node, constraints)) {
        ignored.add(ni.name);
        continue;
      }
      constraints.forEach((c, i) => {
        if (c.topologyKey === HOSTNAME) return;
        const v = node.metadata?.labels?.[c.topologyKey] ?? '';
        if (!counts[i]!.has(v)) {
          counts[i]!.set(v, 0);
          topoSize[i]!++;
        }
      });
    }
    const weights = constraints.map((c, i) => Math.log((c.topologyKey === HOSTNAME ? filtered.length - ignored.size : topoSize[i]!) + 2));
    const ns = pod.metadata?.namespace ?? '';
    for (const ni of all) {
      const node = ni.node;
      if (!node) continue;
      if (requireAll && !nodeHasAllKeys(node, constraints)) continue;
      constraints.forEach((c, i) => {
        if (!matchNodeInclusionPolicies(c, pod, node)) return;
        const v = node.metadata?.labels?.[c.topologyKey] ?? '';
        const cur = counts[i]!.get(v);
        if (cur === undefined) return;
        counts[i]!.set(v, cur + countPodsMatchSelector(ni.pods, c.selector, ns));
      });
    }
    state.write(preScoreKey, new ScoreState(constraints, ignored, counts, weights));
    return Status.success();
  }

  /** Matching pods in the node's domains, weighted; fewer is better (reversed in normalize). */
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status {
    const s = state.read<ScoreState>(preScoreKey);
    if (!s) return Status.error(new Error(`reading "${preScoreKey}" from cycleState: not found`));
    if (s.ignoredNodes.has(nodeInfo.name)) return 0;
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    let score = 0;
    s.constraints.forEach((c, i) => {
      const v = labels[c.topologyKey];
      if (v === undefined) return;
      const cnt = c.topologyKey === HOSTNAME ? countPodsMatchSelector(nodeInfo.pods, c.selector, pod.metadata?.namespace ?? '') : (s.topologyValueToPodCounts[i]!.get(v) ?? 0);
      score += cnt * s.topologyNormalizingWeight[i]! + (c.maxSkew - 1);
    });
    return Math.round(score);
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
    const s = state.read<ScoreState>(preScoreKey);
    if (!s) return Status.success();
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    const invalid = new Set<number>();
    scores.forEach((x, i) => {
      if (s.ignoredNodes.has(x.name)) {
        invalid.add(i);
        return;
      }
      if (x.score < min) min = x.score;
      if (x.score > max) max = x.score;
    });
    scores.forEach((x, i) => {
      if (invalid.has(i)) x.score = 0;
      else if (max === 0) x.score = MAX_NODE_SCORE;
      else x.score = Math.trunc((MAX_NODE_SCORE * (max + min - x.score)) / max);
    });
    return Status.success();
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Pod', actions: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete },
      { resource: 'Node', actions: ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint },
    ];
  }
}
