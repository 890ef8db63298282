/**
 * InterPodAffinity: required pod affinity and anti-affinity by topology domain, the anti-affinity
 * of pods already running (which also keeps the new pod away), and preferred terms of both the
 * new and the existing pods as a score.
 *
 * Counts are kept per topology pair `(topologyKey, value)`, computed once in PreFilter/PreScore.
 */
import type { Pod } from '../api-types.js';
import { Selector } from '../../api/labels.js';
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
import { MAX_NODE_SCORE, PodInfo, termMatches, type AffinityTerm, type NodeInfo, type WeightedAffinityTerm } from '../framework/types.js';
import type { Node } from '../api-types.js';
import { Names } from './names.js';

export const ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ErrReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const ErrReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

export interface InterPodAffinityArgs {
  hardPodAffinityWeight?: number;
  ignorePreferredTermsOfExistingPods?: boolean;
}

const preFilterKey = 'PreFilter' + Names.InterPodAffinity;
const preScoreKey = 'PreScore' + Names.InterPodAffinity;

const pairKey = (k: string, v: string) => `${k}\x00${v}`;

/** Pod counts per topology pair. */
class TopologyCounts extends Map<string, number> {
  bump(node: Node, key: string, by: number): void {
    const v = node.metadata?.labels?.[key];
    if (v === undefined) return;
    const k = pairKey(key, v);
    const n = (this.get(k) ?? 0) + by;
    if (n === 0) this.delete(k);
    else this.set(k, n);
  }

  /** Affinity: the pod must match every term; then each term's pair counts it. */
  addAffinityTerms(pod: Pod, node: Node, terms: AffinityTerm[], by: number): void {
    if (podMatchesAllAffinityTerms(terms, pod)) for (const t of terms) this.bump(node, t.topologyKey, by);
  }

  /** Anti-affinity: each term the pod matches counts on its own. */
  addAntiAffinityTerms(pod: Pod, nsLabels: Record<string, string> | undefined, node: Node, terms: AffinityTerm[], by: number): void {
    for (const t of terms) if (termMatches(t, pod, nsLabels)) this.bump(node, t.topologyKey, by);
  }

  copy(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, v] of this) c.set(k, v);
    return c;
  }
}

function podMatchesAllAffinityTerms(terms: AffinityTerm[], pod: Pod): boolean {
  if (terms.length === 0) return false;
  return terms.every((t) => termMatches(t, pod, undefined));
}

class PreFilterState implements StateData {
  constructor(
    readonly podInfo: AffinityView,
    readonly namespaceLabels: Record<string, string> | undefined,
    /** Pairs where existing pods' required anti-affinity selects the incoming pod. */
    readonly existingAntiAffinityCounts: TopologyCounts,
    /** Pairs with pods matching all of the incoming pod's required affinity terms. */
    readonly affinityCounts: TopologyCounts,
    /** Pairs with pods matching the incoming pod's required anti-affinity terms. */
    readonly antiAffinityCounts: TopologyCounts,
  ) {}

  clone(): StateData {
    return new PreFilterState(this.podInfo, this.namespaceLabels, this.existingAntiAffinityCounts.copy(), this.affinityCounts.copy(), this.antiAffinityCounts.copy());
  }

  updateWithPod(pi: PodInfo, node: Node, by: number): void {
    this.existingAntiAffinityCounts.addAntiAffinityTerms(this.podInfo.pod, this.namespaceLabels, node, pi.requiredAntiAffinityTerms, by);
    this.affinityCounts.addAffinityTerms(pi.pod, node, this.podInfo.requiredAffinityTerms, by);
    this.antiAffinityCounts.addAntiAffinityTerms(pi.pod, undefined, node, this.podInfo.requiredAntiAffinityTerms, by);
  }
}

/** The incoming pod's terms, with namespace selectors resolved into namespace names. */
interface AffinityView {
  pod: Pod;
  requiredAffinityTerms: AffinityTerm[];
  requiredAntiAffinityTerms: AffinityTerm[];
  preferredAffinityTerms: WeightedAffinityTerm[];
  preferredAntiAffinityTerms: WeightedAffinityTerm[];
}

