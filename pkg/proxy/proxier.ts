/**
 * The iptables proxier: keeps the node's KUBE-* chains equal to what `buildProxyRules` derives
 * from the Service and EndpointSlice caches. Informer events only queue a sync; the
 * BoundedFrequencyRunner decides when it runs. A sync that would write exactly what the last one
 * wrote skips iptables-restore, unless the canary chains show that someone flushed the tables.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import type { EndpointSlice, Service } from '../api/types.js';
import type { Clock } from '../controller/framework/clock.js';
import { jumpChains, jumpRuleArgs, kubeletJumpChains, kubeProxyCanaryChain } from './chains.js';
import type { Iptables, Table } from './iptables.js';
import type { ProxyMetrics } from './metrics.js';
import { buildProxyRules, nodePortAddressesContainLoopback, parseSavedChains, renderRestore, staleNatChains, type RulesInput } from './rules.js';
import { BoundedFrequencyRunner } from './sync-runner.js';

/** EndpointSlice annotation with the time of the change that triggered the slice's last update. */
export const lastChangeTriggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time';

/** A read-only view of an informer cache. */
export interface Lister<T> {
  list(): T[];
}

export interface ProxierOptions {
  iptables: Iptables;
  clock: Clock;
  logger: Logger;
  metrics: ProxyMetrics;
  services: Lister<Service>;
  endpointSlices: Lister<EndpointSlice>;
  nodeName: string;
  clusterCIDR: string;
  masqueradeAll: boolean;
  masqueradeBit: number;
  nodePortAddresses: string[];
  localhostNodePorts: boolean;
  syncPeriodMs: number;
  minSyncPeriodMs: number;
  /** This node's IPv4 addresses; defaults to the interfaces of the current network namespace. */
  nodeIPs?: () => string[];
}

/** The node's IPv4 addresses, as seen from this process's network namespace. */
export function localIPv4Addresses(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4') out.push(a.address);
  return out.sort();
}

export class Proxier {
  private readonly runner: BoundedFrequencyRunner;
  private servicesSynced = false;
  private endpointSlicesSynced = false;
  private needFullSync = true;
  private lastApplied: string | undefined;
  /** Trigger times of EndpointSlice changes not yet programmed (network programming latency). */
  private pendingTriggerTimes: number[] = [];
  private readonly startTime: number;
  private lastUpdated = 0;
  private oldestPendingQueued = 0;
  private syncCount = 0;
  private restoreCount = 0;

  constructor(private readonly o: ProxierOptions) {
    this.startTime = o.clock.now();
    this.runner = new BoundedFrequencyRunner(() => this.syncProxyRules(), o.minSyncPeriodMs, o.syncPeriodMs, o.clock);
  }

  /** How many syncs ran, and how many of them called iptables-restore. */
  stats(): { syncs: number; restores: number } {
    return { syncs: this.syncCount, restores: this.restoreCount };
  }

  onServiceChange(): void {
    this.o.metrics.serviceChangesTotal.inc();
    this.queueSync();
  }

  onEndpointSliceChange(slice: EndpointSlice | undefined): void {
    this.o.metrics.endpointChangesTotal.inc();
    const t = Date.parse(slice?.metadata?.annotations?.[lastChangeTriggerTimeAnnotation] ?? '');
    // Changes from before this process started say nothing about how fast it programs them.
    if (Number.isFinite(t) && t >= this.startTime) this.pendingTriggerTimes.push(t);
    this.queueSync();
  }

  onServicesSynced(): void {
    this.servicesSynced = true;
    this.queueSync();
  }

  onEndpointSlicesSynced(): void {
    this.endpointSlicesSynced = true;
    this.queueSync();
  }

  private initialized(): boolean {
    return this.servicesSynced && this.endpointSlicesSynced;
  }

  private queueSync(): void {
    if (!this.initialized()) return;
    const now = this.o.clock.now();
    if (this.oldestPendingQueued === 0) this.oldestPendingQueued = now;
    this.o.metrics.syncProxyRulesLastQueuedTimestamp.set(now / 1000);
    this.runner.run();
  }

  /**
   * /healthz (upstream's ProxierHealthServer): healthy while nothing waits to be programmed, or
   * the oldest waiting change is younger than two sync periods.
   */
  health(): { healthy: boolean; lastUpdated: number; currentTime: number } {
    const now = this.o.clock.now();
    const healthy = this.oldestPendingQueued === 0 || now - this.oldestPendingQueued < 2 * this.o.syncPeriodMs;
    return { healthy, lastUpdated: this.lastUpdated, currentTime: now };
  }

