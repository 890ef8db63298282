/**
 * The kubelet's configuration: one set of defaults (upstream's where a flag exists), overridden by
 * cmd/kubelet's flags or by a caller embedding the kubelet.
 */
import os from 'node:os';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** The clock the kubelet's backoff, probe and status logic read (STYLE.md §11). */
export interface Clock {
  now(): number;
}

export const realClock: Clock = { now: () => Date.now() };

export interface KubeletConfig {
  /** --kubeconfig: how to reach the apiserver. */
  kubeconfig: string;
  /** --hostname-override: the Node's name. */
  nodeName: string;
  /** --node-ip: the InternalIP; default the first non-loopback IPv4 address. */
  nodeIP?: string;
  /** --container-runtime-endpoint. */
  containerRuntimeEndpoint: string;
  /** --cni-conf-dir. */
  cniConfDir: string;
  /** --cni-bin-dir: several directories, in search order. */
  cniBinDirs: string[];
  /** --cni-cache-dir: where CNI results are cached. */
  cniCacheDir: string;
  /** The bridge the default conflist names (deploy/cni/10-keelson-bridge.conflist.template). */
  cniBridgeName: string;
  /** host-local's data dir for the default conflist. */
  cniIpamDataDir: string;
  /** --pod-cidr: used when the Node has no spec.podCIDR (and set on the Node at registration). */
  podCIDR?: string;
  /** --node-labels. */
  nodeLabels: Record<string, string>;
  /** --register-with-taints. */
  registerWithTaints: Taint[];
  /** --cluster-dns. */
  clusterDNS: string[];
  /** --cluster-domain. */
  clusterDomain: string;
  /** --resolv-conf: the resolver config dnsPolicy Default copies. */
  resolvConf: string;
  /** --root-dir. */
  rootDir: string;
  /** --pod-logs-dir (upstream's podLogsDir): CRI log files, /var/log/pods. */
  podLogsDir: string;
  /** --address. */
  address: string;
  /** --port: the kubelet server; 0 picks a free port. */
  port: number;
  /** --tls-cert-file, --tls-private-key-file: serve https with these; plain http (and no auth) when unset. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** --client-ca-file: client certificates signed by this CA authenticate; others get 401. */
  clientCAFile?: string;
  /** --authorization-mode: AlwaysAllow, or Webhook (SubjectAccessReview to the apiserver). Used with TLS. */
  authorizationMode: 'AlwaysAllow' | 'Webhook';
  /**
   * --anonymous-auth: requests without credentials proceed as system:anonymous (then authorized).
   * Off unless set: upstream's binary defaults to true, but every kubeadm kubelet sets false.
   */
  anonymousAuth: boolean;
  /** --authentication-token-webhook: bearer tokens are checked with a TokenReview to the apiserver. */
  authenticationTokenWebhook: boolean;
  /** --authentication-token-webhook-cache-ttl (2m). */
  authenticationTokenWebhookCacheTTLMs: number;
  /** --cgroup-root: pod cgroups go under <cgroupRoot>/kubepods. */
  cgroupRoot: string;
  /** --max-pods. */
  maxPods: number;
  /** --node-status-update-frequency. */
  nodeStatusUpdateFrequencyMs: number;
  /** How often the Node status is written even when nothing changed (nodeStatusReportFrequency). */
  nodeStatusReportFrequencyMs: number;
  /** Lease renewal interval and duration (upstream: 10s, 40s). */
  nodeLeaseRenewIntervalMs: number;
  nodeLeaseDurationSeconds: number;
  /** --sync-frequency: every pod is synced at least this often. */
  syncFrequencyMs: number;
  /** How often the runtime is relisted for container state changes (upstream PLEG: 1s). */
  relistPeriodMs: number;
  /** How often dead containers and sandboxes are collected. */
  gcPeriodMs: number;
  /** --runtime-request-timeout. */
  runtimeRequestTimeoutMs: number;
  /** Log level for pino. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Called once the kubelet server listens (tests use it to learn the port). */
  onListening?: (addr: { address: string; port: number; url: string }) => void;
  /** Called once the Node is registered and the pod informer runs. */
  onReady?: () => void;
  clock?: Clock;
}

export function defaultKubeletConfig(): KubeletConfig {
  return {
    kubeconfig: '/etc/kubernetes/kubelet.conf',
    nodeName: os.hostname().toLowerCase(),
    containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    cniConfDir: '/etc/cni/net.d',
    cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
    cniCacheDir: '/var/lib/cni',
    cniBridgeName: 'cni0',
    cniIpamDataDir: '/var/lib/cni/networks',
    nodeLabels: {},
    registerWithTaints: [],
    clusterDNS: [],
    clusterDomain: 'cluster.local',
    resolvConf: '/etc/resolv.conf',
    rootDir: '/var/lib/kubelet',
    podLogsDir: '/var/log/pods',
    address: '0.0.0.0',
    port: 10250,
    authorizationMode: 'AlwaysAllow',
    anonymousAuth: false,
    authenticationTokenWebhook: false,
    authenticationTokenWebhookCacheTTLMs: 2 * 60_000,
    cgroupRoot: '/',
    maxPods: 110,
    nodeStatusUpdateFrequencyMs: 10_000,
    nodeStatusReportFrequencyMs: 5 * 60_000,
    nodeLeaseRenewIntervalMs: 10_000,
    nodeLeaseDurationSeconds: 40,
    syncFrequencyMs: 60_000,
    relistPeriodMs: 1_000,
    gcPeriodMs: 60_000,
    runtimeRequestTimeoutMs: 120_000,
    logLevel: 'info',
  };
}

/** Parses `--register-with-taints` (`key=value:Effect,key:Effect`). */
export function parseTaints(s: string): Taint[] {
  if (!s.trim()) return [];
  return s.split(',').map((t) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t.trim());
    if (!m) throw new Error(`invalid taint spec ${JSON.stringify(t)}: want key[=value]:Effect`);
    const taint: Taint = { key: m[1]!, effect: m[3] as Taint['effect'] };
    if (m[2] !== undefined && m[2] !== '') taint.value = m[2];
    return taint;
  });
}

/** Parses `--node-labels` (`k=v,k2=v2`). */
export function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    if (!part.trim()) continue;
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`invalid label ${JSON.stringify(part)}: want key=value`);
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}
