/**
 * Resource-based scoring shared by NodeResourcesFit's strategies and
 * NodeResourcesBalancedAllocation (upstream noderesources/resource_allocation.go).
 */
import type { Pod } from '../api-types.js';
import { MAX_NODE_SCORE, type NodeInfo } from '../framework/types.js';
import { computePodRequests, isScalarResourceName } from '../util/resource.js';

export interface ResourceSpec {
  name: string;
  weight: number;
}

export const defaultResources: ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

/** The pod's request for each resource. Without `useRequested`, empty requests count as 100m/200Mi. */
export function podRequestList(pod: Pod, resources: ResourceSpec[], useRequested: boolean): number[] {
  const r = computePodRequests(pod, !useRequested);
  return resources.map((s) => r.get(s.name));
}

/** Allocatable and requested-after-placement per resource; (0, 0) means "do not score this one". */
export function allocatableAndRequested(nodeInfo: NodeInfo, resources: ResourceSpec[], podRequests: number[], useRequested: boolean): { allocatable: number[]; requested: number[] } {
  const allocatable: number[] = [];
  const requested: number[] = [];
  const base = useRequested ? nodeInfo.requested : nodeInfo.nonZeroRequested;
  resources.forEach((s, i) => {
    const podReq = podRequests[i]!;
    let a = 0;
    let r = 0;
    if (podReq === 0 && isScalarResourceName(s.name)) {
      // A pod that does not ask for an extended resource is not scored on it.
    } else if (s.name === 'cpu') {
      a = nodeInfo.allocatable.milliCPU;
      r = base.milliCPU + podReq;
    } else if (s.name === 'memory') {
      a = nodeInfo.allocatable.memory;
      r = base.memory + podReq;
    } else if (s.name === 'ephemeral-storage') {
      a = nodeInfo.allocatable.ephemeralStorage;
      r = nodeInfo.requested.ephemeralStorage + podReq;
    } else if (nodeInfo.allocatable.scalar.has(s.name)) {
      a = nodeInfo.allocatable.scalar.get(s.name)!;
      r = (nodeInfo.requested.scalar.get(s.name) ?? 0) + podReq;
    }
    allocatable.push(a);
    requested.push(r);
  });
  return { allocatable, requested };
}

export type Scorer = (requested: number[], allocatable: number[]) => number;

function weightedAverage(resources: ResourceSpec[], requested: number[], allocatable: number[], perResource: (req: number, cap: number) => number): number {
  let nodeScore = 0;
  let weightSum = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    const w = resources[i]!.weight;
    nodeScore += perResource(requested[i]!, allocatable[i]!) * w;
    weightSum += w;
  }
  return weightSum === 0 ? 0 : Math.trunc(nodeScore / weightSum);
}

/** LeastAllocated: the emptier the node after placement, the better. */
export function leastAllocatedScorer(resources: ResourceSpec[]): Scorer {
  return (req, alloc) =>
    weightedAverage(resources, req, alloc, (r, c) => {
      if (c === 0 || r > c) return 0;
      return Math.trunc(((c - r) * MAX_NODE_SCORE) / c);
    });
}

/** MostAllocated: the fuller the node after placement, the better (bin packing). */
export function mostAllocatedScorer(resources: ResourceSpec[]): Scorer {
  return (req, alloc) =>
    weightedAverage(resources, req, alloc, (r, c) => {
      if (c === 0) return 0;
      if (r > c) r = c;
      return Math.trunc((r * MAX_NODE_SCORE) / c);
    });
}

export interface UtilizationShapePoint {
  utilization: number;
  score: number;
}

/** Upstream's MaxCustomPriorityScore: shape scores go 0–10 and are scaled to 0–100. */
const MAX_CUSTOM_PRIORITY_SCORE = 10;

/** A piecewise linear function through the shape points (sorted by utilization). */
export function brokenLinear(shape: UtilizationShapePoint[]): (p: number) => number {
  return (p) => {
    for (let i = 0; i < shape.length; i++) {
      if (p <= shape[i]!.utilization) {
        if (i === 0) return shape[0]!.score;
        const a = shape[i - 1]!;
        const b = shape[i]!;
        return a.score + Math.trunc(((b.score - a.score) * (p - a.utilization)) / (b.utilization - a.utilization));
      }
    }
    return shape[shape.length - 1]!.score;
  };
}

/** RequestedToCapacityRatio: the score follows a user-given curve of utilization. */
export function requestedToCapacityRatioScorer(resources: ResourceSpec[], shape: UtilizationShapePoint[]): Scorer {
  const scaled = shape.map((p) => ({ utilization: p.utilization, score: p.score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE) }));
  const f = brokenLinear(scaled);
  const perResource = (r: number, c: number) => (c === 0 || r > c ? f(100) : f(Math.trunc((r * 100) / c)));
  return (req, alloc) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < req.length; i++) {
      if (alloc[i] === 0) continue;
      const w = resources[i]!.weight;
      const rs = perResource(req[i]!, alloc[i]!);
      // As upstream, resources scoring 0 do not dilute the average.
      if (rs > 0) {
        nodeScore += rs * w;
        weightSum += w;
      }
    }
    return weightSum === 0 ? 0 : Math.round(nodeScore / weightSum);
  };
}

/** BalancedAllocation: 100 × (1 − the standard deviation of the utilization fractions). */
export function balancedScorer(requested: number[], allocatable: number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    const f = Math.min(1, requested[i]! / allocatable[i]!);
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs((fractions[0]! - fractions[1]!) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const f of fractions) sum += (f - mean) * (f - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}