  async stop(): Promise<void> {
    await this.runner.stop();
  }

  rulesInput(): RulesInput {
    return {
      services: this.o.services.list(),
      endpointSlices: this.o.endpointSlices.list(),
      nodeName: this.o.nodeName,
      clusterCIDR: this.o.clusterCIDR || undefined,
      masqueradeAll: this.o.masqueradeAll,
      masqueradeBit: this.o.masqueradeBit,
      nodePortAddresses: this.o.nodePortAddresses,
      nodeIPs: (this.o.nodeIPs ?? localIPv4Addresses)(),
      localhostNodePorts: this.o.localhostNodePorts,
    };
  }

  /** One sync. Failures are logged, counted, and retried after a sync period with a full resync. */
  async syncProxyRules(): Promise<void> {
    if (!this.initialized()) return;
    const { clock, logger, metrics, iptables } = this.o;
    const start = clock.now();
    const queuedBefore = this.oldestPendingQueued;
    this.syncCount++;
    try {
      if (!this.needFullSync && !(await this.canariesPresent())) {
        logger.info('iptables canary chains are gone (tables flushed?); doing a full sync');
        this.needFullSync = true;
      }
      if (this.needFullSync) await this.ensureJumps();

      const rules = buildProxyRules(this.rulesInput());
      const desired = renderRestore(rules);
      if (this.needFullSync || desired !== this.lastApplied) {
        const existing = parseSavedChains(await iptables.save('nat'));
        const input = renderRestore(rules, existing);
        try {
          await iptables.restore(input);
        } catch (e) {
          metrics.iptablesRestoreFailuresTotal.inc();
          throw e;
        }
        this.restoreCount++;
        this.lastApplied = desired;
        logger.debug({ natRules: rules.natRules.length, filterRules: rules.filterRules.length, staleChains: staleNatChains(rules, existing).length }, 'iptables rules restored');
      }
      this.needFullSync = false;
      metrics.iptablesRulesTotal.set({ table: 'filter' }, rules.filterRules.length);
      metrics.iptablesRulesTotal.set({ table: 'nat' }, rules.natRules.length);
      metrics.noLocalEndpointsTotal.set({ traffic_policy: 'internal' }, rules.noLocalEndpointsInternal);
      metrics.noLocalEndpointsTotal.set({ traffic_policy: 'external' }, rules.noLocalEndpointsExternal);
      const now = clock.now();
      for (const t of this.pendingTriggerTimes) metrics.networkProgrammingLatency.observe(Math.max(0, now - t) / 1000);
      this.pendingTriggerTimes = [];
      this.lastUpdated = now;
      // Changes queued while this sync ran are not programmed yet.
      if (this.oldestPendingQueued === queuedBefore) this.oldestPendingQueued = 0;
      metrics.syncProxyRulesLastTimestamp.set(now / 1000);
    } catch (e) {
      this.needFullSync = true;
      logger.error({ err: e instanceof Error ? e.message : String(e), retryInMs: this.o.syncPeriodMs }, 'sync failed');
      this.runner.retryAfter(this.o.syncPeriodMs);
    } finally {
      metrics.syncProxyRulesLatency.observe((clock.now() - start) / 1000);
    }
  }

  /** Our chains and the jumps to them from the built-in chains, plus the canaries. */
  private async ensureJumps(): Promise<void> {
    const { iptables } = this.o;
    const jumps = this.localhostNodePortsActive() ? [...jumpChains, ...kubeletJumpChains] : jumpChains;
    for (const j of jumps) {
      await iptables.ensureChain(j.table, j.dstChain);
      await iptables.ensureRulePrepended(j.table, j.srcChain, jumpRuleArgs(j));
    }
    for (const t of canaryTables) await iptables.ensureChain(t, kubeProxyCanaryChain);
  }

  private async canariesPresent(): Promise<boolean> {
    for (const t of canaryTables) if (!(await this.o.iptables.chainExists(t, kubeProxyCanaryChain))) return false;
    return true;
  }

  private localhostNodePortsActive(): boolean {
    return this.o.localhostNodePorts && nodePortAddressesContainLoopback(this.o.nodePortAddresses.filter((c) => c.includes('.')));
  }
}

const canaryTables: Table[] = ['mangle', 'nat', 'filter'];
