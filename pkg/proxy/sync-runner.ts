/**
 * Runs a sync function no more often than `minIntervalMs` and at least every `maxIntervalMs`
 * (upstream's async.BoundedFrequencyRunner, without bursts). Requests made while the function
 * runs, or before the minimum interval has passed, fold into one later run: a storm of informer
 * events costs one iptables-restore per interval.
 */
import type { Clock, ClockTimer } from '../controller/framework/clock.js';

export class BoundedFrequencyRunner {
  private lastRun = Number.NEGATIVE_INFINITY;
  private running = false;
  private rerun = false;
  private timer: ClockTimer | undefined;
  private nextAt = Number.POSITIVE_INFINITY;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly maxIntervalMs: number,
    private readonly clock: Clock,
  ) {}

  /** Asks for a run as soon as the minimum interval allows. */
  run(): void {
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.scheduleAt(Math.max(this.clock.now(), this.lastRun + this.minIntervalMs));
  }

  /** Asks for a run after `ms` unless one comes sooner (a failed sync's retry). */
  retryAfter(ms: number): void {
    this.scheduleAt(this.clock.now() + ms);
  }

  /** Stops scheduling; resolves when a run in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.idle;
  }

  private scheduleAt(at: number): void {
    if (this.stopped) return;
    if (this.timer && this.nextAt <= at) return;
    this.timer?.cancel();
    this.nextAt = at;
    this.timer = this.clock.setTimeout(() => this.tick(), at - this.clock.now());
  }

  private tick(): void {
    this.timer = undefined;
    this.nextAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    this.lastRun = this.clock.now();
    this.idle = this.fn()
      .catch(() => undefined)
      .finally(() => {
        this.running = false;
        if (this.stopped) return;
        if (this.rerun) {
          this.rerun = false;
          this.run();
        }
        this.scheduleAt(this.lastRun + this.maxIntervalMs);
      });
  }
}
