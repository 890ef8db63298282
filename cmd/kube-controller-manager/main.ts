/** kube-controller-manager: parses upstream's flags and runs pkg/controller-manager. */
import { run } from '../../pkg/controller-manager/run.js';
import { defaultControllerManagerConfig } from '../../pkg/controller-manager/config.js';
import { parseFlags, intFlag, durationFlag, runUntilSignal } from '../../pkg/util/flags.js';

// Booleans are declared as strings so `--leader-elect=false` parses; a bare flag means true.
const booleans = ['leader-elect', 'allocate-node-cidrs', 'use-service-account-credentials'];
const argv = process.argv.slice(2).map((a) => (booleans.some((b) => a === `--${b}`) ? `${a}=true` : a));

const { values: f } = parseFlags(argv, {
  kubeconfig: { type: 'string' },
  controllers: { type: 'string', multiple: true },
  'leader-elect': { type: 'string' },
  'leader-elect-lease-duration': { type: 'string' },
  'leader-elect-renew-deadline': { type: 'string' },
  'leader-elect-retry-period': { type: 'string' },
  'leader-elect-resource-namespace': { type: 'string' },
  'leader-elect-resource-name': { type: 'string' },
  'bind-address': { type: 'string' },
  'secure-port': { type: 'string' },
  'concurrent-deployment-syncs': { type: 'string' },
  'concurrent-replicaset-syncs': { type: 'string' },
  'concurrent-rc-syncs': { type: 'string' },
  'concurrent-gc-syncs': { type: 'string' },
  'concurrent-namespace-syncs': { type: 'string' },
  'concurrent-serviceaccount-syncs': { type: 'string' },
  'namespace-sync-period': { type: 'string' },
  'node-monitor-grace-period': { type: 'string' },
  'allocate-node-cidrs': { type: 'string' },
  'cluster-cidr': { type: 'string' },
  'node-cidr-mask-size': { type: 'string' },
  'node-monitor-period': { type: 'string' },
  'node-startup-grace-period': { type: 'string' },
  'concurrent-endpoint-syncs': { type: 'string' },
  'concurrent-service-endpoint-syncs': { type: 'string' },
  'concurrent-resource-quota-syncs': { type: 'string' },
  'resource-quota-sync-period': { type: 'string' },
  'terminated-pod-gc-threshold': { type: 'string' },
  'root-ca-file': { type: 'string' },
  'use-service-account-credentials': { type: 'string' },
  v: { type: 'string' },
  'log-level': { type: 'string' },
});

/** pflag booleans: `--flag`, `--flag=true`, `--flag=false`. */
function boolFlag(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === true) return true;
  if (v === 'false' || v === false) return false;
  throw new Error(`invalid value ${JSON.stringify(v)} for --${name}: must be true or false`);
}

const config = defaultControllerManagerConfig();
if (f.kubeconfig) config.kubeconfig = String(f.kubeconfig);
if (f.controllers) config.controllers = (f.controllers as string[]).flatMap((s) => s.split(',')).filter(Boolean);
config.leaderElect = boolFlag(f['leader-elect'], 'leader-elect') ?? config.leaderElect;
config.leaseDurationMs = durationFlag(f['leader-elect-lease-duration'], 'leader-elect-lease-duration') ?? config.leaseDurationMs;
config.renewDeadlineMs = durationFlag(f['leader-elect-renew-deadline'], 'leader-elect-renew-deadline') ?? config.renewDeadlineMs;
config.retryPeriodMs = durationFlag(f['leader-elect-retry-period'], 'leader-elect-retry-period') ?? config.retryPeriodMs;
if (f['leader-elect-resource-namespace']) config.leaderElectResourceNamespace = String(f['leader-elect-resource-namespace']);
if (f['leader-elect-resource-name']) config.leaderElectResourceName = String(f['leader-elect-resource-name']);
if (f['bind-address']) config.bindAddress = String(f['bind-address']);
config.port = intFlag(f['secure-port'], 'secure-port') ?? config.port;
config.concurrentDeploymentSyncs = intFlag(f['concurrent-deployment-syncs'], 'concurrent-deployment-syncs') ?? config.concurrentDeploymentSyncs;
config.concurrentReplicaSetSyncs = intFlag(f['concurrent-replicaset-syncs'], 'concurrent-replicaset-syncs') ?? config.concurrentReplicaSetSyncs;
config.concurrentRCSyncs = intFlag(f['concurrent-rc-syncs'], 'concurrent-rc-syncs') ?? config.concurrentRCSyncs;
config.concurrentGCSyncs = intFlag(f['concurrent-gc-syncs'], 'concurrent-gc-syncs') ?? config.concurrentGCSyncs;
config.concurrentNamespaceSyncs = intFlag(f['concurrent-namespace-syncs'], 'concurrent-namespace-syncs') ?? config.concurrentNamespaceSyncs;
config.concurrentServiceAccountSyncs = intFlag(f['concurrent-serviceaccount-syncs'], 'concurrent-serviceaccount-syncs') ?? config.concurrentServiceAccountSyncs;
config.namespaceSyncPeriodMs = durationFlag(f['namespace-sync-period'], 'namespace-sync-period') ?? config.namespaceSyncPeriodMs;
config.nodeMonitorGracePeriodMs = durationFlag(f['node-monitor-grace-period'], 'node-monitor-grace-period') ?? config.nodeMonitorGracePeriodMs;
config.allocateNodeCIDRs = boolFlag(f['allocate-node-cidrs'], 'allocate-node-cidrs') ?? config.allocateNodeCIDRs;
if (f['cluster-cidr']) config.clusterCIDR = String(f['cluster-cidr']);
config.nodeCIDRMaskSize = intFlag(f['node-cidr-mask-size'], 'node-cidr-mask-size') ?? config.nodeCIDRMaskSize;
config.nodeMonitorPeriodMs = durationFlag(f['node-monitor-period'], 'node-monitor-period') ?? config.nodeMonitorPeriodMs;
config.nodeStartupGracePeriodMs = durationFlag(f['node-startup-grace-period'], 'node-startup-grace-period') ?? config.nodeStartupGracePeriodMs;
config.concurrentEndpointSyncs = intFlag(f['concurrent-endpoint-syncs'], 'concurrent-endpoint-syncs') ?? config.concurrentEndpointSyncs;
config.concurrentServiceEndpointSyncs = intFlag(f['concurrent-service-endpoint-syncs'], 'concurrent-service-endpoint-syncs') ?? config.concurrentServiceEndpointSyncs;
config.concurrentResourceQuotaSyncs = intFlag(f['concurrent-resource-quota-syncs'], 'concurrent-resource-quota-syncs') ?? config.concurrentResourceQuotaSyncs;
config.resourceQuotaSyncPeriodMs = durationFlag(f['resource-quota-sync-period'], 'resource-quota-sync-period') ?? config.resourceQuotaSyncPeriodMs;
config.terminatedPodGCThreshold = intFlag(f['terminated-pod-gc-threshold'], 'terminated-pod-gc-threshold') ?? config.terminatedPodGCThreshold;
if (f['root-ca-file']) config.rootCAFile = String(f['root-ca-file']);
config.useServiceAccountCredentials = boolFlag(f['use-service-account-credentials'], 'use-service-account-credentials') ?? config.useServiceAccountCredentials;
if (f['log-level']) config.logLevel = String(f['log-level']) as typeof config.logLevel;

runUntilSignal((signal) => run(config, signal));