class ScoreState implements StateData {
  constructor(readonly topologyScore: Map<string, Map<string, number>>) {}
  clone(): StateData {
    return this;
  }
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions, EnqueueExtensions {
  readonly name = Names.InterPodAffinity;
  private readonly hardPodAffinityWeight: number;
  private readonly ignorePreferredTermsOfExistingPods: boolean;

  constructor(
    private readonly handle: Handle,
    args: InterPodAffinityArgs = {},
  ) {
    this.hardPodAffinityWeight = args.hardPodAffinityWeight ?? 1;
    this.ignorePreferredTermsOfExistingPods = args.ignorePreferredTermsOfExistingPods ?? false;
  }

  private nsLabels(ns: string): Record<string, string> | undefined {
    return this.handle.listers.namespaces.get(undefined, ns)?.metadata?.labels;
  }

  /** Terms with a namespace selector also cover the namespaces it selects now, by name. */
  private mergeNamespaces<T extends AffinityTerm>(t: T): T {
    // An empty selector ({}) selects every namespace and a missing one none: both stay as they are.
    if (t.namespaceSelector.isEmpty()) return t;
    const namespaces = new Set(t.namespaces);
    for (const ns of this.handle.listers.namespaces.list()) if (t.namespaceSelector.matches(ns.metadata?.labels)) namespaces.add(ns.metadata?.name ?? '');
    return { ...t, namespaces, namespaceSelector: Selector.nothing() };
  }

  private view(pod: Pod, pi: PodInfo): AffinityView {
    return {
      pod,
      requiredAffinityTerms: pi.requiredAffinityTerms.map((t) => this.mergeNamespaces(t)),
      requiredAntiAffinityTerms: pi.requiredAntiAffinityTerms.map((t) => this.mergeNamespaces(t)),
      preferredAffinityTerms: pi.preferredAffinityTerms.map((t) => this.mergeNamespaces(t)),
      preferredAntiAffinityTerms: pi.preferredAntiAffinityTerms.map((t) => this.mergeNamespaces(t)),
    };
  }

  preFilter(state: CycleState, pod: Pod): Status {
    const pi = new PodInfo(pod);
    if (pi.parseError) return Status.error(new Error(`parsing pod: ${pi.parseError.message}`));
    const snap = this.handle.snapshot();
    const withAnti = snap.havePodsWithRequiredAntiAffinityList();
    if (pi.requiredAffinityTerms.length === 0 && pi.requiredAntiAffinityTerms.length === 0 && withAnti.length === 0) return Status.skip();
    const view = this.view(pod, pi);
    const nsLabels = this.nsLabels(pod.metadata?.namespace ?? '');
    const existing = new TopologyCounts();
    for (const ni of withAnti) {
      if (!ni.node) continue;
      for (const ep of ni.podsWithRequiredAntiAffinity) existing.addAntiAffinityTerms(pod, nsLabels, ni.node, ep.requiredAntiAffinityTerms, 1);
    }
    const affinity = new TopologyCounts();
    const anti = new TopologyCounts();
    if (view.requiredAffinityTerms.length || view.requiredAntiAffinityTerms.length) {
      for (const ni of snap.list()) {
        if (!ni.node) continue;
        for (const ep of ni.pods) {
          affinity.addAffinityTerms(ep.pod, ni.node, view.requiredAffinityTerms, 1);
          anti.addAntiAffinityTerms(ep.pod, undefined, ni.node, view.requiredAntiAffinityTerms, 1);
        }
      }
    }
    state.write(preFilterKey, new PreFilterState(view, nsLabels, existing, affinity, anti));
    return Status.success();
  }

  preFilterExtensions(): PreFilterExtensions {
    return {
      addPod: (state, _pod, pi, nodeInfo) => this.updateState(state, pi, nodeInfo, 1),
      removePod: (state, _pod, pi, nodeInfo) => this.updateState(state, pi, nodeInfo, -1),
    };
  }

  private updateState(state: CycleState, pi: PodInfo, nodeInfo: NodeInfo, by: number): Status {
    const s = state.read<PreFilterState>(preFilterKey);
    if (!s) return Status.error(new Error(`reading "${preFilterKey}" from cycleState: not found`));
    if (nodeInfo.node) s.updateWithPod(pi, nodeInfo.node, by);
    return Status.success();
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
    const s = state.read<PreFilterState>(preFilterKey);
    if (!s) return Status.error(new Error(`reading "${preFilterKey}" from cycleState: not found`));
    const node = nodeInfo.node;
    if (!node) return Status.error(new Error('node not found'));
    const labels = node.metadata?.labels ?? {};
    if (!this.satisfyPodAffinity(s, labels)) return Status.unresolvable(ErrReasonAffinityRulesNotMatch);
    if (s.antiAffinityCounts.size > 0) {
      for (const t of s.podInfo.requiredAntiAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined && (s.antiAffinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) > 0) return Status.unschedulable(ErrReasonAntiAffinityRulesNotMatch);
      }
    }
    if (s.existingAntiAffinityCounts.size > 0) {
      for (const [k, v] of Object.entries(labels)) if ((s.existingAntiAffinityCounts.get(pairKey(k, v)) ?? 0) > 0) return Status.unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch);
    }
    return Status.success();
  }

  private satisfyPodAffinity(s: PreFilterState, labels: Record<string, string>): boolean {
    let podsExist = true;
    for (const t of s.podInfo.requiredAffinityTerms) {
      const v = labels[t.topologyKey];
      // The node must carry every term's topology key.
      if (v === undefined) return false;
      if ((s.affinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
    }
    if (podsExist) return true;
    // The first pod of a group with affinity to itself must not wait forever: if no pod
    // anywhere matches and the pod matches its own terms, any node with the keys will do.
    return s.affinityCounts.size === 0 && podMatchesAllAffinityTerms(s.podInfo.requiredAffinityTerms, s.podInfo.pod);
  }

  preScore(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    if (nodes.length === 0) return Status.skip();
    const a = pod.spec?.affinity;
    const hasConstraints = !!(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length || a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length);
    if (this.ignorePreferredTermsOfExistingPods && !hasConstraints) return Status.skip();
    const snap = this.handle.snapshot();
    const all = hasConstraints ? snap.list() : snap.havePodsWithAffinityList();
    const pi = new PodInfo(pod);
    if (pi.parseError) return Status.error(new Error(`parsing pod: ${pi.parseError.message}`));
    const view = this.view(pod, pi);
    const nsLabels = this.nsLabels(pod.metadata?.namespace ?? '');
    const scores = new Map<string, Map<string, number>>();
    const add = (t: AffinityTerm, weight: number, target: Pod, targetNs: Record<string, string> | undefined, node: Node) => {
      const v = node.metadata?.labels?.[t.topologyKey];
      if (v === undefined || !termMatches(t, target, targetNs)) return;
      let m = scores.get(t.topologyKey);
      if (!m) scores.set(t.topologyKey, (m = new Map()));
      m.set(v, (m.get(v) ?? 0) + weight);
    };
    for (const ni of all) {
      const node = ni.node;
      if (!node || Object.keys(node.metadata?.labels ?? {}).length === 0) continue;
      for (const ep of hasConstraints ? ni.pods : ni.podsWithAffinity) {
        for (const t of view.preferredAffinityTerms) add(t, t.weight, ep.pod, undefined, node);
        for (const t of view.preferredAntiAffinityTerms) add(t, -t.weight, ep.pod, undefined, node);
        if (this.hardPodAffinityWeight > 0) for (const t of ep.requiredAffinityTerms) add(t, this.hardPodAffinityWeight, pod, nsLabels, node);
        for (const t of ep.preferredAffinityTerms) add(t, t.weight, pod, nsLabels, node);
        for (const t of ep.preferredAntiAffinityTerms) add(t, -t.weight, pod, nsLabels, node);
      }
    }
    if (scores.size === 0) return Status.skip();
    state.write(preScoreKey, new ScoreState(scores));
    return Status.success();
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number | Status {
    const s = state.read<ScoreState>(preScoreKey);
    if (!s) return Status.error(new Error(`reading "${preScoreKey}" from cycleState: not found`));
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    let score = 0;
    for (const [key, values] of s.topologyScore) {
      const v = labels[key];
      if (v !== undefined) score += values.get(v) ?? 0;
    }
    return score;
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  /** Min–max scaling onto [0, 100]: scores can be negative here. */
  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
    const s = state.read<ScoreState>(preScoreKey);
    if (!s || s.topologyScore.size === 0) return Status.success();
    let min = Infinity;
    let max = -Infinity;
    for (const x of scores) {
      if (x.score > max) max = x.score;
      if (x.score < min) min = x.score;
    }
    const diff = max - min;
    for (const x of scores) x.score = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((x.score - min) / diff)) : 0;
    return Status.success();
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Pod', actions: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete },
      { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeLabel },
    ];
  }
}
