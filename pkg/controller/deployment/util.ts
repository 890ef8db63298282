/**
 * Deployment helpers (pkg/controller/deployment/util): revisions and their annotations,
 * maxSurge/maxUnavailable with upstream's rounding, finding the new and old ReplicaSets,
 * proportional scaling, conditions, and the pod-template-hash.
 */
import type { Deployment, PodTemplateSpec, ReplicaSet } from '../../api/types.js';
import { clone, deepEqual, nowRFC3339 } from '../../api/meta.js';
import { normalizeTemplate } from './hash.js';

export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
export const lastAppliedConfigAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
export const deprecatedRollbackTo = 'deprecated.deployment.rollback.to';
export const defaultDeploymentUniqueLabelKey = 'pod-template-hash';
/** How long the revision-history annotation may grow (maxRevHistoryLengthInChars). */
export const maxRevHistoryLengthInChars = 2000;
const maxInt32 = 2147483647;

// Progressing and Available condition reasons.
export const replicaSetUpdatedReason = 'ReplicaSetUpdated';
export const failedRSCreateReason = 'ReplicaSetCreateError';
export const newReplicaSetReason = 'NewReplicaSetCreated';
export const foundNewRSReason = 'FoundNewReplicaSet';
export const newRSAvailableReason = 'NewReplicaSetAvailable';
export const timedOutReason = 'ProgressDeadlineExceeded';
export const pausedDeployReason = 'DeploymentPaused';
export const resumedDeployReason = 'DeploymentResumed';
export const minimumReplicasAvailable = 'MinimumReplicasAvailable';
export const minimumReplicasUnavailable = 'MinimumReplicasUnavailable';

export type DeploymentStatus = NonNullable<Deployment['status']>;
export type DeploymentCondition = NonNullable<DeploymentStatus['conditions']>[number];
type IntOrString = number | string | undefined | null;

export function replicasOf(obj: { spec?: { replicas?: number } }): number {
  return obj.spec?.replicas ?? 1;
}

// ---- conditions ----

export function newDeploymentCondition(type: string, status: string, reason: string, message: string, now: number): DeploymentCondition {
  const t = nowRFC3339(new Date(now));
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export function getDeploymentCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Sets a condition; no change when one with the same status and reason exists; keeps lastTransitionTime when only the reason changes. */
export function setDeploymentCondition(status: DeploymentStatus, condition: DeploymentCondition): void {
  const cur = getDeploymentCondition(status, condition.type);
  if (cur && cur.status === condition.status && cur.reason === condition.reason) return;
  if (cur && cur.status === condition.status) condition = { ...condition, lastTransitionTime: cur.lastTransitionTime };
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), condition];
}

export function removeDeploymentCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
  if (!status.conditions.length) delete status.conditions;
}

// ---- revisions ----

/** The revision annotation as a number; 0 when absent, NaN when unparsable. */
export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } }): number {
  const v = obj.metadata?.annotations?.[revisionAnnotation];
  if (v === undefined) return 0;
  return /^-?\d+$/.test(v) ? Number(v) : NaN;
}

export function maxRevision(rss: ReplicaSet[]): number {
  let max = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (Number.isFinite(v) && v > max) max = v;
  }
  return max;
}

/** Sets the Deployment's revision annotation; true when it changed. */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  d.metadata ??= {};
  d.metadata.annotations ??= {};
  if (d.metadata.annotations[revisionAnnotation] === revision) return false;
  d.metadata.annotations[revisionAnnotation] = revision;
  return true;
}

const annotationsToSkip = new Set([lastAppliedConfigAnnotation, revisionAnnotation, revisionHistoryAnnotation, desiredReplicasAnnotation, maxReplicasAnnotation, deprecatedRollbackTo]);

/** Copies the Deployment's annotations (but the revision and apply ones) onto a ReplicaSet. */
function copyDeploymentAnnotationsToReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  let changed = false;
  rs.metadata ??= {};
  rs.metadata.annotations ??= {};
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (annotationsToSkip.has(k) || rs.metadata.annotations[k] === v) continue;
    rs.metadata.annotations[k] = v;
    changed = true;
  }
  return changed;
}

