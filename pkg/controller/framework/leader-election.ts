/**
 * Leader election on coordination.k8s.io/v1 Leases, as client-go's tools/leaderelection
 * (client-node has none).
 *
 * - A candidate tries to create or take the Lease every retryPeriod (jittered). It may take it
 *   when nobody holds it or when the holder has not renewed it for leaseDuration, as measured
 *   on the candidate's own clock from when it last saw the record change (never from the
 *   timestamps written in it, so clock skew between machines does not matter).
 * - The leader renews every retryPeriod; if it cannot renew within renewDeadline it has lost and
 *   stops leading.
 * - Writes are updates with the Lease's resourceVersion: two candidates racing cannot both win.
 * - On a clean stop the leader releases the Lease (empty holder, duration 1s), so a standby takes
 *   over at once.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Lease } from '../../api/types.js';
import { nowMicroRFC3339 } from '../../api/meta.js';
import { isNotFound, resources, type RestClient } from '../../client/rest.js';
import type { Clock } from './clock.js';

/** What a Lease records about its holder (resourcelock.LeaderElectionRecord). */
export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** Clock milliseconds. */
  acquireTime: number;
  renewTime: number;
  leaderTransitions: number;
}

/** A resource lock: the Lease, read and written with optimistic concurrency. */
export interface ResourceLock {
  readonly identity: string;
  /** The current record and its raw form (to notice changes); throws a NotFound ApiError when absent. */
  get(): Promise<{ record: LeaderElectionRecord; raw: string }>;
  create(record: LeaderElectionRecord): Promise<void>;
  /** Updates the record last read or written; fails on a conflict. */
  update(record: LeaderElectionRecord): Promise<void>;
  describe(): string;
}

/** The calls LeaseLock makes, so tests can back it with memory. */
export interface LeaseClient {
  get(namespace: string, name: string): Promise<Lease>;
  create(lease: Lease): Promise<Lease>;
  update(lease: Lease): Promise<Lease>;
}

export function leaseClientFor(client: RestClient): LeaseClient {
  return {
    get: (ns, name) => client.get<Lease>(resources.leases, ns, name),
    create: (lease) => client.create<Lease>(resources.leases, lease.metadata!.namespace, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease }),
    update: (lease) => client.update<Lease>(resources.leases, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease }),
  };
}

function toMicroTime(ms: number): string {
  return nowMicroRFC3339(new Date(ms));
}

function fromTime(s: string | undefined): number {
  const t = s ? Date.parse(s) : NaN;
  return Number.isFinite(t) ? t : 0;
}

/** A ResourceLock on a Lease (resourcelock.LeaseLock). */
export class LeaseLock implements ResourceLock {
  private lease: Lease | undefined;

  constructor(
    private readonly client: LeaseClient,
    readonly namespace: string,
    readonly name: string,
    readonly identity: string,
  ) {}

  async get(): Promise<{ record: LeaderElectionRecord; raw: string }> {
    this.lease = await this.client.get(this.namespace, this.name);
    const spec = this.lease.spec ?? {};
    const record: LeaderElectionRecord = {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: fromTime(spec.acquireTime),
      renewTime: fromTime(spec.renewTime),
      leaderTransitions: spec.leaseTransitions ?? 0,
    };
    return { record, raw: JSON.stringify(spec) };
  }

  async create(record: LeaderElectionRecord): Promise<void> {
    this.lease = await this.client.create({ metadata: { namespace: this.namespace, name: this.name }, spec: this.spec(record) });
  }

  async update(record: LeaderElectionRecord): Promise<void> {
    if (!this.lease) throw new Error('lease not initialized, call get or create first');
    this.lease = await this.client.update({ ...this.lease, spec: { ...(this.lease.spec ?? {}), ...this.spec(record) } });
  }

  describe(): string {
    return `${this.namespace}/${this.name}`;
  }

  private spec(r: LeaderElectionRecord): NonNullable<Lease['spec']> {
    return {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: toMicroTime(r.acquireTime),
      renewTime: toMicroTime(r.renewTime),
      leaseTransitions: r.leaderTransitions,
    };
  }
}

