/** kubelet: parses upstream's flags and runs pkg/kubelet. */
import { run, defaultKubeletConfig } from '../../pkg/kubelet/kubelet.js';
import { parseLabels, parseTaints } from '../../pkg/kubelet/config.js';
import { parseFlags, intFlag, durationFlag, runUntilSignal } from '../../pkg/util/flags.js';

const boolFlags = ['--anonymous-auth', '--authentication-token-webhook'];
const argv = process.argv.slice(2).map((a) => (boolFlags.includes(a) ? `${a}=true` : a));
const { values: f } = parseFlags(argv, {
  kubeconfig: { type: 'string' },
  'hostname-override': { type: 'string' },
  'node-ip': { type: 'string' },
  'container-runtime-endpoint': { type: 'string' },
  'cni-conf-dir': { type: 'string' },
  'cni-bin-dir': { type: 'string' },
  'cni-cache-dir': { type: 'string' },
  // keelson's own: the bridge and host-local data dir the default conflist names.
  'cni-bridge-name': { type: 'string' },
  'cni-ipam-data-dir': { type: 'string' },
  'pod-cidr': { type: 'string' },
  'node-labels': { type: 'string' },
  'register-with-taints': { type: 'string' },
  'cluster-dns': { type: 'string' },
  'cluster-domain': { type: 'string' },
  'resolv-conf': { type: 'string' },
  'root-dir': { type: 'string' },
  'pod-logs-dir': { type: 'string' },
  address: { type: 'string' },
  port: { type: 'string' },
  'tls-cert-file': { type: 'string' },
  'tls-private-key-file': { type: 'string' },
  'client-ca-file': { type: 'string' },
  'authorization-mode': { type: 'string' },
  'anonymous-auth': { type: 'string' },
  'authentication-token-webhook': { type: 'string' },
  'authentication-token-webhook-cache-ttl': { type: 'string' },
  'cgroup-root': { type: 'string' },
  'max-pods': { type: 'string' },
  'node-status-update-frequency': { type: 'string' },
  'sync-frequency': { type: 'string' },
  'runtime-request-timeout': { type: 'string' },
  v: { type: 'string' },
  'log-level': { type: 'string' },
});

const config = defaultKubeletConfig();
const str = (k: string) => (f[k] === undefined ? undefined : String(f[k]));
/** pflag booleans: `--flag` alone (made `--flag=true` before parsing), `--flag=true`, `--flag=false`. */
function boolFlag(k: string): boolean | undefined {
  const v = str(k);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw new Error(`invalid value ${JSON.stringify(v)} for --${k}: true or false`);
  return v === 'true';
}
const list = (k: string) => str(k)?.split(/[,:]/).map((s) => s.trim()).filter(Boolean);
if (str('kubeconfig')) config.kubeconfig = str('kubeconfig')!;
if (str('hostname-override')) config.nodeName = str('hostname-override')!.toLowerCase();
if (str('node-ip')) config.nodeIP = str('node-ip');
if (str('container-runtime-endpoint')) config.containerRuntimeEndpoint = str('container-runtime-endpoint')!;
if (str('cni-conf-dir')) config.cniConfDir = str('cni-conf-dir')!;
if (str('cni-bin-dir')) config.cniBinDirs = list('cni-bin-dir')!;
if (str('cni-cache-dir')) config.cniCacheDir = str('cni-cache-dir')!;
if (str('cni-bridge-name')) config.cniBridgeName = str('cni-bridge-name')!;
if (str('cni-ipam-data-dir')) config.cniIpamDataDir = str('cni-ipam-data-dir')!;
if (str('pod-cidr')) config.podCIDR = str('pod-cidr');
if (str('node-labels')) config.nodeLabels = parseLabels(str('node-labels')!);
if (str('register-with-taints')) config.registerWithTaints = parseTaints(str('register-with-taints')!);
if (str('cluster-dns')) config.clusterDNS = str('cluster-dns')!.split(',').map((s) => s.trim()).filter(Boolean);
if (str('cluster-domain')) config.clusterDomain = str('cluster-domain')!;
if (str('resolv-conf') !== undefined) config.resolvConf = str('resolv-conf')!;
if (str('root-dir')) config.rootDir = str('root-dir')!;
if (str('pod-logs-dir')) config.podLogsDir = str('pod-logs-dir')!;
if (str('address')) config.address = str('address')!;
config.port = intFlag(f.port, 'port') ?? config.port;
if (str('tls-cert-file')) config.tlsCertFile = str('tls-cert-file');
if (str('tls-private-key-file')) config.tlsPrivateKeyFile = str('tls-private-key-file');
if (str('client-ca-file')) config.clientCAFile = str('client-ca-file');
if (str('authorization-mode')) {
  const mode = str('authorization-mode')!;
  if (mode !== 'AlwaysAllow' && mode !== 'Webhook') throw new Error(`--authorization-mode: want AlwaysAllow or Webhook, got ${JSON.stringify(mode)}`);
  config.authorizationMode = mode;
}
config.anonymousAuth = boolFlag('anonymous-auth') ?? config.anonymousAuth;
config.authenticationTokenWebhook = boolFlag('authentication-token-webhook') ?? config.authenticationTokenWebhook;
config.authenticationTokenWebhookCacheTTLMs = durationFlag(f['authentication-token-webhook-cache-ttl'], 'authentication-token-webhook-cache-ttl') ?? config.authenticationTokenWebhookCacheTTLMs;
if (str('cgroup-root')) config.cgroupRoot = str('cgroup-root')!;
config.maxPods = intFlag(f['max-pods'], 'max-pods') ?? config.maxPods;
config.nodeStatusUpdateFrequencyMs = durationFlag(f['node-status-update-frequency'], 'node-status-update-frequency') ?? config.nodeStatusUpdateFrequencyMs;
config.syncFrequencyMs = durationFlag(f['sync-frequency'], 'sync-frequency') ?? config.syncFrequencyMs;
config.runtimeRequestTimeoutMs = durationFlag(f['runtime-request-timeout'], 'runtime-request-timeout') ?? config.runtimeRequestTimeoutMs;
if (str('log-level')) config.logLevel = str('log-level') as typeof config.logLevel;

runUntilSignal((signal) => run(config, signal));
