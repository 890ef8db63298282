/** kube-proxy's configuration: upstream's defaults in one function; flags and embedders override them. */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Level } from 'pino';
import type { Clock } from '../controller/framework/clock.js';
import type { Exec } from './iptables.js';

export interface ProxyConfig {
  /** `--kubeconfig`; the default loading rules when empty. */
  kubeconfig?: string;
  /** An already loaded kubeconfig (embedding); wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** `--hostname-override`: this node's name; the machine's hostname when empty. */
  hostnameOverride?: string;
  /** `--cluster-cidr`: the pods' range; traffic from outside it to a cluster IP is masqueraded. */
  clusterCIDR: string;
  /** `--proxy-mode`: only `iptables`. */
  proxyMode: string;
  /** `--cleanup`: remove every rule and chain kube-proxy created, then exit. */
  cleanup: boolean;
  /** `--metrics-bind-address` (host:port, port 0 picks one): /metrics, /healthz, /proxyMode. */
  metricsBindAddress: string;
  /** `--healthz-bind-address` (host:port): /healthz and /livez. Empty disables it. */
  healthzBindAddress: string;
  /** `--nodeport-addresses`: CIDRs; empty means every local address. */
  nodePortAddresses: string[];
  /** `--masquerade-all`. */
  masqueradeAll: boolean;
  /** `--iptables-masquerade-bit`. */
  masqueradeBit: number;
  /** `--iptables-sync-period`: the longest time between two syncs. */
  syncPeriodMs: number;
  /** `--iptables-min-sync-period`: the shortest time between two syncs. */
  minSyncPeriodMs: number;
  /** `--iptables-localhost-nodeports`: NodePorts on 127.0.0.1 (sets route_localnet=1). */
  localhostNodePorts: boolean;
  logLevel: Level | 'silent';
  clock?: Clock;
  /** Runs iptables and friends; tests may record instead. */
  exec?: Exec;
  /** Where sysctls live (`/proc/sys`). */
  sysctlDir?: string;
  /** Called once both HTTP servers listen. */
  onListening?: (addrs: { metrics: string; healthz?: string }) => void;
}

export function defaultProxyConfig(): ProxyConfig {
  return {
    clusterCIDR: '',
    proxyMode: 'iptables',
    cleanup: false,
    metricsBindAddress: '127.0.0.1:10249',
    healthzBindAddress: '0.0.0.0:10256',
    nodePortAddresses: [],
    masqueradeAll: false,
    masqueradeBit: 14,
    syncPeriodMs: 30_000,
    minSyncPeriodMs: 1_000,
    localhostNodePorts: true,
    logLevel: 'info',
  };
}

/** Splits `host:port` (or `[v6]:port`); a bare host gets `defaultPort`. */
export function splitHostPort(addr: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr) ?? /^([^:]*)(?::(\d+))?$/.exec(addr);
  if (!m) throw new Error(`invalid address ${JSON.stringify(addr)}`);
  return { host: m[1] || '0.0.0.0', port: m[2] !== undefined ? Number(m[2]) : defaultPort };
}
