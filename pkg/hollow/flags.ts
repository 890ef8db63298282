/**
 * The hollow-node flags, parsed into a HollowConfig: shared by cmd/keelson-hollow and the
 * launcher's `keelson hollow-nodes`. Flag names follow the kubelet's where one exists.
 */
import { durationFlag, intFlag, parseFlags } from '../util/flags.js';
import { defaultHollowConfig, type HollowConfig } from './config.js';

export const hollowFlagSpec = {
  kubeconfig: { type: 'string' },
  count: { type: 'string' },
  'name-prefix': { type: 'string' },
  zones: { type: 'string' },
  cpu: { type: 'string' },
  memory: { type: 'string' },
  pods: { type: 'string' },
  'max-pods': { type: 'string' },
  'node-labels': { type: 'string' },
  'cluster-cidr': { type: 'string' },
  'node-cidr-mask-size': { type: 'string' },
  'node-ip-range': { type: 'string' },
  'node-lease-duration-seconds': { type: 'string' },
  'node-lease-renew-interval': { type: 'string' },
  'node-status-report-frequency': { type: 'string' },
  concurrency: { type: 'string' },
  'lease-concurrency': { type: 'string' },
  'healthz-bind-address': { type: 'string' },
  'healthz-port': { type: 'string' },
  'log-level': { type: 'string' },
  v: { type: 'string' },
} as const;

/** `--flag` help lines, for `keelson hollow-nodes --help`. */
export const hollowFlagUsage = `Flags:
  --kubeconfig PATH                   kubeconfig of the cluster (default: $KUBECONFIG, ~/.kube/config)
  --count N                           how many hollow nodes to run (1)
  --name-prefix P                     node names are P0, P1, ... (hollow-node-)
  --zones a,b,c                       spread topology.kubernetes.io/zone over these zones (none)
  --cpu Q, --memory Q                 capacity and allocatable of each node (4, 16Gi)
  --pods N (alias --max-pods)         max pods per node (110)
  --node-labels k=v,...               extra labels on every node
  --cluster-cidr CIDR                 range the nodes' pod CIDRs are carved from (10.128.0.0/10)
  --node-cidr-mask-size N             size of each node's pod CIDR (24)
  --node-ip-range CIDR                the nodes' InternalIPs (172.20.0.0/14)
  --node-lease-duration-seconds N     Lease duration (40)
  --node-lease-renew-interval D       how often each Lease is renewed (10s)
  --node-status-report-frequency D    heartbeat of an unchanged node status (5m)
  --concurrency N                     pod writes in flight (32)
  --lease-concurrency N               Lease and node status writes in flight (8)
  --healthz-bind-address A            address of /healthz and /metrics (0.0.0.0)
  --healthz-port N                    port of /healthz and /metrics; 0 picks one, -1 serves none (10255)
  --log-level L                       trace, debug, info, warn, error, silent (info)
`;

/** `k=v,k2=v2` into a map. */
export function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`invalid --node-labels entry ${JSON.stringify(part)}: want key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

/** Parses the flags into a config: defaults first, the flags override them. */
export function hollowConfigFromFlags(argv: string[], base: HollowConfig = defaultHollowConfig()): HollowConfig {
  const { values: f, positionals } = parseFlags(argv, hollowFlagSpec);
  if (positionals.length) throw new Error(`unexpected arguments: ${positionals.join(' ')}`);
  const c: HollowConfig = { ...base, labels: { ...base.labels }, zones: [...base.zones] };
  const str = (k: keyof typeof hollowFlagSpec) => (f[k] === undefined ? undefined : String(f[k]));
  if (str('kubeconfig')) c.kubeconfig = str('kubeconfig');
  c.count = intFlag(f.count, 'count') ?? c.count;
  if (str('name-prefix') !== undefined) c.namePrefix = str('name-prefix')!;
  if (str('zones') !== undefined) c.zones = str('zones')!.split(',').map((z) => z.trim()).filter(Boolean);
  if (str('cpu')) c.cpu = str('cpu')!;
  if (str('memory')) c.memory = str('memory')!;
  c.pods = intFlag(f.pods ?? f['max-pods'], f.pods !== undefined ? 'pods' : 'max-pods') ?? c.pods;
  if (str('node-labels') !== undefined) c.labels = { ...c.labels, ...parseLabels(str('node-labels')!) };
  if (str('cluster-cidr')) c.clusterCIDR = str('cluster-cidr')!;
  c.nodeCIDRMaskSize = intFlag(f['node-cidr-mask-size'], 'node-cidr-mask-size') ?? c.nodeCIDRMaskSize;
  if (str('node-ip-range')) c.nodeIPRange = str('node-ip-range')!;
  const leaseSeconds = intFlag(f['node-lease-duration-seconds'], 'node-lease-duration-seconds');
  if (leaseSeconds !== undefined) {
    c.leaseDurationSeconds = leaseSeconds;
    // As the kubelet: renew at a quarter of the duration unless told otherwise.
    c.leaseRenewIntervalMs = leaseSeconds * 250;
  }
  c.leaseRenewIntervalMs = durationFlag(f['node-lease-renew-interval'], 'node-lease-renew-interval') ?? c.leaseRenewIntervalMs;
  c.nodeStatusReportFrequencyMs = durationFlag(f['node-status-report-frequency'], 'node-status-report-frequency') ?? c.nodeStatusReportFrequencyMs;
  c.concurrency = intFlag(f.concurrency, 'concurrency') ?? c.concurrency;
  c.leaseConcurrency = intFlag(f['lease-concurrency'], 'lease-concurrency') ?? c.leaseConcurrency;
  if (str('healthz-bind-address')) c.bindAddress = str('healthz-bind-address')!;
  c.port = intFlag(f['healthz-port'], 'healthz-port') ?? c.port;
  if (str('log-level')) c.logLevel = str('log-level') as HollowConfig['logLevel'];
  else if ((intFlag(f.v, 'v') ?? 0) >= 4) c.logLevel = 'debug';
  return c;
}
