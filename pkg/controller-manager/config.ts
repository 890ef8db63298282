/**
 * kube-controller-manager's configuration: upstream's defaults in one function; flags and
 * embedders override them.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Level } from 'pino';
import type { Clock } from '../controller/framework/clock.js';

export interface ControllerManagerConfig {
  /** Path of the kubeconfig (`--kubeconfig`); the default loading rules when empty. */
  kubeconfig?: string;
  /** An already loaded kubeconfig (embedding); wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** `--controllers`: `*`, names, `-name`. */
  controllers: string[];
  leaderElect: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  leaderElectResourceNamespace: string;
  leaderElectResourceName: string;
  /** Leader election identity; `<hostname>_<uuid>` when unset. */
  identity?: string;
  bindAddress: string;
  /** `--secure-port` (plain http for now); 0 picks a free port. */
  port: number;
  concurrentDeploymentSyncs: number;
  concurrentReplicaSetSyncs: number;
  concurrentRCSyncs: number;
  concurrentGCSyncs: number;
  concurrentNamespaceSyncs: number;
  concurrentServiceAccountSyncs: number;
  /** How often every namespace is resynced (`--namespace-sync-period`). */
  namespaceSyncPeriodMs: number;
  /** `--node-monitor-grace-period`, for the node lifecycle controller. */
  nodeMonitorGracePeriodMs: number;
  /** `--allocate-node-cidrs` and `--cluster-cidr`, for the node IPAM controller. */
  allocateNodeCIDRs: boolean;
  clusterCIDR: string;
  /** `--node-cidr-mask-size`: the prefix length of each node's pod CIDR. */
  nodeCIDRMaskSize: number;
  /** `--node-monitor-period`: how often the node lifecycle controller checks the nodes. */
  nodeMonitorPeriodMs: number;
  /** `--node-startup-grace-period`: how long a new node may stay silent before it is marked Unknown. */
  nodeStartupGracePeriodMs: number;
  /** `--concurrent-endpoint-syncs` (endpoints) and `--concurrent-service-endpoint-syncs` (endpointslices). */
  concurrentEndpointSyncs: number;
  concurrentServiceEndpointSyncs: number;
  /** `--concurrent-resource-quota-syncs` and `--resource-quota-sync-period`. */
  concurrentResourceQuotaSyncs: number;
  resourceQuotaSyncPeriodMs: number;
  /** `--terminated-pod-gc-threshold`: terminated pods kept before podgc deletes the oldest; 0 turns that off. */
  terminatedPodGCThreshold: number;
  /** Pod GC's check period and orphan quarantine (not flags upstream; embedders and tests shorten them). */
  podGCCheckPeriodMs?: number;
  podGCQuarantineMs?: number;
  /** `--root-ca-file`: the CA bundle published as the `kube-root-ca.crt` ConfigMap in every namespace. */
  rootCAFile?: string;
  /**
   * `--use-service-account-credentials`: each controller talks to the apiserver as its own
   * ServiceAccount in kube-system (`system:serviceaccount:kube-system:<name>`), with a token from
   * the TokenRequest API.
   */
  useServiceAccountCredentials: boolean;
  logLevel: Level | 'silent';
  clock?: Clock;
  /** Called once the HTTP server listens. */
  onListening?: (addr: { host: string; port: number; url: string }) => void;
}

export function defaultControllerManagerConfig(): ControllerManagerConfig {
  return {
    controllers: ['*'],
    leaderElect: true,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    leaderElectResourceNamespace: 'kube-system',
    leaderElectResourceName: 'kube-controller-manager',
    bindAddress: '0.0.0.0',
    port: 10257,
    concurrentDeploymentSyncs: 5,
    concurrentReplicaSetSyncs: 5,
    concurrentRCSyncs: 5,
    concurrentGCSyncs: 20,
    concurrentNamespaceSyncs: 10,
    concurrentServiceAccountSyncs: 5,
    namespaceSyncPeriodMs: 5 * 60_000,
    nodeMonitorGracePeriodMs: 40_000,
    allocateNodeCIDRs: false,
    clusterCIDR: '10.244.0.0/16',
    nodeCIDRMaskSize: 24,
    nodeMonitorPeriodMs: 5_000,
    nodeStartupGracePeriodMs: 60_000,
    concurrentEndpointSyncs: 5,
    concurrentServiceEndpointSyncs: 5,
    concurrentResourceQuotaSyncs: 5,
    resourceQuotaSyncPeriodMs: 5 * 60_000,
    terminatedPodGCThreshold: 12_500,
    useServiceAccountCredentials: false,
    logLevel: 'info',
  };
}
