/**
 * The Job controller (pkg/controller/job/job_controller.go): runs pods until enough succeed.
 * - completions and parallelism; NonIndexed and Indexed modes (pods carry the completion index
 *   as annotation and label, JOB_COMPLETION_INDEX, hostname `<job>-<index>`;
 *   status.completedIndexes);
 * - pods carry the `batch.kubernetes.io/job-tracking` finalizer; a finished pod is first listed
 *   in status.uncountedTerminatedPods, then its finalizer is removed, then it is counted in
 *   succeeded or failed, so no pod is counted twice or lost;
 * - failures: backoffLimit with exponential backoff (10s doubling, 6 min cap) before new pods,
 *   activeDeadlineSeconds, and podFailurePolicy (FailJob, Ignore, Count; FailIndex counts the
 *   index as failed);
 * - terminal conditions: FailureTarget or SuccessCriteriaMet first, then Failed or Complete once
 *   no pod is left running; suspend deletes the active pods;
 * - status: active, ready, terminating, succeeded, failed, startTime, completionTime.
 */
import type { Logger } from 'pino';
import type { Job, LabelSelector, Pod } from '../../api/types.js';
import { clone, deepEqual, nowRFC3339 } from '../../api/meta.js';
import { labelSelectorAsSelector, type Selector } from '../../api/labels.js';
import { hasStatusCause, isConflict, isNotFound, type RestClient } from '../../client/rest.js';
import type { Clock } from '../framework/clock.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { claimObjects, getControllerOf, newControllerRef, recheckDeletionTimestamp } from '../framework/controller-ref.js';
import type { EventRecorder } from '../framework/event-recorder.js';
import { UIDTrackingControllerExpectations } from '../framework/expectations.js';
import { keyOf, splitKey, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { namespaceTerminatingCause, podFromTemplate } from '../framework/pod-control.js';
import { isPodReady, podKey, podsToDelete } from '../framework/pod-util.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { workloadResources } from '../history/resources.js';
import { slowStartBatch } from '../replicaset/replica-set.js';
import * as u from './job-utils.js';

export interface JobControllerOptions {
  workers: number;
  /** The first backoff after a failed pod (DefaultJobPodFailureBackOff, 10s). */
  backoffBaseMs?: number;
  /** The longest backoff (MaxJobPodFailureBackOff, 6 min). */
  backoffMaxMs?: number;
}

const apiVersion = 'batch/v1';
const kind = 'Job';
/** The most pods created or deleted in one sync (MaxPodCreateDeletePerSync). */
const maxPodCreateDeletePerSync = 500;

/** Consecutive failures of a Job's pods and when the last one happened (backoffRecord). */
interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime: number;
}

export class JobController implements Controller {
  readonly name = 'job-controller';
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  private readonly queue: RateLimitingQueue<string>;
  private readonly expectations: UIDTrackingControllerExpectations;
  /** Pods whose finalizer this controller removed, until the cache shows it gone (finalizerExpectations). */
  private readonly finalizersRemoved = new Map<string, Set<string>>();
  private readonly backoff = new Map<string, BackoffRecord>();
  private readonly jobInformer: SharedInformer<Job>;
  private readonly podInformer: SharedInformer<Pod>;

  constructor(
    ctx: ControllerContext,
    private readonly opts: JobControllerOptions,
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.recorder = ctx.events.newRecorder(this.name);
    this.queue = newQueue(ctx, 'job');
    this.expectations = new UIDTrackingControllerExpectations(ctx.clock);
    this.jobInformer = ctx.informers.informerFor<Job>(workloadResources.jobs);
    this.podInformer = ctx.informers.informerFor<Pod>(workloadResources.pods);

    this.jobInformer.addEventHandler({
      add: (j) => this.queue.add(keyOf(j)),
      update: (_o, j) => this.queue.add(keyOf(j)),
      delete: (j) => {
        const key = keyOf(j);
        this.expectations.deleteExpectations(key);
        this.backoff.delete(key);
        this.finalizersRemoved.delete(key);
        this.queue.add(key);
      },
    });
    this.podInformer.addEventHandler({
      add: (p) => {
        const key = this.jobKeyOf(p);
        if (!key) return;
        if (p.metadata?.deletionTimestamp) this.expectations.deletionObservedOf(key, podKey(p));
        else this.expectations.creationObserved(key);
        this.queue.add(key);
      },
      update: (o, p) => {
        if (o.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
        const key = this.jobKeyOf(p) ?? this.jobKeyOf(o);
        if (!key) return;
        if (p.metadata?.deletionTimestamp && !o.metadata?.deletionTimestamp) this.expectations.deletionObservedOf(key, podKey(p));
        if (!u.hasTrackingFinalizer(p)) this.finalizersRemoved.get(key)?.delete(p.metadata!.uid!);
        this.queue.add(key);
      },
      delete: (p) => {
        const key = this.jobKeyOf(p);
        if (!key) return;
        this.expectations.deletionObservedOf(key, podKey(p));
        this.finalizersRemoved.get(key)?.delete(p.metadata!.uid!);
        this.queue.add(key);
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.jobInformer, this.podInformer], signal))) return;
    this.logger.info('caches synced; starting workers');
    await runWorkers(this.queue, (key) => this.syncJob(key), { workers: this.opts.workers, logger: this.logger });
  }

