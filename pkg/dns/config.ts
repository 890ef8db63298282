/** cluster-dns configuration: defaults follow CoreDNS's kubernetes plugin; flags and embedders override them. */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Level } from 'pino';
import type { Clock } from '../controller/framework/clock.js';
import type { PodMode } from './resolver.js';

export interface DnsConfig {
  /** `--kubeconfig`; the default loading rules when empty. */
  kubeconfig?: string;
  /** An already loaded kubeconfig (embedding); wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** `--listen`: host:port for UDP and TCP (port 0 picks one free port for both). */
  listen: string;
  /** `--cluster-domain`. */
  clusterDomain: string;
  /** `--metrics-bind-address`: /metrics, /health, /ready, /healthz, /livez, /readyz. Empty disables it. */
  metricsBindAddress: string;
  /** `--ttl`: seconds, 5 to 3600 (CoreDNS's kubernetes plugin: default and minimum 5). */
  ttl: number;
  /** `--pods`: answers for a-b-c-d.<ns>.pod.<zone> (CoreDNS's `pods` option). */
  pods: PodMode;
  /** `--upstream`: resolvers for names outside the cluster; none means those get NXDOMAIN at once. */
  upstream: string[];
  /** `--dns-service`: the Service (`ns/name`) whose cluster IP answers for ns.dns.<zone>. */
  dnsService: string;
  /** Shuffle A/AAAA answers (CoreDNS's loadbalance plugin). */
  loadBalance: boolean;
  /** How long to wait for the informers before serving anyway (CoreDNS waits 5s). */
  syncTimeoutMs: number;
  logLevel: Level | 'silent';
  clock?: Clock;
  /** Called once the DNS sockets and the HTTP server listen. */
  onListening?: (addrs: { dns: { host: string; port: number }; metrics?: string }) => void;
}

export function defaultDnsConfig(): DnsConfig {
  return {
    listen: '0.0.0.0:53',
    clusterDomain: 'cluster.local',
    metricsBindAddress: '0.0.0.0:9153',
    ttl: 5,
    pods: 'verified',
    upstream: [],
    dnsService: 'kube-system/kube-dns',
    loadBalance: true,
    syncTimeoutMs: 5_000,
    logLevel: 'info',
  };
}

// One parser for bind addresses across components (it belongs in pkg/util/flags.ts).
export { splitHostPort } from '../proxy/config.js';