/** Sets desired-replicas and max-replicas; true when they changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  rs.metadata ??= {};
  rs.metadata.annotations ??= {};
  let changed = false;
  if (rs.metadata.annotations[desiredReplicasAnnotation] !== String(desired)) {
    rs.metadata.annotations[desiredReplicasAnnotation] = String(desired);
    changed = true;
  }
  if (rs.metadata.annotations[maxReplicasAnnotation] !== String(max)) {
    rs.metadata.annotations[maxReplicasAnnotation] = String(max);
    changed = true;
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations ?? {};
  return a[desiredReplicasAnnotation] !== String(desired) || a[maxReplicasAnnotation] !== String(max);
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

export function desiredReplicasAnnotationOf(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, desiredReplicasAnnotation);
}

/**
 * SetNewReplicaSetAnnotations: copies the Deployment's annotations, raises the revision to
 * `newRevision` (keeping the old one in revision-history when this is a rollback to an older RS),
 * and on creation sets the replicas annotations. True when anything changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const ann = rs.metadata!.annotations!;
  const had = Object.prototype.hasOwnProperty.call(ann, revisionAnnotation);
  const oldRevision = ann[revisionAnnotation] ?? '';
  let oldRev = 0;
  if (oldRevision !== '') {
    if (!/^-?\d+$/.test(oldRevision)) return false;
    oldRev = Number(oldRevision);
  }
  if (!/^-?\d+$/.test(newRevision)) return false;
  const newRev = Number(newRevision);
  if (oldRev < newRev) {
    ann[revisionAnnotation] = newRevision;
    changed = true;
  }
  if (had && oldRev < newRev) {
    const history = ann[revisionHistoryAnnotation] ?? '';
    const old = history.split(',');
    if (old[0] === '') {
      ann[revisionHistoryAnnotation] = oldRevision;
    } else {
      let total = history.length + oldRevision.length + 1;
      let start = 0;
      while (total > maxRevHistoryLengthInChars && start < old.length) {
        total -= old[start]!.length + 1;
        start++;
      }
      if (total <= maxRevHistoryLengthInChars) ann[revisionHistoryAnnotation] = [...old.slice(start), oldRevision].join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

// ---- surge and unavailability ----

/** intstr.GetScaledValueFromIntOrPercent: a number, or a percentage of `total` rounded up or down. */
export function scaledValueFromIntOrPercent(v: IntOrString, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) {
    if (/^\d+$/.test(v)) return Number(v);
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

export function isRollingUpdate(d: Deployment): boolean {
  return d.spec?.strategy?.type === 'RollingUpdate';
}

/** ResolveFenceposts: maxSurge rounds up, maxUnavailable down; both 0 means maxUnavailable 1. */
export function resolveFenceposts(surgeV: IntOrString, unavailableV: IntOrString, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValueFromIntOrPercent(surgeV ?? 0, desired, true);
  let unavailable = scaledValueFromIntOrPercent(unavailableV ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge as IntOrString, ru?.maxUnavailable as IntOrString, replicasOf(d)).surge;
}

export function maxUnavailable(d: Deployment): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(ru?.maxSurge as IntOrString, ru?.maxUnavailable as IntOrString, replicas);
  return Math.min(unavailable, replicas);
}

// ---- replica set lists ----

function creationTime(o: { metadata?: { creationTimestamp?: string } }): number {
  const t = Date.parse(o.metadata?.creationTimestamp ?? '');
  return Number.isFinite(t) ? t : 0;
}

/** Oldest first, names breaking ties (ReplicaSetsByCreationTimestamp). */
export function byCreationTimestamp(a: ReplicaSet, b: ReplicaSet): number {
  const ta = creationTime(a);
  const tb = creationTime(b);
  if (ta === tb) return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : (a.metadata?.name ?? '') > (b.metadata?.name ?? '') ? 1 : 0;
  return ta - tb;
}

/** Larger first; among equals older first (ReplicaSetsBySizeOlder). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  if (replicasOf(a) === replicasOf(b)) return byCreationTimestamp(a, b);
  return replicasOf(b) - replicasOf(a);
}

/** Larger first; among equals newer first (ReplicaSetsBySizeNewer). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  if (replicasOf(a) === replicasOf(b)) return byCreationTimestamp(b, a);
  return replicasOf(b) - replicasOf(a);
}

/** Lowest revision first, creation time breaking ties (ReplicaSetsByRevision). */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (ra === rb || !Number.isFinite(ra) || !Number.isFinite(rb)) return byCreationTimestamp(a, b);
  return ra - rb;
}

export function filterActiveReplicaSets(rss: (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => !!rs && replicasOf(rs) > 0);
}

export function replicaCount(rss: (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs ? replicasOf(rs) : 0), 0);
}

