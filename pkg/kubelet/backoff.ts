/**
 * Per-key exponential backoff with upstream's semantics (client-go flowcontrol.Backoff), used for
 * CrashLoopBackOff (10s doubling to 300s) and ImagePullBackOff.
 *
 * An entry remembers its current delay and the time of the event that set it. A key is "in
 * backoff since t" while less than the delay has passed since t. An entry untouched for twice the
 * maximum delay is forgotten, so a container that ran well for ten minutes starts again at 10s.
 */
import type { Clock } from './config.js';

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly clock: Clock,
  ) {}

  private expired(eventTime: number, e: Entry): boolean {
    return eventTime - e.lastUpdate > 2 * this.maxMs;
  }

  /** Moves the key to its next delay, as of `eventTime` (default now). */
  next(key: string, eventTime = this.clock.now()): void {
    const e = this.entries.get(key);
    if (!e || this.expired(eventTime, e)) this.entries.set(key, { delayMs: this.initialMs, lastUpdate: eventTime });
    else this.entries.set(key, { delayMs: Math.min(e.delayMs * 2, this.maxMs), lastUpdate: eventTime });
  }

  /** True while the key's delay has not passed since `eventTime`. */
  isInBackOffSince(key: string, eventTime: number): boolean {
    const e = this.entries.get(key);
    if (!e || this.expired(eventTime, e)) return false;
    return this.clock.now() - eventTime < e.delayMs;
  }

  /** True while the key's delay has not passed since its last update (image pulls use this). */
  isInBackOffSinceUpdate(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    const now = this.clock.now();
    if (this.expired(now, e)) return false;
    return now - e.lastUpdate < e.delayMs;
  }

  /** How long until the key's delay since its last update has passed (0 when it has). */
  remainingMs(key: string): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    return Math.max(0, e.lastUpdate + e.delayMs - this.clock.now());
  }

  /** The current delay for a key (0 when it has none). */
  get(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** When the backoff since `eventTime` ends (for scheduling a resync). */
  endsAt(key: string, eventTime: number): number {
    return eventTime + this.get(key);
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drops entries no one touched for twice the maximum delay. */
  gc(): void {
    const now = this.clock.now();
    for (const [k, e] of this.entries) if (this.expired(now, e)) this.entries.delete(k);
  }

  /** Drops every entry whose key starts with `prefix` (a deleted pod's). */
  forgetPrefix(prefix: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
