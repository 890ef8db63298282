/**
 * The hollow-node mode's configuration: defaults in one function (`defaultHollowConfig`), flags
 * and embedders override them.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Level } from 'pino';
import type { Clock } from '../controller/framework/clock.js';

export interface HollowConfig {
  /** Path of the kubeconfig (`--kubeconfig`); the default loading rules when empty. */
  kubeconfig?: string;
  /** An already loaded kubeconfig (embedding); wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** How many nodes this process simulates (`--count`). */
  count: number;
  /** Node names are `<namePrefix><index>`, index from 0 (`--name-prefix`). */
  namePrefix: string;
  /** `topology.kubernetes.io/zone` values, spread round-robin over the nodes; none when empty. */
  zones: string[];
  /** Capacity (and allocatable) of each node: `cpu` and `memory` are quantities. */
  cpu: string;
  memory: string;
  /** Max pods per node (capacity `pods`, kubelet's `--max-pods`). */
  pods: number;
  /** Extra labels for every node (`--node-labels`). */
  labels: Record<string, string>;
  /**
   * The range the nodes' pod CIDRs are carved from when a node has none yet: node i gets the
   * i-th block of `nodeCIDRMaskSize`. The default stays clear of keelson's default service range
   * (10.96.0.0/12) and the node IPAM controller's cluster CIDR (10.244.0.0/16).
   */
  clusterCIDR: string;
  /** The size of each node's pod CIDR; widened automatically when `pods` would not fit. */
  nodeCIDRMaskSize: number;
  /** The nodes' InternalIP addresses (and the pods' hostIP): node i gets the (i+1)-th address. */
  nodeIPRange: string;
  /** The Lease's `leaseDurationSeconds` (kubelet's nodeLeaseDurationSeconds). */
  leaseDurationSeconds: number;
  /** How often each Lease is renewed; upstream renews at a quarter of the duration (10 s). */
  leaseRenewIntervalMs: number;
  /** How often an unchanged node status is written anyway (kubelet's nodeStatusReportFrequency). */
  nodeStatusReportFrequencyMs: number;
  /** Pod writes (status, deletions) and registrations in flight at once. */
  concurrency: number;
  /** Lease and node-status writes in flight at once; separate, so a pod backlog cannot starve leases. */
  leaseConcurrency: number;
  /** `--healthz-bind-address` and `--healthz-port` for /healthz and /metrics; port 0 picks a free one, -1 serves nothing. */
  bindAddress: string;
  port: number;
  logLevel: Level | 'silent';
  clock?: Clock;
  /** Called once the HTTP server listens. */
  onListening?: (addr: { host: string; port: number; url: string }) => void;
  /** Called once every node is registered and the pod watch has its first list. */
  onReady?: () => void;
}

export function defaultHollowConfig(): HollowConfig {
  return {
    count: 1,
    namePrefix: 'hollow-node-',
    zones: [],
    cpu: '4',
    memory: '16Gi',
    pods: 110,
    labels: {},
    clusterCIDR: '10.128.0.0/10',
    nodeCIDRMaskSize: 24,
    nodeIPRange: '172.20.0.0/14',
    leaseDurationSeconds: 40,
    leaseRenewIntervalMs: 10_000,
    nodeStatusReportFrequencyMs: 5 * 60_000,
    concurrency: 32,
    leaseConcurrency: 8,
    bindAddress: '0.0.0.0',
    port: 10255,
    logLevel: 'info',
  };
}
