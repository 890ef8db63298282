/**
 * The TTL-after-finished controller (pkg/controller/ttlafterfinished): a Job with
 * `ttlSecondsAfterFinished` is deleted (with its pods, in the foreground) that many seconds after
 * it finished. Before deleting, the Job is read fresh: its TTL or finish time may have changed.
 */
import type { Logger } from 'pino';
import type { Job } from '../../api/types.js';
import { isNotFound, type RestClient } from '../../client/rest.js';
import type { Clock } from '../framework/clock.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { keyOf, splitKey, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { workloadResources } from '../history/resources.js';
import { isJobFinished, jobFinishTime } from '../job/job-utils.js';

export interface TTLAfterFinishedOptions {
  workers: number;
}

/** Milliseconds until the Job expires (negative when past), or undefined when it has no TTL or is not finished. */
export function timeLeft(job: Job, now: number): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata?.deletionTimestamp || !isJobFinished(job)) return undefined;
  const finished = jobFinishTime(job);
  if (finished === undefined) return undefined;
  return finished + ttl * 1000 - now;
}

export class TTLAfterFinishedController implements Controller {
  readonly name = 'ttl-after-finished-controller';
  private readonly client: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly queue: RateLimitingQueue<string>;
  private readonly jobInformer: SharedInformer<Job>;

  constructor(
    ctx: ControllerContext,
    private readonly opts: TTLAfterFinishedOptions,
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.queue = newQueue(ctx, 'ttl_jobs_to_delete');
    this.jobInformer = ctx.informers.informerFor<Job>(workloadResources.jobs);
    const onJob = (j: Job) => {
      if (timeLeft(j, this.clock.now()) !== undefined) this.queue.add(keyOf(j));
    };
    this.jobInformer.addEventHandler({ add: onJob, update: (_o, j) => onJob(j) });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.jobInformer], signal))) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers: this.opts.workers, logger: this.logger });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.jobInformer.get(namespace, name);
    if (!cached) return;
    const left = timeLeft(cached, this.clock.now());
    if (left === undefined) return;
    if (left > 0) {
      this.queue.addAfter(key, left);
      return;
    }
    let fresh: Job;
    try {
      fresh = await this.client.get<Job>(workloadResources.jobs, namespace, name);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    const freshLeft = timeLeft(fresh, this.clock.now());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) {
      this.queue.addAfter(key, freshLeft);
      return;
    }
    this.logger.info({ job: key }, 'cleaning up finished job');
    try {
      await this.client.delete(workloadResources.jobs, namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata!.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

export function newTTLAfterFinishedController(ctx: ControllerContext, opts: TTLAfterFinishedOptions): TTLAfterFinishedController {
  return new TTLAfterFinishedController(ctx, opts);
}
