/**
 * The rate-limited work queue, as client-go's util/workqueue (Type + DelayingQueue +
 * RateLimitingQueue).
 *
 * Invariants, as upstream:
 * - an item is queued at most once ("dirty" set): adding it again before a worker takes it is a
 *   no-op;
 * - an item is processed by at most one worker at a time: adding it while it is processed marks it
 *   dirty, and `done` requeues it;
 * - `addAfter` holds an item until its time (the earliest wins when added twice);
 * - `addRateLimited` waits as the rate limiter says; `forget` resets the item's backoff.
 */
import type { Clock, ClockTimer } from './clock.js';
import type { RateLimiter } from './rate-limiter.js';
import type { QueueMetrics, WorkqueueMetricsProvider } from './workqueue-metrics.js';

export interface WorkQueueOptions<T> {
  /** The queue's name: the `name` label of its metrics and the controller's name. */
  name: string;
  clock: Clock;
  rateLimiter: RateLimiter<T>;
  metrics?: WorkqueueMetricsProvider;
}

const noMetrics: QueueMetrics = { add() {}, get() {}, done() {}, retry() {}, setDepth() {} };

export class RateLimitingQueue<T = string> {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter<T>;
  private readonly metrics: QueueMetrics;
  private readonly metricsProvider?: WorkqueueMetricsProvider;

  private queue: T[] = [];
  private readonly dirty = new Set<T>();
  private readonly processing = new Map<T, number>();
  private readonly addedAt = new Map<T, number>();
  private readonly waiting = new Map<T, { readyAt: number; timer: ClockTimer }>();
  private getters: ((item: T | undefined) => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private depth = 0;
  private stopping = false;

  constructor(opts: WorkQueueOptions<T>) {
    this.name = opts.name;
    this.clock = opts.clock;
    this.rateLimiter = opts.rateLimiter;
    this.metricsProvider = opts.metrics;
    this.metrics = opts.metrics ? opts.metrics.forQueue(opts.name, { processingSince: () => [...this.processing.values()] }) : noMetrics;
  }

  /** Queues `item` unless it is already queued; a worker processing it will see it again. */
  add(item: T): void {
    if (this.stopping) return;
    if (this.dirty.has(item)) return;
    this.metrics.add();
    this.depth++;
    this.metrics.setDepth(this.depth);
    if (!this.addedAt.has(item)) this.addedAt.set(item, this.clock.now());
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    this.push(item);
  }

  /** Queues `item` after `ms` (at once when ms ≤ 0). */
  addAfter(item: T, ms: number): void {
    if (this.stopping) return;
    this.metrics.retry();
    if (ms <= 0) {
      this.add(item);
      return;
    }
    const readyAt = this.clock.now() + ms;
    const existing = this.waiting.get(item);
    if (existing && existing.readyAt <= readyAt) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(item);
      this.add(item);
    }, ms);
    this.waiting.set(item, { readyAt, timer });
  }

  /** Queues `item` once the rate limiter allows: its backoff grows with every call. */
  addRateLimited(item: T): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** Forgets `item`'s failures: its next `addRateLimited` starts from the base delay. */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }

  /** The next item, waiting for one; undefined once the queue shuts down. */
  get(): Promise<T | undefined> {
    if (this.queue.length > 0) return Promise.resolve(this.take());
    if (this.stopping) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `item` processed; if it was added meanwhile, it is queued again. */
  done(item: T): void {
    const started = this.processing.get(item);
    if (started !== undefined) this.metrics.done(this.clock.now() - started);
    this.processing.delete(item);
    if (this.dirty.has(item)) this.push(item);
    else if (this.processing.size === 0) this.notifyDrained();
  }

  len(): number {
    return this.queue.length;
  }

  shuttingDown(): boolean {
    return this.stopping;
  }

  /** Stops the queue: waiting workers get undefined and nothing more is added. */
  shutDown(): void {
    this.stopping = true;
    for (const w of this.waiting.values()) w.timer.cancel();
    this.waiting.clear();
    const getters = this.getters;
    this.getters = [];
    for (const g of getters) g(undefined);
    this.metricsProvider?.release(this.name);
    if (this.processing.size === 0) this.notifyDrained();
  }

  /** Shuts down and waits for the items being processed to be done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private push(item: T): void {
    const g = this.getters.shift();
    if (g) {
      // A worker is waiting: hand the item over directly.
      this.queue.push(item);
      g(this.take());
      return;
    }
    this.queue.push(item);
  }

  private take(): T {
    const item = this.queue.shift()!;
    this.depth--;
    this.metrics.setDepth(this.depth);
    const now = this.clock.now();
    const added = this.addedAt.get(item);
    if (added !== undefined) this.metrics.get(now - added);
    this.addedAt.delete(item);
    this.processing.set(item, now);
    this.dirty.delete(item);
    return item;
  }

  private notifyDrained(): void {
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }
}
