/**
 * Work queue rate limiters, as client-go's util/workqueue: per-item exponential backoff, an
 * overall token bucket, and the max of several. `when(item)` says how long the item must wait
 * before it is queued again.
 */
import type { Clock } from './clock.js';

export interface RateLimiter<T> {
  /** How long to wait before `item` is processed again; counts one more failure for it. */
  when(item: T): number;
  /** Stops tracking `item` (it succeeded). */
  forget(item: T): void;
  /** How many times `item` has been requeued. */
  numRequeues(item: T): number;
}

/** baseDelay·2^failures, capped at maxDelay, per item. */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private failures = new Map<T, number>();

  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  when(item: T): number {
    const exp = this.failures.get(item) ?? 0;
    this.failures.set(item, exp + 1);
    const backoff = this.baseDelayMs * Math.pow(2, exp);
    return !Number.isFinite(backoff) || backoff > this.maxDelayMs ? this.maxDelayMs : backoff;
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket (golang.org/x/time/rate): `qps` tokens a second up to `burst`. Every
 * `when` reserves a token; once the bucket is empty the wait grows by 1/qps per reservation.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_item: T): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The longest wait of several limiters. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }

  when(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(item));
    return max;
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/**
 * client-go's DefaultControllerRateLimiter: 5 ms doubling to 1000 s per item, and 10 qps with a
 * burst of 100 overall.
 */
export function defaultControllerRateLimiter<T>(clock: Clock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(new ItemExponentialFailureRateLimiter<T>(5, 1000 * 1000), new BucketRateLimiter<T>(10, 100, clock));
}
