/**
 * NodeResourcesFit: the pod's requests (init containers, sidecars and overhead included) must fit
 * in the node's allocatable minus what its pods request, and the node must have room for one more
 * pod. Scores with LeastAllocated (default), MostAllocated or RequestedToCapacityRatio.
 */
import type { Node, Pod } from '../api-types.js';
import { ActionType, type ClusterEvent, type EnqueueExtensions, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework/interface.js';
import type { CycleState, StateData } from '../framework/cycle-state.js';
import { Status } from '../framework/status.js';
import { NodeInfo } from '../framework/types.js';
import { computePodRequests, isScalarResourceName, type Resource } from '../util/resource.js';
import { Names } from './names.js';
import {
  allocatableAndRequested,
  defaultResources,
  leastAllocatedScorer,
  mostAllocatedScorer,
  podRequestList,
  requestedToCapacityRatioScorer,
  type ResourceSpec,
  type Scorer,
  type UtilizationShapePoint,
} from './resource-allocation.js';

export type ScoringStrategyType = 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';

/** NodeResourcesFitArgs (kubescheduler.config.k8s.io/v1). */
export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: {
    type?: ScoringStrategyType;
    resources?: ResourceSpec[];
    requestedToCapacityRatio?: { shape?: UtilizationShapePoint[] };
  };
}

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
  /** The pod asks for more than the whole node has: no preemption can help. */
  unresolvable: boolean;
}

const preFilterKey = 'PreFilter' + Names.NodeResourcesFit;
const preScoreKey = 'PreScore' + Names.NodeResourcesFit;

class RequestState implements StateData {
  constructor(readonly request: Resource) {}
  clone(): StateData {
    return this;
  }
}

class ScoreState implements StateData {
  constructor(readonly podRequests: number[]) {}
  clone(): StateData {
    return this;
  }
}

/** Which resources the pod lacks on the node (upstream fitsRequest). */
export function fitsRequest(req: Resource, nodeInfo: NodeInfo, ignored = new Set<string>(), ignoredGroups = new Set<string>()): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  if (nodeInfo.pods.length + 1 > alloc.allowedPodNumber) {
    out.push({ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: nodeInfo.pods.length, capacity: alloc.allowedPodNumber, unresolvable: false });
  }
  if (req.isZero()) return out;
  const check = (name: string, r: number, u: number, c: number) => {
    if (r > 0 && r > c - u) out.push({ resourceName: name, reason: `Insufficient ${name}`, requested: r, used: u, capacity: c, unresolvable: r > c });
  };
  check('cpu', req.milliCPU, used.milliCPU, alloc.milliCPU);
  check('memory', req.memory, used.memory, alloc.memory);
  check('ephemeral-storage', req.ephemeralStorage, used.ephemeralStorage, alloc.ephemeralStorage);
  for (const [name, q] of req.scalar) {
    if (q === 0) continue;
    if (isScalarResourceName(name) && name.includes('/') && !name.startsWith('kubernetes.io/')) {
      if (ignored.has(name) || ignoredGroups.has(name.split('/')[0]!)) continue;
    }
    check(name, q, used.scalar.get(name) ?? 0, alloc.scalar.get(name) ?? 0);
  }
  return out;
}

/** Whether the pod would fit on the node if it were empty (used for queueing decisions). */
export function fitsEmptyNode(pod: Pod, node: Node): boolean {
  return fitsRequest(computePodRequests(pod), new NodeInfo(node)).length === 0;
}

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = Names.NodeResourcesFit;
  private readonly ignored: Set<string>;
  private readonly ignoredGroups: Set<string>;
  readonly resources: ResourceSpec[];
  readonly strategy: ScoringStrategyType;
  private readonly scorer: Scorer;

  constructor(args: NodeResourcesFitArgs = {}) {
    this.ignored = new Set(args.ignoredResources ?? []);
    this.ignoredGroups = new Set(args.ignoredResourceGroups ?? []);
    const st = args.scoringStrategy ?? {};
    this.strategy = st.type ?? 'LeastAllocated';
    this.resources = st.resources?.length ? st.resources.map((r) => ({ name: r.name, weight: r.weight ?? 1 })) : defaultResources;
    switch (this.strategy) {
      case 'LeastAllocated':
        this.scorer = leastAllocatedScorer(this.resources);
        break;
      case 'MostAllocated':
        this.scorer = mostAllocatedScorer(this.resources);
        break;
      case 'RequestedToCapacityRatio': {
        const shape = [...(st.requestedToCapacityRatio?.shape ?? [
          { utilization: 0, score: 10 },
          { utilization: 100, score: 0 },
        ])].sort((a, b) => a.utilization - b.utilization);
        this.scorer = requestedToCapacityRatioScorer(this.resources, shape);
        break;
      }
      default:
        throw new Error(`scoringStrategy.type: Unsupported value: "${String(this.strategy)}": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"`);
    }
  }

  preFilter(state: CycleState, pod: Pod): Status {
    state.write(preFilterKey, new RequestState(computePodRequests(pod)));
    return Status.success();
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const req = state.read<RequestState>(preFilterKey)?.request ?? computePodRequests(pod);
    const insufficient = fitsRequest(req, nodeInfo, this.ignored, this.ignoredGroups);
    if (insufficient.length === 0) return Status.success();
    const reasons = insufficient.map((r) => r.reason);
    return insufficient.some((r) => r.unresolvable) ? Status.unresolvable(...reasons) : Status.unschedulable(...reasons);
  }

  preScore(state: CycleState, pod: Pod): Status {
    state.write(preScoreKey, new ScoreState(podRequestList(pod, this.resources, false)));
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status {
    const reqs = state.read<ScoreState>(preScoreKey)?.podRequests ?? podRequestList(pod, this.resources, false);
    const { allocatable, requested } = allocatableAndRequested(nodeInfo, this.resources, reqs, false);
    return this.scorer(requested, allocatable);
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Pod', actions: ActionType.Delete | ActionType.UpdatePodScaleDown },
      { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeAllocatable },
    ];
  }
}
