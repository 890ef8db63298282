/**
 * NodeAffinity: spec.nodeSelector and required node affinity filter nodes; preferred terms add
 * their weight to the nodes they match. `addedAffinity` (plugin args) applies to every pod of
 * the profile.
 */
import type { Node, NodeSelector, Pod } from '../api-types.js';
import { ActionType, type ClusterEvent, type EnqueueExtensions, type FilterPlugin, type NodeScore, type PreFilterPlugin, type PreScorePlugin, type ScoreExtensions, type ScorePlugin } from '../framework/interface.js';
import type { CycleState, StateData } from '../framework/cycle-state.js';
import { Status } from '../framework/status.js';
import { MAX_NODE_SCORE, type NodeInfo } from '../framework/types.js';
import { matchNodeSelector, matchTerm, podMatchesNodeSelectorAndAffinityTerms } from '../util/node-affinity.js';
import { defaultNormalizeScore } from './helper.js';
import { Names } from './names.js';

export const ErrReasonPod = "node(s) didn't match Pod's node affinity/selector";
export const ErrReasonEnforced = "node(s) didn't match scheduler-enforced node affinity";

type PreferredTerms = NonNullable<NonNullable<NonNullable<Pod['spec']>['affinity']>['nodeAffinity']>['preferredDuringSchedulingIgnoredDuringExecution'];

export interface NodeAffinityArgs {
  addedAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector;
    preferredDuringSchedulingIgnoredDuringExecution?: PreferredTerms;
  };
}

const preScoreKey = 'PreScore' + Names.NodeAffinity;

class ScoreState implements StateData {
  constructor(readonly preferred: NonNullable<PreferredTerms>) {}
  clone(): StateData {
    return this;
  }
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions, EnqueueExtensions {
  readonly name = Names.NodeAffinity;
  private readonly added?: NodeSelector;
  private readonly addedPreferred: NonNullable<PreferredTerms>;

  constructor(args: NodeAffinityArgs = {}) {
    this.added = args.addedAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.addedPreferred = args.addedAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  }

  preFilter(_state: CycleState, pod: Pod): Status {
    const hasSelector = Object.keys(pod.spec?.nodeSelector ?? {}).length > 0;
    const hasRequired = !!pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (!hasSelector && !hasRequired && !this.added) return Status.skip();
    return Status.success();
  }

  /** Whether the node passes the profile's added affinity and the pod's own selector and terms. */
  matches(pod: Pod, node: Node): Status {
    if (this.added && !matchNodeSelector(this.added, node)) return Status.unresolvable(ErrReasonEnforced);
    if (!podMatchesNodeSelectorAndAffinityTerms(pod, node)) return Status.unresolvable(ErrReasonPod);
    return Status.success();
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    if (!nodeInfo.node) return Status.error(new Error('node not found'));
    return this.matches(pod, nodeInfo.node);
  }

  preScore(state: CycleState, pod: Pod): Status {
    const preferred = [...(pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []), ...this.addedPreferred];
    if (preferred.length === 0) return Status.skip();
    state.write(preScoreKey, new ScoreState(preferred));
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status {
    const node = nodeInfo.node;
    if (!node) return Status.error(new Error('node not found'));
    const preferred = state.read<ScoreState>(preScoreKey)?.preferred ?? pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    let total = 0;
    for (const t of preferred) if (t.weight !== 0 && matchTerm(t.preference, node)) total += t.weight;
    return total;
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
    return defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeLabel }
    ];
  }
}
