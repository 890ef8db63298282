/**
 * TaintToleration: a node's NoSchedule and NoExecute taints keep off pods that do not tolerate
 * them; PreferNoSchedule taints only lower the node's score.
 */
import type { Pod, Toleration } from '../api-types.js';
import { ActionType, type ClusterEvent, type EnqueueExtensions, type FilterPlugin, type NodeScore, type PreScorePlugin, type ScoreExtensions, type ScorePlugin } from '../framework/interface.js';
import type { CycleState, StateData } from '../framework/cycle-state.js';
import { Status } from '../framework/status.js';
import { MAX_NODE_SCORE, type NodeInfo } from '../framework/types.js';
import { doNotScheduleTaints, findMatchingUntoleratedTaint, tolerationsTolerateTaint } from '../util/taints.js';
import { defaultNormalizeScore } from './helper.js';
import { Names } from './names.js';

const preScoreKey = 'PreScore' + Names.TaintToleration;

class ScoreState implements StateData {
  constructor(readonly tolerationsPreferNoSchedule: Toleration[]) {}
  clone(): StateData {
    return this;
  }
}

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions, EnqueueExtensions {
  readonly name = Names.TaintToleration;

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const taint = findMatchingUntoleratedTaint(nodeInfo.node?.spec?.taints, pod.spec?.tolerations, doNotScheduleTaints);
    if (!taint) return Status.success();
    return Status.unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  }

  preScore(state: CycleState, pod: Pod): Status {
    const tolerations = (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    state.write(preScoreKey, new ScoreState(tolerations));
    return Status.success();
  }

  /** The number of PreferNoSchedule taints the pod does not tolerate; normalized in reverse. */
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status {
    const tolerations = state.read<ScoreState>(preScoreKey)?.tolerationsPreferNoSchedule ?? pod.spec?.tolerations;
    let n = 0;
    for (const taint of nodeInfo.node?.spec?.taints ?? []) {
      if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, taint)) n++;
    }
    return n;
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
    return defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeTaint }
    ];
  }
}