/** `<hostname>_<uuid>`: unique even for two processes on one machine. */
export function newIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

export interface LeaderElectionConfig {
  lock: ResourceLock;
  /** How long a non-leader waits after the last observed change before taking over (15s upstream). */
  leaseDurationMs: number;
  /** How long the leader keeps retrying a renewal before giving up (10s). */
  renewDeadlineMs: number;
  /** How often to try to acquire or renew (2s). */
  retryPeriodMs: number;
  clock: Clock;
  logger: Logger;
  /** Release the lease when the run signal aborts. */
  releaseOnCancel: boolean;
  /**
   * Called once leadership is acquired; `signal` aborts when it is lost or the run stops. A
   * returned promise is awaited after that abort and before the lease is released, so a standby
   * cannot start while this leader's work is still finishing.
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called when leadership ends, lost or released. */
  onStoppedLeading(): void;
  onNewLeader?(identity: string): void;
  /** Called with "<id> became leader" (upstream records it as an Event on the Lease). */
  onBecameLeader?(message: string): void;
  random?: () => number;
}

const jitterFactor = 1.2;

export class LeaderElector {
  private observedRecord: LeaderElectionRecord | undefined;
  private observedRaw = '';
  private observedTime = 0;
  private reportedLeader = '';

  constructor(private readonly config: LeaderElectionConfig) {
    if (config.leaseDurationMs <= config.renewDeadlineMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (config.renewDeadlineMs <= jitterFactor * config.retryPeriodMs) throw new Error('renewDeadline must be greater than retryPeriod*JitterFactor');
  }

  /** True while the last record this candidate saw or wrote names it as holder. */
  isLeader(): boolean {
    return this.observedRecord?.holderIdentity === this.config.lock.identity;
  }

  /** The holder this candidate last saw. */
  getLeader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  /**
   * Health check (HealthzAdaptor): fails when this candidate believes it leads but its lease
   * expired more than `toleranceMs` ago, i.e. renewal is stuck.
   */
  check(toleranceMs: number): Error | undefined {
    if (!this.isLeader()) return undefined;
    if (this.config.clock.now() > this.observedTime + this.config.leaseDurationMs + toleranceMs) {
      return new Error(`failed election to renew leadership on lease ${this.config.lock.describe()}`);
    }
    return undefined;
  }

  /** Campaigns until leading, leads until the lease is lost or `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const acquired = await this.acquire(signal);
    if (!acquired) return;
    const leading = new AbortController();
    let work: Promise<void>;
    try {
      work = Promise.resolve(this.config.onStartedLeading(leading.signal));
    } catch (e) {
      work = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const failed = work.then(
      () => undefined,
      (e: unknown) => this.config.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'leading failed'),
    );
    await this.renew(signal);
    leading.abort();
    await failed;
    if (signal.aborted && this.config.releaseOnCancel) await this.release();
    this.config.onStoppedLeading();
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    const desc = this.config.lock.describe();
    this.config.logger.info({ lease: desc }, 'attempting to acquire leader lease');
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) {
        this.config.logger.info({ lease: desc }, 'successfully acquired lease');
        this.config.onBecameLeader?.(`${this.config.lock.identity} became leader`);
        return true;
      }
      this.maybeReportTransition();
      const random = this.config.random ?? Math.random;
      await this.config.clock.sleep(this.config.retryPeriodMs * (1 + random() * jitterFactor), signal);
    }
    return false;
  }

  /** Renews every retryPeriod; returns when renewal failed for renewDeadline or signal aborted. */
  private async renew(signal: AbortSignal): Promise<void> {
    const { clock } = this.config;
    while (!signal.aborted) {
      const deadline = clock.now() + this.config.renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && clock.now() < deadline) {
        if (await this.withDeadline(this.tryAcquireOrRenew(), deadline)) {
          renewed = true;
          break;
        }
        await clock.sleep(Math.min(this.config.retryPeriodMs, deadline - clock.now()), signal);
      }
      this.maybeReportTransition();
      if (signal.aborted) return;
      if (!renewed) {
        this.config.logger.error({ lease: this.config.lock.describe() }, 'failed to renew lease: timed out waiting for the condition');
        return;
      }
      await clock.sleep(this.config.retryPeriodMs, signal);
    }
  }

