/**
 * NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory utilization stay close to
 * each other after placing the pod. Pods that request nothing are not scored by it.
 */
import type { Pod } from '../api-types.js';
import type { PreScorePlugin, ScorePlugin } from '../framework/interface.js';
import type { CycleState, StateData } from '../framework/cycle-state.js';
import { Status } from '../framework/status.js';
import type { NodeInfo } from '../framework/types.js';
import { Names } from './names.js';
import { allocatableAndRequested, balancedScorer, defaultResources, podRequestList, type ResourceSpec } from './resource-allocation.js';

export interface NodeResourcesBalancedAllocationArgs {
  resources?: ResourceSpec[];
}

const preScoreKey = 'PreScore' + Names.NodeResourcesBalancedAllocation;

class ScoreState implements StateData {
  constructor(readonly podRequests: number[]) {}
  clone(): StateData {
    return this;
  }
}

export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = Names.NodeResourcesBalancedAllocation;
  private readonly resources: ResourceSpec[];

  constructor(args: NodeResourcesBalancedAllocationArgs = {}) {
    this.resources = args.resources?.length ? args.resources.map((r) => ({ name: r.name, weight: r.weight ?? 1 })) : defaultResources;
  }

  preScore(state: CycleState, pod: Pod): Status {
    const reqs = podRequestList(pod, this.resources, true);
    // Best-effort pods would all pile onto one node if scored on balance (upstream #129138).
    if (reqs.every((r) => r === 0)) return Status.skip();
    state.write(preScoreKey, new ScoreState(reqs));
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status {
    let reqs = state.read<ScoreState>(preScoreKey)?.podRequests;
    if (!reqs) {
      reqs = podRequestList(pod, this.resources, true);
      if (reqs.every((r) => r === 0)) return 0;
    }
    const { allocatable, requested } = allocatableAndRequested(nodeInfo, this.resources, reqs, true);
    return balancedScorer(requested, allocatable);
  }
}
