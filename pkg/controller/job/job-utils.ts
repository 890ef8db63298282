/**
 * Job helpers (pkg/controller/job: utils.go, indexed_job_utils.go, pod_failure_policy.go,
 * backoff_utils.go): conditions, completed-index intervals, the pod failure policy and the
 * exponential backoff between failed pods.
 */
import type { Job, Pod } from '../../api/types.js';
import { nowRFC3339 } from '../../api/meta.js';

export type JobStatus = NonNullable<Job['status']>;
export type JobCondition = NonNullable<JobStatus['conditions']>[number];

export const jobTrackingFinalizer = 'batch.kubernetes.io/job-tracking';
export const jobCompletionIndexAnnotation = 'batch.kubernetes.io/job-completion-index';
export const jobIndexFailureCountAnnotation = 'batch.kubernetes.io/job-index-failure-count';
export const completionIndexEnvName = 'JOB_COMPLETION_INDEX';

/** Condition reasons, as upstream. */
export const reasons = {
  backoffLimitExceeded: 'BackoffLimitExceeded',
  deadlineExceeded: 'DeadlineExceeded',
  podFailurePolicy: 'PodFailurePolicy',
  completionsReached: 'CompletionsReached',
  maxFailedIndexesExceeded: 'MaxFailedIndexesExceeded',
  failedIndexes: 'FailedIndexes',
  jobSuspended: 'JobSuspended',
  jobResumed: 'JobResumed',
} as const;

/** DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const defaultBackoffMs = 10_000;
export const maxBackoffMs = 6 * 60_000;

export function findCondition(status: JobStatus | undefined, type: string): JobCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function hasTrueCondition(job: Job, type: string): boolean {
  return findCondition(job.status, type)?.status === 'True';
}

/** IsJobFinished: Complete or Failed is True. */
export function isJobFinished(job: Job): boolean {
  return hasTrueCondition(job, 'Complete') || hasTrueCondition(job, 'Failed');
}

/** The time the Job finished: its terminal condition's lastTransitionTime. */
export function jobFinishTime(job: Job): number | undefined {
  const c = job.status?.conditions?.find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  const t = c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Sets a condition, keeping lastTransitionTime when the status does not change. Returns
 * whether anything changed.
 */
export function setCondition(status: JobStatus, type: string, value: string, reason: string, message: string, now: number): boolean {
  const conds = (status.conditions ??= []);
  const cur = conds.find((c) => c.type === type);
  const ts = nowRFC3339(new Date(now));
  if (cur) {
    if (cur.status === value && cur.reason === reason && cur.message === message) return false;
    if (cur.status !== value) cur.lastTransitionTime = ts;
    cur.status = value;
    cur.reason = reason;
    cur.message = message;
    cur.lastProbeTime = ts;
    return true;
  }
  conds.push({ type, status: value, reason, message, lastProbeTime: ts, lastTransitionTime: ts });
  return true;
}

/** The pod's completion index, or undefined when missing or invalid. */
export function getCompletionIndex(pod: Pod): number | undefined {
  const v = pod.metadata?.annotations?.[jobCompletionIndexAnnotation] ?? pod.metadata?.labels?.[jobCompletionIndexAnnotation];
  if (v === undefined || !/^(0|[1-9][0-9]*)$/.test(v)) return undefined;
  return Number(v);
}

/** Parses `1,3-5` into the sorted set of indexes below `completions`. */
export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (!s) return out;
  for (const part of s.split(',')) {
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    for (let i = lo; i <= hi && i < completions; i++) out.add(i);
  }
  return out;
}

/** Formats indexes as upstream: sorted, consecutive runs as `a-b`. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * The delay before the next pod after `failures` consecutive failures: 10s doubling, at most
 * 6 minutes (0 with no failures).
 */
export function backoffDelayMs(failures: number, baseMs = defaultBackoffMs, maxMs = maxBackoffMs): number {
  if (failures <= 0) return 0;
  const exp = Math.min(failures - 1, 30);
  return Math.min(maxMs, baseMs * 2 ** exp);
}

export interface PodFailurePolicyResult {
  /** FailJob, FailIndex, Ignore or Count, when a rule matched. */
  action?: string;
  message?: string;
}

type Rule = NonNullable<NonNullable<NonNullable<Job['spec']>['podFailurePolicy']>['rules']>[number];

function matchExitCodes(pod: Pod, rule: Rule): string | undefined {
  const req = rule.onExitCodes;
  if (!req) return undefined;
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  for (const cs of statuses) {
    if (req.containerName && req.containerName !== cs.name) continue;
    const code = cs.state?.terminated?.exitCode;
    if (code === undefined || code === 0) continue;
    const inValues = req.values.includes(code);
    if ((req.operator === 'In' && inValues) || (req.operator === 'NotIn' && !inValues)) return `Container ${cs.name} for pod ${pod.metadata?.namespace}/${pod.metadata?.name} failed with exit code ${code}`;
  }
  return undefined;
}

function matchConditions(pod: Pod, rule: Rule): string | undefined {
  for (const req of rule.onPodConditions ?? []) {
    const c = pod.status?.conditions?.find((x) => x.type === req.type && x.status === (req.status || 'True'));
    if (c) return `Pod ${pod.metadata?.namespace}/${pod.metadata?.name} has condition ${req.type}`;
  }
  return undefined;
}

/** matchPodFailurePolicy: the first rule a failed pod matches. */
export function matchPodFailurePolicy(job: Job, pod: Pod): PodFailurePolicyResult {
  const rules = job.spec?.podFailurePolicy?.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const what = rule.onExitCodes ? matchExitCodes(pod, rule) : matchConditions(pod, rule);
    if (what === undefined) continue;
    const verb = rule.action === 'Ignore' ? 'matching Ignore rule' : rule.action === 'Count' ? 'matching Count rule' : rule.action === 'FailIndex' ? 'matching FailIndex rule' : 'matching FailJob rule';
    return { action: rule.action, message: `${what} ${verb} at index ${i}` };
  }
  return {};
}

/** Not finished: neither Succeeded nor Failed. */
export function isPodTerminated(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function hasTrackingFinalizer(pod: Pod): boolean {
  return pod.metadata?.finalizers?.includes(jobTrackingFinalizer) ?? false;
}

/** The time a terminated pod finished: its containers' latest finishedAt, else now. */
export function podFinishTime(pod: Pod, now: number): number {
  let t = 0;
  for (const cs of pod.status?.containerStatuses ?? []) {
    const f = cs.state?.terminated?.finishedAt ? Date.parse(cs.state.terminated.finishedAt) : NaN;
    if (Number.isFinite(f)) t = Math.max(t, f);
  }
  return t || now;
}
