/**
 * Pod resources as the node enforces them: the QoS class (upstream pkg/apis/core/v1/helper/qos),
 * CRI Linux resources from requests and limits (kuberuntime's cpu shares, CFS quota, memory
 * limit) and the OOM score adjustment (pkg/kubelet/qos/policy.go).
 */
import { parseQuantity, quantityMilliValue, quantityValue } from '../api/quantity.js';
import type { Container, Pod } from '../api/types.js';
import type { LinuxContainerResources, Req } from '../cri/types.js';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const SHARES_PER_CPU = 1024;
const QUOTA_PERIOD = 100_000;
const MIN_QUOTA = 1000;

function milli(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  try {
    return Number(quantityMilliValue(parseQuantity(v as string)));
  } catch {
    return undefined;
  }
}

function bytes(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  try {
    return Number(quantityValue(parseQuantity(v as string)));
  } catch {
    return undefined;
  }
}

export function milliCPU(v: unknown): number | undefined {
  return milli(v);
}

export function memoryBytes(v: unknown): number | undefined {
  return bytes(v);
}

function allContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

/** The pod's QoS class, as upstream computes it (only cpu and memory count). */
export function qosClass(pod: Pod): QOSClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let isGuaranteed = true;
  for (const c of allContainers(pod)) {
    for (const [name, v] of Object.entries(c.resources?.requests ?? {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const n = milli(v);
      if (n && n > 0) requests.set(name, (requests.get(name) ?? 0) + n);
    }
    const cLimits = new Set<string>();
    for (const [name, v] of Object.entries(c.resources?.limits ?? {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const n = milli(v);
      if (n && n > 0) {
        cLimits.add(name);
        limits.set(name, (limits.get(name) ?? 0) + n);
      }
    }
    if (!cLimits.has('cpu') || !cLimits.has('memory')) isGuaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (isGuaranteed) {
    for (const [name, r] of requests) if (limits.get(name) !== r) isGuaranteed = false;
  }
  return isGuaranteed && limits.size === 2 ? 'Guaranteed' : 'Burstable';
}

/** The CPU weight for a request, in cgroup v1 shares. */
export function milliCPUToShares(m: number): number {
  if (m === 0) return MIN_SHARES;
  const shares = Math.floor((m * SHARES_PER_CPU) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** The CFS quota for a limit over the default 100ms period. */
export function milliCPUToQuota(m: number, period = QUOTA_PERIOD): number {
  if (m === 0) return 0;
  return Math.max(MIN_QUOTA, Math.floor((m * period) / 1000));
}

/** The container's OOM score adjustment, by QoS class and its share of node memory. */
export function oomScoreAdj(pod: Pod, c: Container, memoryCapacity: number): number {
  if (pod.spec?.priorityClassName === 'system-node-critical' || pod.spec?.priorityClassName === 'system-cluster-critical') return -997;
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const req = bytes(c.resources?.requests?.memory) ?? 0;
  let adj = 1000 - Math.floor((1000 * req) / Math.max(1, memoryCapacity));
  if (adj < 3) adj = 3;
  if (adj >= 1000) adj = 999;
  return adj;
}

/** The container's CRI Linux resources from its requests and limits. */
export function linuxResources(pod: Pod, c: Container, memoryCapacity: number): Req<LinuxContainerResources> {
  const reqCPU = milli(c.resources?.requests?.cpu);
  const limCPU = milli(c.resources?.limits?.cpu);
  // A limit without a request requests the limit (API defaulting does this too).
  const cpuRequest = reqCPU ?? limCPU ?? 0;
  const out: Req<LinuxContainerResources> = {
    cpu_shares: milliCPUToShares(cpuRequest),
    oom_score_adj: oomScoreAdj(pod, c, memoryCapacity),
  };
  if (limCPU) {
    out.cpu_period = QUOTA_PERIOD;
    out.cpu_quota = milliCPUToQuota(limCPU);
  }
  const limMem = bytes(c.resources?.limits?.memory);
  if (limMem) out.memory_limit_in_bytes = limMem;
  return out;
}

/** The cgroup parent of a pod: <root>/kubepods[/burstable|/besteffort]/pod<uid>. */
export function podCgroupParent(cgroupRoot: string, pod: Pod): string {
  const qos = qosClass(pod);
  const base = `${cgroupRoot.replace(/\/+$/, '')}/kubepods`;
  const tier = qos === 'Guaranteed' ? base : `${base}/${qos.toLowerCase()}`;
  return `${tier}/pod${pod.metadata!.uid}`;
}