export function actualReplicaCount(rss: (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
}

export function readyReplicaCount(rss: (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}

export function availableReplicaCount(rss: (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}

/** Templates equal but for the pod-template-hash label (EqualIgnoreHash). */
export function equalIgnoreHash(t1: PodTemplateSpec | undefined, t2: PodTemplateSpec | undefined): boolean {
  const a = clone(normalizeTemplate(t1 ?? {}));
  const b = clone(normalizeTemplate(t2 ?? {}));
  if (a.metadata?.labels) delete a.metadata.labels[defaultDeploymentUniqueLabelKey];
  if (b.metadata?.labels) delete b.metadata.labels[defaultDeploymentUniqueLabelKey];
  return deepEqual(normalizeTemplate(a), normalizeTemplate(b));
}

/** The oldest ReplicaSet whose template is the Deployment's (FindNewReplicaSet). */
export function findNewReplicaSet(d: Deployment, rss: ReplicaSet[]): ReplicaSet | undefined {
  return [...rss].sort(byCreationTimestamp).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** The other ReplicaSets: those with replicas, and all of them (FindOldReplicaSets). */
export function findOldReplicaSets(d: Deployment, rss: ReplicaSet[]): { old: ReplicaSet[]; allOld: ReplicaSet[] } {
  const newRS = findNewReplicaSet(d, rss);
  const allOld = rss.filter((rs) => !newRS || rs.metadata?.uid !== newRS.metadata?.uid);
  return { old: allOld.filter((rs) => replicasOf(rs) !== 0), allOld };
}

/** The only active ReplicaSet, or the newest when none is active; undefined when several are (FindActiveOrLatest). */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const sortedOld = [...oldRSs].sort((a, b) => byCreationTimestamp(b, a));
  const active = filterActiveReplicaSets([...sortedOld, newRS]);
  if (active.length === 0) return newRS ?? sortedOld[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** How many replicas the new ReplicaSet may have now (NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, allRSs: ReplicaSet[], newRS: ReplicaSet): number {
  switch (d.spec?.strategy?.type) {
    case 'RollingUpdate': {
      const surge = scaledValueFromIntOrPercent(d.spec.strategy.rollingUpdate?.maxSurge as IntOrString, replicasOf(d), true);
      const current = replicaCount(allRSs);
      const maxTotal = replicasOf(d) + surge;
      if (current >= maxTotal) return replicasOf(newRS);
      const scaleUp = Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
      return replicasOf(newRS) + scaleUp;
    }
    case 'Recreate':
      return replicasOf(d);
    default:
      throw new Error(`deployment type ${d.spec?.strategy?.type} isn't supported`);
  }
}

/** Whether the new ReplicaSet runs all desired replicas, all available (IsSaturated). */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotationOf(rs);
  if (desired === undefined) return false;
  return replicasOf(rs) === replicasOf(d) && desired === replicasOf(d) && (rs.status?.availableReplicas ?? 0) === replicasOf(d);
}

/** Go's math.Round (half away from zero) as integer.RoundToInt32. */
function roundToInt(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** The share of a scaling event a ReplicaSet gets (getReplicaSetFraction). */
function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  let annotated = intAnnotation(rs, maxReplicasAnnotation);
  if (annotated === undefined) annotated = d.status?.replicas ?? 0;
  const newSize = (replicasOf(rs) * deploymentReplicas) / annotated;
  return roundToInt(newSize) - replicasOf(rs);
}

/** GetProportion. */
export function getProportion(rs: ReplicaSet | undefined, d: Deployment, toAdd: number, added: number): number {
  if (!rs || replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

// ---- progress ----

export function hasProgressDeadline(d: Deployment): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p !== undefined && p !== null && p !== maxInt32;
}

export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec?.revisionHistoryLimit;
  return l !== undefined && l !== null && l !== maxInt32;
}

/** All replicas updated and available, no old ones, and the spec observed (DeploymentComplete). */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const r = replicasOf(d);
  return (s.updatedReplicas ?? 0) === r && (s.replicas ?? 0) === r && (s.availableReplicas ?? 0) === r && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** New pods scaled up or became ready/available, or old ones went away (DeploymentProgressing). */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld || (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** No progress reported for progressDeadlineSeconds (DeploymentTimedOut). */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getDeploymentCondition(s, 'Progressing');
  if (!cond) return false;
  if (cond.reason === newRSAvailableReason) return false;
  if (cond.reason === timedOutReason) return true;
  const from = Date.parse(cond.lastUpdateTime ?? '');
  if (!Number.isFinite(from)) return false;
  return from + d.spec!.progressDeadlineSeconds! * 1000 < now;
}
