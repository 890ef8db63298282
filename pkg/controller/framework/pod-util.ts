/**
 * Pod helpers controllers share (pkg/api/v1/pod and controller_utils.go): readiness,
 * availability with minReadySeconds, activity, and the order in which a ReplicaSet picks pods to
 * delete.
 */
import type { Pod } from '../../api/types.js';

type PodCondition = NonNullable<NonNullable<Pod['status']>['conditions']>[number];

export function getPodReadyCondition(pod: Pod): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(pod: Pod): boolean {
  return getPodReadyCondition(pod)?.status === 'True';
}

function time(s: string | undefined): number {
  if (!s) return 0;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : 0;
}

/** Ready for at least minReadySeconds, as of `now` (ms). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = time(getPodReadyCondition(pod)?.lastTransitionTime);
  return since !== 0 && since + minReadySeconds * 1000 < now;
}

/** Not finished and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

const podPhaseToOrdinal: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** The pod-deletion-cost annotation; 0 when absent or invalid. */
export function podDeletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'];
  if (v === undefined) return 0;
  const n = Number(v);
  return Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 ? n : 0;
}

function podReadyTime(pod: Pod): number {
  if (!isPodReady(pod)) return 0;
  return time(getPodReadyCondition(pod)?.lastTransitionTime);
}

function maxContainerRestarts(pod: Pod): number {
  let max = 0;
  for (const c of pod.status?.containerStatuses ?? []) max = Math.max(max, c.restartCount ?? 0);
  return max;
}

/** t1 after t2, where a zero time counts as after any other. */
function afterOrZero(t1: number, t2: number): boolean {
  if (t1 === 0 || t2 === 0) return t1 === 0;
  return t1 > t2;
}

/** Compares two times on a log2 scale of their age, so pods of similar age rank alike. */
function logarithmicRankDiff(t1: number, t2: number, now: number): number {
  const d1 = (now - t1) * 1e6;
  const d2 = (now - t2) * 1e6;
  const r1 = d1 > 0 ? Math.floor(Math.log2(d1)) : -1;
  const r2 = d2 > 0 ? Math.floor(Math.log2(d2)) : -1;
  return r1 - r2;
}

/**
 * True when pod `a` should be deleted before pod `b` (ActivePodsWithRanks.Less, with
 * PodDeletionCost and LogarithmicScaleDown on, as they are by default upstream):
 * 1. unscheduled before scheduled;
 * 2. Pending before Unknown before Running;
 * 3. not ready before ready;
 * 4. lower pod-deletion-cost first;
 * 5. more ready pods of the same owner on the same node (higher rank) first;
 * 6. ready more recently first (log scale);
 * 7. more container restarts first;
 * 8. created more recently first (log scale), then by UID.
 */
export function deletionLess(a: Pod, rankA: number, b: Pod, rankB: number, now: number): boolean {
  const na = a.spec?.nodeName ?? '';
  const nb = b.spec?.nodeName ?? '';
  if (na !== nb && (na === '' || nb === '')) return na === '';
  const pa = podPhaseToOrdinal[a.status?.phase ?? ''] ?? 0;
  const pb = podPhaseToOrdinal[b.status?.phase ?? ''] ?? 0;
  if (pa !== pb) return pa < pb;
  if (isPodReady(a) !== isPodReady(b)) return !isPodReady(a);
  const ca = podDeletionCost(a);
  const cb = podDeletionCost(b);
  if (ca !== cb) return ca < cb;
  if (rankA !== rankB) return rankA > rankB;
  if (isPodReady(a) && isPodReady(b)) {
    const ra = podReadyTime(a);
    const rb = podReadyTime(b);
    if (ra !== rb) {
      if (ra === 0 || rb === 0) return afterOrZero(ra, rb);
      const diff = logarithmicRankDiff(ra, rb, now);
      if (diff === 0) return (a.metadata?.uid ?? '') < (b.metadata?.uid ?? '');
      return diff < 0;
    }
  }
  const ra = maxContainerRestarts(a);
  const rb = maxContainerRestarts(b);
  if (ra !== rb) return ra > rb;
  const ta = time(a.metadata?.creationTimestamp);
  const tb = time(b.metadata?.creationTimestamp);
  if (ta !== tb) {
    if (ta === 0 || tb === 0) return afterOrZero(ta, tb);
    const diff = logarithmicRankDiff(ta, tb, now);
    if (diff === 0) return (a.metadata?.uid ?? '') < (b.metadata?.uid ?? '');
    return diff < 0;
  }
  return false;
}

/**
 * The `diff` pods to delete first (getPodsToDelete): ranked by how many active pods of the same
 * owner share each pod's node, then by `deletionLess`.
 */
export function podsToDelete(filteredPods: Pod[], relatedPods: Pod[], diff: number, now: number): Pod[] {
  if (diff >= filteredPods.length) return [...filteredPods];
  const podsOnNode = new Map<string, number>();
  for (const p of relatedPods) {
    if (!isPodActive(p)) continue;
    const n = p.spec?.nodeName ?? '';
    podsOnNode.set(n, (podsOnNode.get(n) ?? 0) + 1);
  }
  const ranked = filteredPods.map((pod) => ({ pod, rank: podsOnNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => (deletionLess(x.pod, x.rank, y.pod, y.rank, now) ? -1 : deletionLess(y.pod, y.rank, x.pod, x.rank, now) ? 1 : 0));
  return ranked.slice(0, diff).map((r) => r.pod);
}