  /** Resolves false if `p` has not resolved by `deadline` on the clock. */
  private withDeadline(p: Promise<boolean>, deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.config.clock.setTimeout(() => resolve(false), Math.max(0, deadline - this.config.clock.now()));
      p.then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        () => {
          timer.cancel();
          resolve(false);
        },
      );
    });
  }

  /** Gives the lease up: empty holder and a 1s duration, so others take it at once. */
  async release(): Promise<boolean> {
    if (!this.isLeader()) return true;
    const now = this.config.clock.now();
    const record: LeaderElectionRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaderTransitions: this.observedRecord!.leaderTransitions,
    };
    try {
      await this.config.lock.update(record);
      this.setObserved(record);
      return true;
    } catch (e) {
      this.config.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'failed to release lock');
      return false;
    }
  }

  private setObserved(record: LeaderElectionRecord): void {
    this.observedRecord = record;
    this.observedTime = this.config.clock.now();
  }

  private isLeaseValid(now: number): boolean {
    return this.observedTime + (this.observedRecord?.leaseDurationSeconds ?? 0) * 1000 > now;
  }

  /** One attempt (tryAcquireOrRenew): true when this candidate holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { lock, clock, logger } = this.config;
    const now = clock.now();
    const record: LeaderElectionRecord = {
      holderIdentity: lock.identity,
      leaseDurationSeconds: Math.floor(this.config.leaseDurationMs / 1000),
      acquireTime: now,
      renewTime: now,
      leaderTransitions: 0,
    };
    // The leader first tries a plain update of the record it wrote last.
    if (this.isLeader() && this.isLeaseValid(now)) {
      record.acquireTime = this.observedRecord!.acquireTime;
      record.leaderTransitions = this.observedRecord!.leaderTransitions;
      try {
        await lock.update(record);
        this.setObserved(record);
        return true;
      } catch (e) {
        logger.debug({ err: e instanceof Error ? e.message : String(e) }, 'failed to update lock optimistically, falling back to slow path');
      }
    }
    let current: { record: LeaderElectionRecord; raw: string };
    try {
      current = await lock.get();
    } catch (e) {
      if (!isNotFound(e)) {
        logger.error({ lease: lock.describe(), err: e instanceof Error ? e.message : String(e) }, 'error retrieving resource lock');
        return false;
      }
      try {
        await lock.create(record);
      } catch (e2) {
        logger.error({ err: e2 instanceof Error ? e2.message : String(e2) }, 'error initially creating leader election record');
        return false;
      }
      this.setObserved(record);
      return true;
    }
    if (current.raw !== this.observedRaw) {
      this.setObserved(current.record);
      this.observedRaw = current.raw;
    }
    if (current.record.holderIdentity && this.isLeaseValid(now) && !this.isLeader()) {
      logger.debug({ holder: current.record.holderIdentity }, 'lock is held and has not yet expired');
      return false;
    }
    if (this.isLeader()) {
      record.acquireTime = current.record.acquireTime;
      record.leaderTransitions = current.record.leaderTransitions;
    } else {
      record.leaderTransitions = current.record.leaderTransitions + 1;
    }
    try {
      await lock.update(record);
    } catch (e) {
      logger.debug({ err: e instanceof Error ? e.message : String(e) }, 'failed to update lock');
      return false;
    }
    this.setObserved(record);
    return true;
  }

  private maybeReportTransition(): void {
    const holder = this.observedRecord?.holderIdentity ?? '';
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    if (holder) {
      this.config.logger.info({ leader: holder }, 'new leader elected');
      this.config.onNewLeader?.(holder);
    }
  }
}
