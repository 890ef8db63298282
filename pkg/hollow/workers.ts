/**
 * The write pools of the hollow nodes: work-queue workers (the queue dedupes keys, the worker
 * count bounds the writes in flight) and a retry helper for the one-off registration writes.
 *
 * Retrying follows client-go: 429 waits as the server's Retry-After says, a 409 Conflict, a 5xx
 * or a dropped connection backs off exponentially; other 4xx answers are final.
 */
import type { Logger } from 'pino';
import { isApiError, isConflict } from '../client/rest.js';
import type { Clock } from '../controller/framework/clock.js';
import type { RateLimitingQueue } from '../controller/framework/workqueue.js';

/** The server's Retry-After (from a 429's Status details) in ms, or undefined. */
export function retryAfterMs(e: unknown): number | undefined {
  if (!isApiError(e) || e.code !== 429) return undefined;
  const s = e.status?.details?.retryAfterSeconds;
  return (typeof s === 'number' && s > 0 ? s : 1) * 1000;
}

/** Whether a failed write is worth repeating as it was. */
export function isRetriable(e: unknown): boolean {
  if (!isApiError(e)) return true;
  return e.code === 429 || isConflict(e) || e.code >= 500;
}

/**
 * Runs `workers` loops over the queue until it shuts down. A failed key is requeued: after the
 * Retry-After of a 429, else with the queue's per-key backoff.
 */
export async function runQueueWorkers(queue: RateLimitingQueue<string>, sync: (key: string) => Promise<void>, workers: number, logger: Logger): Promise<void> {
  const loop = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (e) {
        if (!queue.shuttingDown()) {
          const after = retryAfterMs(e);
          if (after !== undefined) queue.addAfter(key, after);
          else queue.addRateLimited(key);
          const msg = e instanceof Error ? e.message : String(e);
          if (isRetriable(e)) logger.debug({ key, err: msg }, 'write failed; retrying');
          else logger.warn({ key, err: msg }, 'write failed; retrying');
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, loop));
}

/** Calls `fn` until it succeeds, retrying retriable failures with backoff; throws the last error otherwise. */
export async function withRetries<T>(fn: () => Promise<T>, clock: Clock, signal: AbortSignal, maxAttempts = 10): Promise<T> {
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (signal.aborted || attempt >= maxAttempts || !isRetriable(e)) throw e;
      await clock.sleep(retryAfterMs(e) ?? delay, signal);
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/** Runs `task(i)` for i in [0, total) with at most `limit` in flight; rejects with the first failure. */
export async function forEachLimited(total: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, total)) }, async () => {
      while (failed === undefined) {
        const i = next++;
        if (i >= total) return;
        try {
          await task(i);
        } catch (e) {
          failed ??= e;
        }
      }
    }),
  );
  if (failed !== undefined) throw failed;
}
