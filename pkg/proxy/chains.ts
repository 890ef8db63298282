/**
 * iptables chain names kube-proxy owns, spelled as upstream's iptables proxier spells them, so
 * `iptables-save` on a keelson node reads like one on a Kubernetes node.
 *
 * Per-service chains are `<prefix><16 chars>`: the first 16 characters of the standard base32
 * encoding of sha256(servicePortName + protocol) (plus `ip:port` for an endpoint chain). iptables
 * limits chain names to 28 characters, which a raw service name would blow through.
 */
import { createHash } from 'node:crypto';

export const kubeServicesChain = 'KUBE-SERVICES';
export const kubeExternalServicesChain = 'KUBE-EXTERNAL-SERVICES';
export const kubeNodePortsChain = 'KUBE-NODEPORTS';
export const kubePostroutingChain = 'KUBE-POSTROUTING';
export const kubeMarkMasqChain = 'KUBE-MARK-MASQ';
export const kubeForwardChain = 'KUBE-FORWARD';
export const kubeProxyFirewallChain = 'KUBE-PROXY-FIREWALL';
/** Upstream this chain belongs to the kubelet; keelson's kubelet does not write iptables, so kube-proxy owns it here. */
export const kubeletFirewallChain = 'KUBE-FIREWALL';
/** Watched to notice that someone flushed the tables (upstream's iptables Monitor). */
export const kubeProxyCanaryChain = 'KUBE-PROXY-CANARY';

export const servicePortPolicyClusterChainPrefix = 'KUBE-SVC-';
export const servicePortPolicyLocalChainPrefix = 'KUBE-SVL-';
export const serviceFirewallChainPrefix = 'KUBE-FW-';
export const serviceExternalChainPrefix = 'KUBE-EXT-';
export const servicePortEndpointChainPrefix = 'KUBE-SEP-';

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 with padding, as Go's base32.StdEncoding. */
export function base32(data: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += base32Alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function hash16(text: string): string {
  return base32(createHash('sha256').update(text).digest()).slice(0, 16);
}

/** `ns/name:port`, or `ns/name` when the port has no name (ServicePortName.String()). */
export function servicePortName(namespace: string, name: string, port: string | undefined): string {
  return port ? `${namespace}/${name}:${port}` : `${namespace}/${name}`;
}

/** The 16-character hash shared by a service port's SVC, SVL, EXT and FW chains. */
export function portProtoHash(svcPortName: string, protocol: string): string {
  return hash16(svcPortName + protocol);
}

export const serviceClusterChain = (svcPortName: string, protocol: string): string => servicePortPolicyClusterChainPrefix + portProtoHash(svcPortName, protocol);
export const serviceLocalChain = (svcPortName: string, protocol: string): string => servicePortPolicyLocalChainPrefix + portProtoHash(svcPortName, protocol);
export const serviceExternalChain = (svcPortName: string, protocol: string): string => serviceExternalChainPrefix + portProtoHash(svcPortName, protocol);
export const serviceFirewallChain = (svcPortName: string, protocol: string): string => serviceFirewallChainPrefix + portProtoHash(svcPortName, protocol);

/** The KUBE-SEP chain of one endpoint (`ip:port`) of a service port. */
export function endpointChain(svcPortName: string, protocol: string, endpoint: string): string {
  return servicePortEndpointChainPrefix + hash16(svcPortName + protocol + endpoint);
}

/** Whether a chain is one of the per-service chains kube-proxy creates and garbage-collects. */
export function isServiceChainName(chain: string): boolean {
  return [servicePortPolicyClusterChainPrefix, servicePortPolicyLocalChainPrefix, servicePortEndpointChainPrefix, serviceFirewallChainPrefix, serviceExternalChainPrefix].some((p) =>
    chain.startsWith(p),
  );
}

/** A rule that links a built-in chain to one of ours (upstream's iptablesJumpChains). */
export interface JumpChain {
  table: 'filter' | 'nat';
  /** Our chain. */
  dstChain: string;
  /** The built-in chain the jump sits in. */
  srcChain: string;
  comment: string;
  extraArgs: string[];
}

const ctNew = ['-m', 'conntrack', '--ctstate', 'NEW'];

export const jumpChains: JumpChain[] = [
  { table: 'filter', dstChain: kubeExternalServicesChain, srcChain: 'INPUT', comment: 'kubernetes externally-visible service portals', extraArgs: ctNew },
  { table: 'filter', dstChain: kubeExternalServicesChain, srcChain: 'FORWARD', comment: 'kubernetes externally-visible service portals', extraArgs: ctNew },
  { table: 'filter', dstChain: kubeNodePortsChain, srcChain: 'INPUT', comment: 'kubernetes health check service ports', extraArgs: [] },
  { table: 'filter', dstChain: kubeServicesChain, srcChain: 'FORWARD', comment: 'kubernetes service portals', extraArgs: ctNew },
  { table: 'filter', dstChain: kubeServicesChain, srcChain: 'OUTPUT', comment: 'kubernetes service portals', extraArgs: ctNew },
  { table: 'filter', dstChain: kubeForwardChain, srcChain: 'FORWARD', comment: 'kubernetes forwarding rules', extraArgs: [] },
  { table: 'filter', dstChain: kubeProxyFirewallChain, srcChain: 'INPUT', comment: 'kubernetes load balancer firewall', extraArgs: ctNew },
  { table: 'filter', dstChain: kubeProxyFirewallChain, srcChain: 'OUTPUT', comment: 'kubernetes load balancer firewall', extraArgs: ctNew },
  { table: 'filter', dstChain: kubeProxyFirewallChain, srcChain: 'FORWARD', comment: 'kubernetes load balancer firewall', extraArgs: ctNew },
  { table: 'nat', dstChain: kubeServicesChain, srcChain: 'OUTPUT', comment: 'kubernetes service portals', extraArgs: [] },
  { table: 'nat', dstChain: kubeServicesChain, srcChain: 'PREROUTING', comment: 'kubernetes service portals', extraArgs: [] },
  { table: 'nat', dstChain: kubePostroutingChain, srcChain: 'POSTROUTING', comment: 'kubernetes postrouting rules', extraArgs: [] },
];

/** The kubelet's jumps to KUBE-FIREWALL (upstream: no comment), which kube-proxy writes here. */
export const kubeletJumpChains: JumpChain[] = [
  { table: 'filter', dstChain: kubeletFirewallChain, srcChain: 'INPUT', comment: '', extraArgs: [] },
  { table: 'filter', dstChain: kubeletFirewallChain, srcChain: 'OUTPUT', comment: '', extraArgs: [] },
];

/** The arguments of a jump rule, as given to `iptables -C/-I/-D <srcChain>`. */
export function jumpRuleArgs(j: JumpChain): string[] {
  const args = [...j.extraArgs];
  if (j.comment) args.push('-m', 'comment', '--comment', j.comment);
  args.push('-j', j.dstChain);
  return args;
}

/** Chains kube-proxy fills through iptables-restore, per table. */
export const filterTopLevelChains = [kubeServicesChain, kubeExternalServicesChain, kubeForwardChain, kubeNodePortsChain, kubeProxyFirewallChain];
export const natTopLevelChains = [kubeServicesChain, kubeNodePortsChain, kubePostroutingChain, kubeMarkMasqChain];
