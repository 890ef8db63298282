/**
 * kube-scheduler's run configuration: what the flags set, with upstream's defaults in one
 * function. The scheduling configuration itself is a KubeSchedulerConfiguration (`--config`).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Level } from 'pino';
import type { Clock } from '../controller/framework/clock.js';
import type { KubeSchedulerConfiguration } from './config/types.js';

export interface SchedulerRunConfig {
  /** `--kubeconfig`; else the configuration's clientConnection.kubeconfig; else the default loading rules. */
  kubeconfig?: string;
  /** An already loaded kubeconfig (embedding); wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** `--config`: a KubeSchedulerConfiguration file. */
  configFile?: string;
  /** An already parsed configuration (embedding, tests); wins over `configFile`. */
  componentConfig?: KubeSchedulerConfiguration;
  /** `--leader-elect`; overrides the configuration's leaderElection.leaderElect when set. */
  leaderElect?: boolean;
  /** Leader election timings (`--leader-elect-*`), overriding the configuration when set. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  leaderElectResourceName?: string;
  leaderElectResourceNamespace?: string;
  /** Leader election identity; `<hostname>_<uuid>` when unset. */
  identity?: string;
  bindAddress: string;
  /** `--secure-port` (plain http for now); 0 picks a free port. */
  port: number;
  logLevel: Level | 'silent';
  clock?: Clock;
  rand?: () => number;
  /** Called once the HTTP server listens. */
  onListening?: (addr: { host: string; port: number; url: string }) => void;
}

export function defaultSchedulerRunConfig(): SchedulerRunConfig {
  return { bindAddress: '0.0.0.0', port: 10259, logLevel: 'info' };
}
