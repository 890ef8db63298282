/**
 * When a pod on a NoExecute-tainted node must go (pkg/controller/tainteviction): at once when a
 * NoExecute taint is not tolerated, after the smallest tolerationSeconds of the tolerations used
 * when all are, never when they all tolerate forever.
 */
import type { Pod } from '../../api/types.js';
import type { Taint } from './node-health.js';

type Toleration = NonNullable<NonNullable<Pod['spec']>['tolerations']>[number];

/** Whether a toleration tolerates a taint (ToleratesTaint). */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return !!t.key && (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/**
 * When the pod is to be deleted, in ms since the epoch: `now` when a NoExecute taint is not
 * tolerated, undefined when it may stay forever (or there is no NoExecute taint). The clock
 * starts at the taint's timeAdded (the earliest of those involved), so a restarted controller
 * keeps the deadline.
 */
export function evictionTime(pod: Pod, taints: Taint[], now: number): number | undefined {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return undefined;
  const tolerations = pod.spec?.tolerations ?? [];
  let minSeconds: number | undefined;
  let start = now;
  for (const taint of noExecute) {
    const used = tolerations.filter((t) => toleratesTaint(t, taint));
    if (used.length === 0) return now;
    for (const t of used) {
      if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
      const s = Math.max(0, t.tolerationSeconds);
      if (minSeconds === undefined || s < minSeconds) minSeconds = s;
    }
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : NaN;
    if (Number.isFinite(added) && added < start) start = added;
  }
  if (minSeconds === undefined) return undefined;
  return start + minSeconds * 1000;
}