  private jobKeyOf(pod: Pod): string | undefined {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== kind) return undefined;
    const job = this.jobInformer.get(pod.metadata!.namespace!, ref.name);
    return job && job.metadata?.uid === ref.uid ? keyOf(job) : undefined;
  }

  /** syncJob: level-triggered; counts finished pods, decides the Job's fate, manages active pods, writes status. */
  async syncJob(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.jobInformer.get(namespace, name);
    if (!cached) {
      this.expectations.deleteExpectations(key);
      this.backoff.delete(key);
      return;
    }
    let job = clone(cached);
    const selector = selectorOf(job);
    if (!selector) return;
    const now = this.clock.now();
    const allPods = this.podInformer.list(namespace);
    const pods = await claimObjects<Pod>(allPods, {
      client: this.client,
      childResource: workloadResources.pods,
      controller: job,
      controllerAPIVersion: apiVersion,
      controllerKind: kind,
      match: (p) => selector.matches(p.metadata?.labels),
      canAdopt: recheckDeletionTimestamp(() => this.client.get(workloadResources.jobs, namespace, name), job),
    });

    if (u.isJobFinished(job)) {
      // Only leftover finalizers to remove.
      await this.removeFinalizers(key, pods.filter(u.hasTrackingFinalizer));
      return;
    }
    const satisfied = this.expectations.satisfiedExpectations(key);
    const status: u.JobStatus = clone(job.status ?? {});
    const indexed = job.spec?.completionMode === 'Indexed';
    const completions = job.spec?.completions ?? undefined;
    const suspended = job.spec?.suspend === true;

    if (!suspended && !status.startTime) status.startTime = nowRFC3339(new Date(now));

    // 1. Finished pods still holding the finalizer go to uncountedTerminatedPods.
    const removed = this.finalizersRemoved.get(key) ?? new Set<string>();
    const uncounted = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
    const inUncounted = new Set([...uncounted.succeeded, ...uncounted.failed]);
    const completedIndexes = indexed ? u.parseIndexes(status.completedIndexes, completions ?? 0) : new Set<number>();
    const failedIndexes = indexed ? u.parseIndexes(status.failedIndexes, completions ?? 0) : new Set<number>();
    let failJobMessage: string | undefined;
    let newFailures = 0;
    let lastFailure = 0;
    let newSuccess = false;
    const finishingPods: Pod[] = [];
    const jobTerminating = hasTrueCondition(status, 'FailureTarget') || hasTrueCondition(status, 'SuccessCriteriaMet');
    for (const pod of pods) {
      const uid = pod.metadata!.uid!;
      if (!u.hasTrackingFinalizer(pod) || removed.has(uid) || inUncounted.has(uid)) continue;
      const terminated = u.isPodTerminated(pod);
      // A pod deleted before it finished counts as failed once nothing will run it again.
      const deletedUnfinished = !terminated && !!pod.metadata?.deletionTimestamp && (jobTerminating || suspended || !job.spec?.podFailurePolicy || !pod.spec?.nodeName);
      if (!terminated && !deletedUnfinished) continue;
      if (pod.status?.phase === 'Succeeded') {
        const idx = indexed ? u.getCompletionIndex(pod) : undefined;
        if (indexed && (idx === undefined || idx >= (completions ?? 0))) {
          finishingPods.push(pod);
          continue;
        }
        uncounted.succeeded.push(uid);
        if (idx !== undefined) completedIndexes.add(idx);
        newSuccess = true;
      } else {
        let action: string | undefined;
        if (pod.status?.phase === 'Failed' && job.spec?.podFailurePolicy) {
          const m = u.matchPodFailurePolicy(job, pod);
          action = m.action;
          if (action === 'FailJob' && !failJobMessage) failJobMessage = m.message;
          if (action === 'FailIndex') {
            const idx = u.getCompletionIndex(pod);
            if (idx !== undefined) failedIndexes.add(idx);
          }
        }
        if (action === 'Ignore') {
          // Neither counted nor a reason for backoff: only the finalizer goes.
          finishingPods.push(pod);
          continue;
        }
        uncounted.failed.push(uid);
        newFailures++;
        lastFailure = Math.max(lastFailure, u.podFinishTime(pod, now));
      }
      finishingPods.push(pod);
    }
    status.uncountedTerminatedPods = uncounted;
    if (newSuccess) this.backoff.delete(key);
    if (newFailures > 0) {
      const rec = this.backoff.get(key) ?? { failuresAfterLastSuccess: 0, lastFailureTime: 0 };
      rec.failuresAfterLastSuccess += newFailures;
      rec.lastFailureTime = Math.max(rec.lastFailureTime, lastFailure);
      this.backoff.set(key, rec);
    }

    // 2. Counts, including those not yet moved out of uncounted.
    const active = pods.filter((p) => !u.isPodTerminated(p) && !p.metadata?.deletionTimestamp);
    const terminating = pods.filter((p) => !u.isPodTerminated(p) && !!p.metadata?.deletionTimestamp);
    const succeeded = indexed ? completedIndexes.size : (status.succeeded ?? 0) + uncounted.succeeded.length;
    const failed = (status.failed ?? 0) + uncounted.failed.length;

    // 3. Has the Job reached a terminal state?
    if (!jobTerminating) {
      let failure: { reason: string; message: string } | undefined;
      if (failJobMessage) failure = { reason: u.reasons.podFailurePolicy, message: failJobMessage };
      else if (failed > (job.spec?.backoffLimit ?? 6)) failure = { reason: u.reasons.backoffLimitExceeded, message: 'Job has reached the specified backoff limit' };
      else if (this.pastActiveDeadline(job, status, now)) failure = { reason: u.reasons.deadlineExceeded, message: 'Job was active longer than specified deadline' };
      if (failure) {
        u.setCondition(status, 'FailureTarget', 'True', failure.reason, failure.message, now);
        this.recorder.event(job, 'Warning', failure.reason, failure.message);
      } else {
        let complete: boolean;
        if (indexed) complete = completedIndexes.size >= (completions ?? 0);
        else if (completions === undefined || completions === null) complete = succeeded > 0 && active.length === 0;
        else complete = succeeded >= completions;
        if (complete) u.setCondition(status, 'SuccessCriteriaMet', 'True', u.reasons.completionsReached, 'Reached expected number of succeeded pods', now);
      }
    }
    const finishing = hasTrueCondition(status, 'FailureTarget') || hasTrueCondition(status, 'SuccessCriteriaMet');

    // 4. Manage pods: delete them all when finishing or suspended, else reconcile the active count.
    let manageErr: unknown;
    let activeCount = active.length;
    if (satisfied || finishing) {
      try {
        if (finishing || suspended) {
          activeCount -= await this.deletePods(job, key, active);
        } else {
          activeCount += await this.manageActive(job, key, active, succeeded, completedIndexes, failedIndexes, now);
        }
      } catch (e) {
        manageErr = e;
      }
    }
    if (suspended !== hasTrueCondition(status, 'Suspended') && !finishing) {
      if (suspended) {
        u.setCondition(status, 'Suspended', 'True', u.reasons.jobSuspended, 'Job suspended', now);
        this.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
      } else if (u.findCondition(status, 'Suspended')) {
        u.setCondition(status, 'Suspended', 'False', u.reasons.jobResumed, 'Job resumed', now);
        this.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
        // The active deadline counts from the resume.
        status.startTime = nowRFC3339(new Date(now));
      }
    }

    status.active = activeCount;
    status.ready = active.filter(isPodReady).length;
    status.terminating = terminating.length;
    if (indexed) {
      status.completedIndexes = u.formatIndexes(completedIndexes);
      if (job.spec?.backoffLimitPerIndex !== undefined && job.spec.backoffLimitPerIndex !== null) status.failedIndexes = u.formatIndexes(failedIndexes);
    }

    // 5. Write uncounted, remove finalizers, then count. Each write is a compare-and-swap.
    if (!deepEqual(job.status ?? {}, status)) job = await this.writeStatus(job, status);
    await this.removeFinalizers(key, finishingPods);
    const counted = clone(job.status ?? {});
    counted.succeeded = indexed ? completedIndexes.size : (counted.succeeded ?? 0) + uncounted.succeeded.length;
    counted.failed = (counted.failed ?? 0) + uncounted.failed.length;
    counted.uncountedTerminatedPods = {};
    if (!counted.succeeded) delete counted.succeeded;
    if (!counted.failed) delete counted.failed;

    // 6. Terminal conditions once nothing is left running.
    // Pods deleted in this sync are still terminating: wait for them to be gone.
    const stillRunning = active.length > 0 || terminating.length > 0;
    if (finishing && !stillRunning) {
      const target = u.findCondition(counted, 'FailureTarget');
      if (target?.status === 'True') {
        u.setCondition(counted, 'Failed', 'True', target.reason ?? '', target.message ?? '', now);
      } else {
        u.setCondition(counted, 'Complete', 'True', '', '', now);
        counted.completionTime = nowRFC3339(new Date(now));
        this.recorder.event(job, 'Normal', 'Completed', 'Job completed');
      }
    }
    if (!deepEqual(job.status ?? {}, counted)) job = await this.writeStatus(job, counted);
    if (manageErr) throw manageErr;

    // Look again when the deadline passes.
    const deadline = this.activeDeadlineRemaining(job, now);
    if (deadline !== undefined && !u.isJobFinished(job)) this.queue.addAfter(key, deadline);
  }

  private pastActiveDeadline(job: Job, status: u.JobStatus, now: number): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    if (ads === undefined || ads === null || !status.startTime || job.spec?.suspend) return false;
    return now - Date.parse(status.startTime) >= ads * 1000;
  }

  private activeDeadlineRemaining(job: Job, now: number): number | undefined {
    const ads = job.spec?.activeDeadlineSeconds;
    if (ads === undefined || ads === null || !job.status?.startTime || job.spec?.suspend) return undefined;
    return Math.max(0, Date.parse(job.status.startTime) + ads * 1000 - now);
  }

  /** manageJob: creates or deletes pods towards the wanted active count; returns the change in active pods. */
  private async manageActive(job: Job, key: string, active: Pod[], succeeded: number, completedIndexes: Set<number>, failedIndexes: Set<number>, now: number): Promise<number> {
    const parallelism = job.spec?.parallelism ?? 1;
    const completions = job.spec?.completions;
    const indexed = job.spec?.completionMode === 'Indexed';
    let wantActive: number;
    if (completions === undefined || completions === null) wantActive = succeeded > 0 ? active.length : parallelism;
    else wantActive = Math.max(0, Math.min(completions - succeeded - (indexed ? failedIndexes.size : 0), parallelism));

    // Indexed: duplicates and pods of completed or failed indexes go.
    let excess: Pod[] = [];
    if (indexed) {
      const seen = new Set<number>();
      for (const p of [...active].sort((a, b) => Number(isPodReady(b)) - Number(isPodReady(a)))) {
        const idx = u.getCompletionIndex(p);
        if (idx === undefined || idx >= (completions ?? 0) || seen.has(idx) || completedIndexes.has(idx) || failedIndexes.has(idx)) excess.push(p);
        else seen.add(idx);
      }
    }
    const remaining = active.filter((p) => !excess.includes(p));
    if (remaining.length > wantActive) excess = [...excess, ...podsToDelete(remaining, remaining, remaining.length - wantActive, now)];
    if (excess.length) return -(await this.deletePods(job, key, excess.slice(0, maxPodCreateDeletePerSync)));

    let diff = Math.min(wantActive - remaining.length, maxPodCreateDeletePerSync);
    if (diff <= 0) return 0;
    // Backoff after failures: no new pods until it has passed.
    const rec = this.backoff.get(key);
    if (rec) {
      const delay = u.backoffDelayMs(rec.failuresAfterLastSuccess, this.opts.backoffBaseMs, this.opts.backoffMaxMs);
      const wait = rec.lastFailureTime + delay - now;
      if (wait > 0) {
        this.queue.addAfter(key, wait);
        return 0;
      }
    }
    const indexes: number[] = [];
    if (indexed) {
      const activeIdx = new Set(remaining.map((p) => u.getCompletionIndex(p)));
      for (let i = 0; i < (completions ?? 0) && indexes.length < diff; i++) {
        if (!completedIndexes.has(i) && !failedIndexes.has(i) && !activeIdx.has(i)) indexes.push(i);
      }
      diff = indexes.length;
      if (diff === 0) return 0;
    }
    this.expectations.expectCreations(key, diff);
    const ref = newControllerRef(job, apiVersion, kind);
    let n = 0;
    const { successes, error } = await slowStartBatch(diff, 1, async () => {
      const idx = indexed ? indexes[n++] : undefined;
      try {
        await this.createPod(job, ref, idx);
      } catch (e) {
        if (hasStatusCause(e, namespaceTerminatingCause)) return;
        throw e;
      }
    });
    for (let i = 0; i < diff - successes; i++) this.expectations.creationObserved(key);
    if (error !== undefined) throw error;
    return successes;
  }

  private async createPod(job: Job, ref: ReturnType<typeof newControllerRef>, index: number | undefined): Promise<void> {
    const pod = podFromTemplate(job.spec!.template, job, ref);
    pod.metadata!.finalizers = [...(pod.metadata!.finalizers ?? []), u.jobTrackingFinalizer];
    if (index !== undefined) {
      const idx = String(index);
      pod.metadata!.generateName = `${job.metadata!.name}-${idx}-`;
      pod.metadata!.annotations = { ...(pod.metadata!.annotations ?? {}), [u.jobCompletionIndexAnnotation]: idx };
      pod.metadata!.labels = { ...(pod.metadata!.labels ?? {}), [u.jobCompletionIndexAnnotation]: idx };
      pod.spec!.hostname ??= `${job.metadata!.name}-${idx}`;
      const env = { name: u.completionIndexEnvName, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${u.jobCompletionIndexAnnotation}']` } } };
      for (const c of [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers]) {
        if (!c.env?.some((e) => e.name === u.completionIndexEnvName)) c.env = [...(c.env ?? []), env];
      }
    }
    try {
      const created = await this.client.create<Pod>(workloadResources.pods, job.metadata!.namespace, pod);
      this.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata!.name}`);
    } catch (e) {
      if (!hasStatusCause(e, namespaceTerminatingCause)) this.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  }

  /** Deletes pods (they stay, terminating, until their finalizer goes); returns how many were deleted. */
  private async deletePods(job: Job, key: string, pods: Pod[]): Promise<number> {
    const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
    if (!live.length) return 0;
    this.expectations.expectDeletionsOf(key, live.map(podKey));
    let deleted = 0;
    const results = await Promise.allSettled(
      live.map(async (p) => {
        try {
          await this.client.delete(workloadResources.pods, p.metadata!.namespace, p.metadata!.name!);
          deleted++;
          this.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata!.name}`);
        } catch (e) {
          this.expectations.deletionObservedOf(key, podKey(p));
          if (isNotFound(e)) return;
          this.recorder.event(job, 'Warning', 'FailedDelete', `Error deleting: ${e instanceof Error ? e.message : String(e)}`);
          throw e;
        }
      }),
    );
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    return deleted;
  }

  /** Removes the tracking finalizer (a JSON patch guarded by a test of the list, so concurrent edits conflict). */
  private async removeFinalizers(key: string, pods: Pod[]): Promise<void> {
    let set = this.finalizersRemoved.get(key);
    if (!set) this.finalizersRemoved.set(key, (set = new Set()));
    const errs: unknown[] = [];
    await Promise.all(
      pods.map(async (p) => {
        const finalizers = p.metadata?.finalizers ?? [];
        const i = finalizers.indexOf(u.jobTrackingFinalizer);
        if (i < 0) return;
        try {
          await this.client.patch(workloadResources.pods, p.metadata!.namespace, p.metadata!.name!, 'json', [
            { op: 'test', path: `/metadata/finalizers/${i}`, value: u.jobTrackingFinalizer },
            { op: 'remove', path: `/metadata/finalizers/${i}` },
          ]);
          set.add(p.metadata!.uid!);
        } catch (e) {
          if (isNotFound(e)) return;
          errs.push(e);
        }
      }),
    );
    if (errs.length) throw errs[0];
  }

  private async writeStatus(job: Job, status: u.JobStatus): Promise<Job> {
    try {
      return await this.client.updateStatus<Job>(workloadResources.jobs, { ...job, status });
    } catch (e) {
      if (isConflict(e)) this.logger.debug({ job: keyOf(job) }, 'status conflict; requeuing');
      throw e;
    }
  }
}

function hasTrueCondition(status: u.JobStatus, type: string): boolean {
  return u.findCondition(status, type)?.status === 'True';
}

function selectorOf(job: Job): Selector | undefined {
  try {
    return labelSelectorAsSelector(job.spec?.selector as LabelSelector | undefined);
  } catch {
    return undefined;
  }
}

/** The Job controller, as kube-controller-manager starts it (`job`). */
export function newJobController(ctx: ControllerContext, opts: JobControllerOptions): JobController {
  return new JobController(ctx, opts);
}
