/**
 * The CronJob controller (pkg/controller/cronjob/cronjob_controllerv2.go): starts a Job at each
 * scheduled time.
 * - Jobs are named `<cronjob>-<scheduled time in minutes since the epoch>` and annotated with
 *   `batch.kubernetes.io/cronjob-scheduled-timestamp`, so a start time is never run twice;
 * - startingDeadlineSeconds skips start times missed by more than that; more than 100 missed
 *   times since the last one is reported (TooManyMissedTimes) and only the latest is started;
 * - concurrencyPolicy Allow, Forbid (skip while a Job is active) and Replace (delete the active
 *   Jobs first); suspend stops new starts;
 * - status.active, lastScheduleTime and lastSuccessfulTime; finished Jobs beyond
 *   successfulJobsHistoryLimit and failedJobsHistoryLimit are deleted, oldest first.
 * Time comes from the injected clock, and the queue's addAfter wakes the CronJob at its next
 * start time.
 */
import type { Logger } from 'pino';
import type { CronJob, Job } from '../../api/types.js';
import { clone, deepEqual, nowRFC3339 } from '../../api/meta.js';
import { isAlreadyExists, isConflict, isNotFound, type RestClient } from '../../client/rest.js';
import type { Clock } from '../framework/clock.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { getControllerOf, newControllerRef } from '../framework/controller-ref.js';
import type { EventRecorder } from '../framework/event-recorder.js';
import { keyOf, splitKey, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { workloadResources } from '../history/resources.js';
import { hasTrueCondition, isJobFinished } from '../job/job-utils.js';
import { maxMissedStartTimes, mostRecentScheduleTime, nextScheduleTime, parseSchedule, type ParsedSchedule } from './schedule.js';

export const cronJobScheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronJobControllerOptions {
  workers: number;
}

type CronJobStatus = NonNullable<CronJob['status']>;
type ObjectReference = NonNullable<CronJobStatus['active']>[number];

/** A little past the start time, so that the clock has surely reached it (nextScheduleTimeDuration). */
const nextScheduleDelta = 100;

/** getJobName: the scheduled time in minutes since the epoch. */
export function jobNameFor(cj: CronJob, scheduledTime: number): string {
  return `${cj.metadata!.name}-${Math.floor(scheduledTime / 60_000)}`;
}

export class CronJobController implements Controller {
  readonly name = 'cronjob-controller';
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  private readonly queue: RateLimitingQueue<string>;
  private readonly cjInformer: SharedInformer<CronJob>;
  private readonly jobInformer: SharedInformer<Job>;

  constructor(
    ctx: ControllerContext,
    private readonly opts: CronJobControllerOptions,
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.recorder = ctx.events.newRecorder(this.name);
    this.queue = newQueue(ctx, 'cronjob');
    this.cjInformer = ctx.informers.informerFor<CronJob>(workloadResources.cronJobs);
    this.jobInformer = ctx.informers.informerFor<Job>(workloadResources.jobs);
    this.cjInformer.addEventHandler({
      add: (cj) => this.queue.add(keyOf(cj)),
      update: (_o, cj) => this.queue.add(keyOf(cj)),
      delete: (cj) => this.queue.add(keyOf(cj)),
    });
    const onJob = (j: Job) => {
      const ref = getControllerOf(j);
      if (!ref || ref.kind !== 'CronJob') return;
      const cj = this.cjInformer.get(j.metadata!.namespace!, ref.name);
      if (cj && cj.metadata?.uid === ref.uid) this.queue.add(keyOf(cj));
    };
    this.jobInformer.addEventHandler({ add: onJob, update: (_o, j) => onJob(j), delete: onJob });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.cjInformer, this.jobInformer], signal))) return;
    this.logger.info('caches synced; starting workers');
    await runWorkers(this.queue, (key) => this.sync(key), { workers: this.opts.workers, logger: this.logger });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.cjInformer.get(namespace, name);
    if (!cached) return;
    const cj = clone(cached);
    const jobs = this.jobInformer.list(namespace).filter((j) => getControllerOf(j)?.uid === cj.metadata?.uid);
    const status: CronJobStatus = clone(cj.status ?? {});
    const requeueAfter = await this.syncCronJob(cj, status, jobs);
    if (!deepEqual(cj.status ?? {}, status) && !(await this.updateStatus(cj, status))) return;
    await this.cleanupFinishedJobs(cj, jobs);
    if (requeueAfter !== undefined) this.queue.addAfter(key, requeueAfter);
  }

  /** syncCronJob: updates `status` in place; returns when to look again. */
  private async syncCronJob(cj: CronJob, status: CronJobStatus, jobs: Job[]): Promise<number | undefined> {
    const now = this.clock.now();
    const ns = cj.metadata!.namespace!;
    const byUid = new Map(jobs.map((j) => [j.metadata!.uid!, j]));
    let active = [...(status.active ?? [])];
    for (const j of jobs) {
      const inActive = active.some((a) => a.uid === j.metadata!.uid);
      if (!inActive && !isJobFinished(j)) {
        // Ours but not listed (a lost status write): list it.
        active.push(jobReference(j));
      } else if (inActive && isJobFinished(j)) {
        active = active.filter((a) => a.uid !== j.metadata!.uid);
        const cond = hasTrueCondition(j, 'Complete') ? 'Complete' : 'Failed';
        this.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata!.name}, condition: ${cond}`);
      }
      if (hasTrueCondition(j, 'Complete') && j.status?.completionTime) {
        if (!status.lastSuccessfulTime || Date.parse(status.lastSuccessfulTime) < Date.parse(j.status.completionTime)) status.lastSuccessfulTime = j.status.completionTime;
      }
    }
    // Active entries whose Job is gone.
    for (const a of [...active]) {
      if (byUid.has(a.uid ?? '')) continue;
      try {
        const j = await this.client.get<Job>(workloadResources.jobs, ns, a.name!);
        if (j.metadata?.uid === a.uid) continue;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      this.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${a.name}`);
      active = active.filter((x) => x.uid !== a.uid);
    }
    status.active = active.length ? active : undefined;
    if (!status.active) delete status.active;

    if (cj.metadata?.deletionTimestamp) return undefined;
    if (cj.spec?.timeZone && !isValidTz(cj.spec.timeZone)) {
      this.recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(cj.spec.timeZone)}`);
      return undefined;
    }
    let sched: ParsedSchedule;
    try {
      sched = parseSchedule(cj.spec?.schedule ?? '', cj.spec?.timeZone);
    } catch (e) {
      this.recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec?.schedule)} : ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    if (cj.spec?.suspend) return undefined;

    const created = Date.parse(cj.metadata?.creationTimestamp ?? '') || now;
    let earliest = status.lastScheduleTime ? Date.parse(status.lastScheduleTime) : created;
    const sds = cj.spec?.startingDeadlineSeconds;
    if (sds !== undefined && sds !== null) earliest = Math.max(earliest, now - sds * 1000);
    const { time: scheduled, missed } = mostRecentScheduleTime(sched, earliest, now);
    const next = nextScheduleTime(sched, now) - now + nextScheduleDelta;
    if (missed > maxMissedStartTimes) {
      this.recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    if (scheduled === undefined) return next;
    if (sds !== undefined && sds !== null && scheduled + sds * 1000 < now) {
      this.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${new Date(scheduled).toISOString()}`);
      return next;
    }
    const jobName = jobNameFor(cj, scheduled);
    if (active.some((a) => a.name === jobName) || jobs.some((j) => j.metadata!.name === jobName)) return next;

    const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length > 0) {
      this.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return next;
    }
    if (policy === 'Replace') {
      for (const a of active) {
        try {
          await this.client.delete(workloadResources.jobs, ns, a.name!, { propagationPolicy: 'Background', preconditions: { uid: a.uid } });
          this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${a.name}`);
        } catch (e) {
          if (!isNotFound(e)) {
            this.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${e instanceof Error ? e.message : String(e)}`);
            throw e;
          }
        }
      }
      active = [];
      delete status.active;
    }

    const job = this.jobFromTemplate(cj, jobName, scheduled, sched);
    let createdJob: Job;
    try {
      createdJob = await this.client.create<Job>(workloadResources.jobs, ns, job);
      this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`);
    } catch (e) {
      if (!isAlreadyExists(e)) {
        this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
      // Created by an earlier sync whose status write was lost, or by someone else.
      createdJob = await this.client.get<Job>(workloadResources.jobs, ns, jobName);
      if (getControllerOf(createdJob)?.uid !== cj.metadata?.uid) return next;
      if (isJobFinished(createdJob)) {
        status.lastScheduleTime = nowRFC3339(new Date(scheduled));
        return next;
      }
    }
    if (!active.some((a) => a.uid === createdJob.metadata!.uid)) active.push(jobReference(createdJob));
    status.active = active;
    status.lastScheduleTime = nowRFC3339(new Date(scheduled));
    return next;
  }

  /** getJobFromTemplate2. */
  private jobFromTemplate(cj: CronJob, name: string, scheduled: number, sched: ParsedSchedule): Job {
    const tmpl = cj.spec?.jobTemplate ?? {};
    const annotations: Record<string, string> = { ...(tmpl.metadata?.annotations ?? {}), [cronJobScheduledTimestampAnnotation]: formatInZone(scheduled, sched.tz) };
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata!.namespace,
        labels: { ...(tmpl.metadata?.labels ?? {}) },
        annotations,
        ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
      },
      spec: clone(tmpl.spec)!,
    };
  }

  /** cleanupFinishedJobs: keeps the newest N successful and M failed Jobs. */
  private async cleanupFinishedJobs(cj: CronJob, jobs: Job[]): Promise<void> {
    const ns = cj.metadata!.namespace!;
    const prune = async (finished: Job[], limit: number | undefined | null) => {
      if (limit === undefined || limit === null) return;
      const sorted = finished.sort((a, b) => startOf(a) - startOf(b));
      for (const j of sorted.slice(0, Math.max(0, sorted.length - limit))) {
        try {
          await this.client.delete(workloadResources.jobs, ns, j.metadata!.name!, { propagationPolicy: 'Background', preconditions: { uid: j.metadata!.uid } });
          this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata!.name}`);
        } catch (e) {
          if (!isNotFound(e) && !isConflict(e)) throw e;
        }
      }
    };
    const live = jobs.filter((j) => !j.metadata?.deletionTimestamp);
    await prune(
      live.filter((j) => hasTrueCondition(j, 'Complete')),
      cj.spec?.successfulJobsHistoryLimit ?? 3,
    );
    await prune(
      live.filter((j) => hasTrueCondition(j, 'Failed')),
      cj.spec?.failedJobsHistoryLimit ?? 1,
    );
  }

  /**
   * Writes status with the cached object's resourceVersion. On a conflict the cache was stale and
   * so was the status computed from it (lastScheduleTime is state, not a count): sync again once
   * the cache has caught up instead of writing it over the newer one.
   */
  private async updateStatus(cj: CronJob, status: CronJobStatus): Promise<boolean> {
    try {
      await this.client.updateStatus<CronJob>(workloadResources.cronJobs, { ...cj, status });
      return true;
    } catch (e) {
      if (!isConflict(e)) throw e;
      this.queue.add(keyOf(cj));
      return false;
    }
  }
}

function isValidTz(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function jobReference(j: Job): ObjectReference {
  return { kind: 'Job', namespace: j.metadata!.namespace, name: j.metadata!.name, uid: j.metadata!.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata!.resourceVersion };
}

function startOf(j: Job): number {
  return Date.parse(j.status?.startTime ?? j.metadata?.creationTimestamp ?? '') || 0;
}

/** RFC 3339 with the zone's offset (UTC as `Z`), as Go formats a time in a location. */
export function formatInZone(t: number, tz: string): string {
  if (tz === 'UTC' || tz === 'Etc/UTC') return nowRFC3339(new Date(t));
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offMin = Math.round((local - Math.floor(t / 1000) * 1000) / 60_000);
  if (offMin === 0) return nowRFC3339(new Date(t));
  const sign = offMin < 0 ? '-' : '+';
  const abs = Math.abs(offMin);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The CronJob controller, as kube-controller-manager starts it (`cronjob`). */
export function newCronJobController(ctx: ControllerContext, opts: CronJobControllerOptions): CronJobController {
  return new CronJobController(ctx, opts);
}
