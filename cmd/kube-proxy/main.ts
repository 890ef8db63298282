/** kube-proxy: parses upstream's flags and runs pkg/proxy. */
import { run } from '../../pkg/proxy/run.js';
import { defaultProxyConfig } from '../../pkg/proxy/config.js';
import { parseFlags, intFlag, durationFlag, runUntilSignal } from '../../pkg/util/flags.js';

// Booleans are declared as strings so `--cleanup=false` parses; a bare flag means true.
const booleans = ['cleanup', 'masquerade-all', 'iptables-localhost-nodeports'];
const argv = process.argv.slice(2).map((a) => (booleans.some((b) => a === `--${b}`) ? `${a}=true` : a));

const { values: f } = parseFlags(argv, {
  kubeconfig: { type: 'string' },
  'hostname-override': { type: 'string' },
  'cluster-cidr': { type: 'string' },
  'proxy-mode': { type: 'string' },
  cleanup: { type: 'string' },
  'metrics-bind-address': { type: 'string' },
  'healthz-bind-address': { type: 'string' },
  'nodeport-addresses': { type: 'string', multiple: true },
  'masquerade-all': { type: 'string' },
  'iptables-masquerade-bit': { type: 'string' },
  'iptables-sync-period': { type: 'string' },
  'iptables-min-sync-period': { type: 'string' },
  'iptables-localhost-nodeports': { type: 'string' },
  v: { type: 'string' },
  'log-level': { type: 'string' },
});

function boolFlag(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === true) return true;
  if (v === 'false' || v === false) return false;
  throw new Error(`invalid value ${JSON.stringify(v)} for --${name}: must be true or false`);
}

const config = defaultProxyConfig();
if (f.kubeconfig) config.kubeconfig = String(f.kubeconfig);
if (f['hostname-override']) config.hostnameOverride = String(f['hostname-override']);
if (f['cluster-cidr'] !== undefined) config.clusterCIDR = String(f['cluster-cidr']);
if (f['proxy-mode'] !== undefined) config.proxyMode = String(f['proxy-mode']) || 'iptables';
config.cleanup = boolFlag(f.cleanup, 'cleanup') ?? config.cleanup;
if (f['metrics-bind-address'] !== undefined) config.metricsBindAddress = String(f['metrics-bind-address']);
if (f['healthz-bind-address'] !== undefined) config.healthzBindAddress = String(f['healthz-bind-address']);
if (f['nodeport-addresses']) config.nodePortAddresses = (f['nodeport-addresses'] as string[]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
config.masqueradeAll = boolFlag(f['masquerade-all'], 'masquerade-all') ?? config.masqueradeAll;
config.masqueradeBit = intFlag(f['iptables-masquerade-bit'], 'iptables-masquerade-bit') ?? config.masqueradeBit;
config.syncPeriodMs = durationFlag(f['iptables-sync-period'], 'iptables-sync-period') ?? config.syncPeriodMs;
config.minSyncPeriodMs = durationFlag(f['iptables-min-sync-period'], 'iptables-min-sync-period') ?? config.minSyncPeriodMs;
config.localhostNodePorts = boolFlag(f['iptables-localhost-nodeports'], 'iptables-localhost-nodeports') ?? config.localhostNodePorts;
if (f['log-level']) config.logLevel = String(f['log-level']) as typeof config.logLevel;

runUntilSignal((signal) => run(config, signal));
