/**
 * The worker loop every controller runs (`processNextWorkItem` upstream): take a key, sync it,
 * forget it on success, requeue it rate-limited on failure. All retrying happens here.
 */
import type { Logger } from 'pino';
import type { RateLimitingQueue } from './workqueue.js';

export interface WorkerOptions {
  /** How many goroutine-equivalents process keys at once (`--concurrent-*-syncs`). */
  workers: number;
  logger: Logger;
  /** Give up on a key after this many requeues (deployment: 15); unlimited when unset. */
  maxRetries?: number;
}

/** Runs `workers` loops until the queue shuts down; resolves when they have all stopped. */
export async function runWorkers(queue: RateLimitingQueue<string>, sync: (key: string) => Promise<void>, opts: WorkerOptions): Promise<void> {
  const loop = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (e) {
        if (queue.shuttingDown()) {
          // Errors while stopping are expected (aborted requests).
        } else if (opts.maxRetries === undefined || queue.numRequeues(key) < opts.maxRetries) {
          opts.logger.info({ key, err: errMessage(e) }, 'error syncing; requeuing');
          queue.addRateLimited(key);
        } else {
          opts.logger.warn({ key, err: errMessage(e) }, 'dropping key out of the queue after too many retries');
          queue.forget(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.workers) }, loop));
}

export function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
