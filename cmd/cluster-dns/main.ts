/** cluster-dns: parses flags and runs pkg/dns (CoreDNS's kubernetes plugin options as flags). */
import { run } from '../../pkg/dns/run.js';
import { defaultDnsConfig } from '../../pkg/dns/config.js';
import type { PodMode } from '../../pkg/dns/resolver.js';
import { parseFlags, intFlag, runUntilSignal } from '../../pkg/util/flags.js';

const booleans = ['loadbalance'];
const argv = process.argv.slice(2).map((a) => (booleans.some((b) => a === `--${b}`) ? `${a}=true` : a));

const { values: f } = parseFlags(argv, {
  kubeconfig: { type: 'string' },
  listen: { type: 'string' },
  'cluster-domain': { type: 'string' },
  'metrics-bind-address': { type: 'string' },
  ttl: { type: 'string' },
  pods: { type: 'string' },
  upstream: { type: 'string', multiple: true },
  'dns-service': { type: 'string' },
  loadbalance: { type: 'string' },
  'log-level': { type: 'string' },
});

const config = defaultDnsConfig();
if (f.kubeconfig) config.kubeconfig = String(f.kubeconfig);
if (f.listen) config.listen = String(f.listen);
if (f['cluster-domain']) config.clusterDomain = String(f['cluster-domain']);
if (f['metrics-bind-address'] !== undefined) config.metricsBindAddress = String(f['metrics-bind-address']);
config.ttl = intFlag(f.ttl, 'ttl') ?? config.ttl;
if (f.pods) config.pods = String(f.pods) as PodMode;
if (f.upstream) config.upstream = (f.upstream as string[]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
if (f['dns-service']) config.dnsService = String(f['dns-service']);
if (f.loadbalance !== undefined) {
  if (f.loadbalance !== 'true' && f.loadbalance !== 'false') throw new Error(`invalid value ${JSON.stringify(f.loadbalance)} for --loadbalance: must be true or false`);
  config.loadBalance = f.loadbalance === 'true';
}
if (f['log-level']) config.logLevel = String(f['log-level']) as typeof config.logLevel;

runUntilSignal((signal) => run(config, signal));
