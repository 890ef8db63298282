/**
 * The iptables proxier's rule generation as a pure function: Services, EndpointSlices and what
 * kube-proxy knows about its node go in, the `iptables-restore` input for the filter and nat
 * tables comes out. It follows the layout of upstream's pkg/proxy/iptables/proxier.go
 * (syncProxyRules):
 *
 *   nat PREROUTING/OUTPUT -> KUBE-SERVICES -> KUBE-SVC-X (cluster IP) -> KUBE-SEP-X (DNAT)
 *                                          -> KUBE-EXT-X (external IPs, LB IPs) -> KUBE-SVC-X or KUBE-SVL-X
 *                         last rule: addrtype LOCAL -> KUBE-NODEPORTS -> KUBE-EXT-X
 *   nat POSTROUTING -> KUBE-POSTROUTING: MASQUERADE what KUBE-MARK-MASQ marked
 *   filter: KUBE-SERVICES / KUBE-EXTERNAL-SERVICES REJECT service ports without endpoints, so
 *   clients get "connection refused" at once instead of a hang.
 *
 * Invariant: the output depends only on the input (services, endpoints and ports are sorted), so
 * two syncs with the same state produce byte-identical text and the caller can skip the restore.
 */
import type { EndpointSlice, Service } from '../api/types.js';
import { contains, ipToInt, parseCIDR } from '../registry/allocators/cidr.js';
import {
  endpointChain,
  filterTopLevelChains,
  isServiceChainName,
  kubeExternalServicesChain,
  kubeForwardChain,
  kubeletFirewallChain,
  kubeMarkMasqChain,
  kubeNodePortsChain,
  kubePostroutingChain,
  kubeProxyFirewallChain,
  kubeServicesChain,
  natTopLevelChains,
  serviceClusterChain,
  serviceExternalChain,
  serviceFirewallChain,
  serviceLocalChain,
} from './chains.js';
import { buildEndpointsMap, buildServicePorts, categorizeEndpoints, externallyAccessible, servicePortKey, usesClusterEndpoints, usesLocalEndpoints, type EndpointInfo, type ServicePortInfo } from './service-port.js';

/** Everything the rules depend on. */
export interface RulesInput {
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  /** This node's name (`--hostname-override`): endpoints on it are local. */
  nodeName: string;
  /** `--cluster-cidr`: traffic from outside it to a cluster IP is masqueraded. Empty: no such rule. */
  clusterCIDR?: string;
  /** `--masquerade-all`: masquerade every packet sent to a cluster IP. */
  masqueradeAll?: boolean;
  /** `--iptables-masquerade-bit` (default 14). */
  masqueradeBit?: number;
  /** `--nodeport-addresses`: CIDRs whose local addresses accept NodePorts. Empty: every local address. */
  nodePortAddresses?: readonly string[];
  /** This node's IPv4 addresses; only consulted when nodePortAddresses is set. */
  nodeIPs?: readonly string[];
  /** NodePorts answer on 127.0.0.1 too (`--iptables-localhost-nodeports`, needs route_localnet=1). */
  localhostNodePorts?: boolean;
  /** nf_conntrack_tcp_be_liberal is set, so INVALID packets need not be dropped. */
  conntrackTCPLiberal?: boolean;
}

/** The generated rules, table by table, before stale chains are added for deletion. */
export interface ProxyRules {
  filterChains: string[];
  filterRules: string[];
  natChains: string[];
  natRules: string[];
  /** Every per-service nat chain the rules use; other KUBE-SVC/SEP/... chains are stale. */
  activeNatChains: Set<string>;
  /** Service ports with `Local` policy and no local endpoint (sync_proxy_rules_no_local_endpoints_total). */
  noLocalEndpointsInternal: number;
  noLocalEndpointsExternal: number;
  /** Number of KUBE-SEP chains. */
  endpointChains: number;
}

/** `0x004000` for bit 14, formatted as upstream does (`%#08x`). */
export function masqueradeMark(bit: number): string {
  return '0x' + (2 ** bit).toString(16).padStart(6, '0');
}

/** The `statistic --probability` of the i-th of n remaining endpoints: 1/n, ten decimals. */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/** Whether a --nodeport-addresses list includes 127.0.0.1 (an empty list means every address). */
export function nodePortAddressesContainLoopback(cidrs: readonly string[]): boolean {
  if (cidrs.length === 0) return true;
  const lo = ipToInt('127.0.0.1')!;
  return cidrs.some((c) => c.includes('.') && contains(parseCIDR(c), lo));
}

function isZeroCIDR(c: string): boolean {
  return c === '0.0.0.0/0';
}

/** One restore line; arguments with spaces (comments) are double-quoted. */
function line(...args: (string | readonly string[])[]): string {
  return args
    .flat()
    .map((a) => (/[\s"]/.test(a) ? `"${a.replace(/"/g, '\\"')}"` : a))
    .join(' ');
}

const chainLine = (chain: string): string => `:${chain} - [0:0]`;

export function buildProxyRules(input: RulesInput): ProxyRules {
  const mark = masqueradeMark(input.masqueradeBit ?? 14);
  const nodePortAddresses = (input.nodePortAddresses ?? []).filter((c) => c.includes('.'));
  const matchAll = nodePortAddresses.length === 0 || nodePortAddresses.some(isZeroCIDR);
  const localhostNodePorts = (input.localhostNodePorts ?? true) && nodePortAddressesContainLoopback(nodePortAddresses);
  const localIfNot = input.clusterCIDR ? ['!', '-s', input.clusterCIDR] : undefined;
  const localIf = input.clusterCIDR ? ['-s', input.clusterCIDR] : undefined;

  const filterChains = filterTopLevelChains.map(chainLine);
  const filterRules: string[] = [];
  const natChains = natTopLevelChains.map(chainLine);
  const natRules: string[] = [];
  const activeNatChains = new Set<string>();
  let noLocalEndpointsInternal = 0;
  let noLocalEndpointsExternal = 0;
  let endpointChains = 0;

  natRules.push(line('-A', kubePostroutingChain, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN'));
  // Clear the mark so a packet that traverses the stack again is not masqueraded twice.
  natRules.push(line('-A', kubePostroutingChain, '-j', 'MARK', '--xor-mark', mark));
  natRules.push(line('-A', kubePostroutingChain, '-m', 'comment', '--comment', 'kubernetes service traffic requiring SNAT', '-j', 'MASQUERADE', '--random-fully'));
  natRules.push(line('-A', kubeMarkMasqChain, '-j', 'MARK', '--or-mark', mark));

  if (localhostNodePorts) {
    // route_localnet=1 lets 127.0.0.1 reach NodePorts; this keeps other hosts from sending
    // packets to 127.0.0.0/8 on this node's interfaces (https://issues.k8s.io/90259).
    filterChains.push(chainLine(kubeletFirewallChain));
    filterRules.push(
      line('-A', kubeletFirewallChain, '-m', 'comment', '--comment', 'block incoming localnet connections', '-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'DROP'),
    );
  }

  const endpointsMap = buildEndpointsMap(input.endpointSlices, input.nodeName);
  for (const sp of buildServicePorts(input.services)) {
    const proto = sp.protocol;
    const name = sp.nameString;
    const eps = endpointsMap.get(servicePortKey(sp.namespace, sp.name, sp.portName, sp.protocol)) ?? [];
    const { clusterEndpoints, localEndpoints, allLocallyReachable, hasEndpoints } = categorizeEndpoints(eps, sp);

    const clusterPolicyChain = serviceClusterChain(name, proto);
    const usesClusterPolicyChain = clusterEndpoints.length > 0 && usesClusterEndpoints(sp);
    const localPolicyChain = serviceLocalChain(name, proto);
    const usesLocalPolicyChain = localEndpoints.length > 0 && usesLocalEndpoints(sp);

    let internalPolicyChain = clusterPolicyChain;
    let hasInternalEndpoints = hasEndpoints;
    if (sp.internalPolicyLocal) {
      internalPolicyChain = localPolicyChain;
      if (localEndpoints.length === 0) hasInternalEndpoints = false;
    }
    let externalPolicyChain = clusterPolicyChain;
    let hasExternalEndpoints = hasEndpoints;
    if (sp.externalPolicyLocal) {
      externalPolicyChain = localPolicyChain;
      if (localEndpoints.length === 0) hasExternalEndpoints = false;
    }
    const externalTrafficChain = serviceExternalChain(name, proto);
    // Built from hasEndpoints, not hasExternalEndpoints: the short-circuit rules for traffic
    // from this node are needed even when no endpoint is local.
    const usesExternalTrafficChain = hasEndpoints && externallyAccessible(sp);
    const fwChain = serviceFirewallChain(name, proto);
    const usesFWChain = hasEndpoints && sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
    const loadBalancerTrafficChain = usesFWChain ? fwChain : externalTrafficChain;

    let internalFilterTarget = '';
    let internalFilterComment = '';
    let externalFilterTarget = '';
    let externalFilterComment = '';
    if (!hasEndpoints) {
      internalFilterTarget = externalFilterTarget = 'REJECT';
      internalFilterComment = externalFilterComment = `${name} has no endpoints`;
    } else {
      if (!hasInternalEndpoints) {
        internalFilterTarget = 'DROP';
        internalFilterComment = `${name} has no local endpoints`;
        noLocalEndpointsInternal++;
      }
      if (!hasExternalEndpoints) {
        externalFilterTarget = 'DROP';
        externalFilterComment = `${name} has no local endpoints`;
        noLocalEndpointsExternal++;
      }
    }

    const portMatch = (ip: string, port: number): string[] => ['-p', proto, '-m', proto, '-d', ip, '--dport', String(port)];

    // Capture the cluster IP.
    if (hasInternalEndpoints) {
      natRules.push(line('-A', kubeServicesChain, '-m', 'comment', '--comment', `${name} cluster IP`, portMatch(sp.clusterIP, sp.port), '-j', internalPolicyChain));
    } else {
      filterRules.push(line('-A', kubeServicesChain, '-m', 'comment', '--comment', internalFilterComment, portMatch(sp.clusterIP, sp.port), '-j', internalFilterTarget));
    }

    // Capture external IPs.
    for (const ip of sp.externalIPs) {
      if (hasEndpoints) natRules.push(line('-A', kubeServicesChain, '-m', 'comment', '--comment', `${name} external IP`, portMatch(ip, sp.port), '-j', externalTrafficChain));
      if (!hasExternalEndpoints) filterRules.push(line('-A', kubeExternalServicesChain, '-m', 'comment', '--comment', externalFilterComment, portMatch(ip, sp.port), '-j', externalFilterTarget));
    }

    // Capture load-balancer ingress IPs.
    for (const ip of sp.loadBalancerIPs) {
      if (hasEndpoints) natRules.push(line('-A', kubeServicesChain, '-m', 'comment', '--comment', `${name} loadbalancer IP`, portMatch(ip, sp.port), '-j', loadBalancerTrafficChain));
      if (usesFWChain) filterRules.push(line('-A', kubeProxyFirewallChain, '-m', 'comment', '--comment', `${name} traffic not accepted by ${fwChain}`, portMatch(ip, sp.port), '-j', 'DROP'));
      if (!hasExternalEndpoints) filterRules.push(line('-A', kubeExternalServicesChain, '-m', 'comment', '--comment', externalFilterComment, portMatch(ip, sp.port), '-j', externalFilterTarget));
    }

    // Capture the NodePort.
    if (sp.nodePort > 0) {
      if (hasEndpoints) natRules.push(line('-A', kubeNodePortsChain, '-m', 'comment', '--comment', name, '-p', proto, '-m', proto, '--dport', String(sp.nodePort), '-j', externalTrafficChain));
      if (!hasExternalEndpoints) {
        filterRules.push(
          line('-A', kubeExternalServicesChain, '-m', 'comment', '--comment', externalFilterComment, '-m', 'addrtype', '--dst-type', 'LOCAL', '-p', proto, '-m', proto, '--dport', String(sp.nodePort), '-j', externalFilterTarget),
        );
      }
    }

    // Internal traffic: masquerade what comes from outside the cluster (it may leave the node again).
    if (hasInternalEndpoints) {
      const args = ['-m', 'comment', '--comment', `${name} cluster IP`, ...portMatch(sp.clusterIP, sp.port)];
      if (input.masqueradeAll) natRules.push(line('-A', internalPolicyChain, args, '-j', kubeMarkMasqChain));
      else if (localIfNot) natRules.push(line('-A', internalPolicyChain, args, localIfNot, '-j', kubeMarkMasqChain));
    }

    // External traffic: NodePorts, external IPs and LB IPs all enter through the EXT chain.
    if (usesExternalTrafficChain) {
      natChains.push(chainLine(externalTrafficChain));
      activeNatChains.add(externalTrafficChain);
      if (!sp.externalPolicyLocal) {
        // Endpoints may be on other nodes: masquerade so replies come back through this one.
        natRules.push(line('-A', externalTrafficChain, '-m', 'comment', '--comment', `masquerade traffic for ${name} external destinations`, '-j', kubeMarkMasqChain));
      } else {
        if (localIf) {
          // Pods on this node reaching an external address of the service are not subject to the policy.
          natRules.push(line('-A', externalTrafficChain, '-m', 'comment', '--comment', `pod traffic for ${name} external destinations`, localIf, '-j', clusterPolicyChain));
        }
        natRules.push(line('-A', externalTrafficChain, '-m', 'comment', '--comment', `masquerade LOCAL traffic for ${name} external destinations`, '-m', 'addrtype', '--src-type', 'LOCAL', '-j', kubeMarkMasqChain));
        natRules.push(line('-A', externalTrafficChain, '-m', 'comment', '--comment', `route LOCAL traffic for ${name} external destinations`, '-m', 'addrtype', '--src-type', 'LOCAL', '-j', clusterPolicyChain));
      }
      if (hasExternalEndpoints) natRules.push(line('-A', externalTrafficChain, '-j', externalPolicyChain));
    }

    if (usesFWChain) {
      natChains.push(chainLine(fwChain));
      activeNatChains.add(fwChain);
      const args = ['-A', fwChain, '-m', 'comment', '--comment', `${name} loadbalancer IP`];
      for (const cidr of sp.loadBalancerSourceRanges) natRules.push(line(args, '-s', cidr, '-j', externalTrafficChain));
      const nodeInRanges = (input.nodeIPs ?? []).some((ip) => sp.loadBalancerSourceRanges.some((c) => safeContains(c, ip)));
      if (nodeInRanges) for (const ip of sp.loadBalancerIPs) natRules.push(line(args, '-s', ip, '-j', externalTrafficChain));
      natRules.push(line('-A', fwChain, '-m', 'comment', '--comment', `other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`));
    }

    if (usesClusterPolicyChain) {
      natChains.push(chainLine(clusterPolicyChain));
      activeNatChains.add(clusterPolicyChain);
      writeServiceToEndpointRules(natRules, sp, clusterPolicyChain, clusterEndpoints);
    }
    if (usesLocalPolicyChain) {
      natChains.push(chainLine(localPolicyChain));
      activeNatChains.add(localPolicyChain);
      writeServiceToEndpointRules(natRules, sp, localPolicyChain, localEndpoints);
    }

    for (const ep of allLocallyReachable) {
      const chain = endpointChain(name, proto, ep.endpoint);
      natChains.push(chainLine(chain));
      activeNatChains.add(chain);
      endpointChains++;
      // Hairpin: a pod reaching itself through the service must be masqueraded, or the reply would bypass the DNAT.
      natRules.push(line('-A', chain, '-m', 'comment', '--comment', name, '-s', ep.ip, '-j', kubeMarkMasqChain));
      const affinity = sp.sessionAffinityClientIP ? ['-m', 'recent', '--name', chain, '--set'] : [];
      natRules.push(line('-A', chain, '-m', 'comment', '--comment', name, affinity, '-p', proto, '-m', proto, '-j', 'DNAT', '--to-destination', ep.endpoint));
    }
  }

  // Last in KUBE-SERVICES: everything addressed to this node goes on to the NodePorts.
  const nodePortsComment = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';
  if (matchAll) {
    const dst = ['-m', 'addrtype', '--dst-type', 'LOCAL', ...(localhostNodePorts ? [] : ['!', '-d', '127.0.0.0/8'])];
    natRules.push(line('-A', kubeServicesChain, '-m', 'comment', '--comment', nodePortsComment, dst, '-j', kubeNodePortsChain));
  } else {
    const ips = [...new Set((input.nodeIPs ?? []).filter((ip) => nodePortAddresses.some((c) => safeContains(c, ip))))].sort();
    for (const ip of ips) {
      if (ip.startsWith('127.') && !localhostNodePorts) continue;
      natRules.push(line('-A', kubeServicesChain, '-m', 'comment', '--comment', nodePortsComment, '-d', ip, '-j', kubeNodePortsChain));
    }
  }

  if (!input.conntrackTCPLiberal) {
    // INVALID packets could otherwise reset connections (https://issues.k8s.io/74839).
    filterRules.push(line('-A', kubeForwardChain, '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP'));
  }
  filterRules.push(line('-A', kubeForwardChain, '-m', 'comment', '--comment', 'kubernetes forwarding rules', '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT'));
  filterRules.push(line('-A', kubeForwardChain, '-m', 'comment', '--comment', 'kubernetes forwarding conntrack rule', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'));

  return { filterChains, filterRules, natChains, natRules, activeNatChains, noLocalEndpointsInternal, noLocalEndpointsExternal, endpointChains };
}

function safeContains(cidr: string, ip: string): boolean {
  const n = ipToInt(ip);
  if (n === undefined) return false;
  try {
    return contains(parseCIDR(cidr), n);
  } catch {
    return false;
  }
}

/** Session-affinity lookups first, then the probability cascade: endpoint i of n matches with 1/(n-i), the last always. */
function writeServiceToEndpointRules(natRules: string[], sp: ServicePortInfo, svcChain: string, endpoints: readonly EndpointInfo[]): void {
  const name = sp.nameString;
  if (sp.sessionAffinityClientIP) {
    for (const ep of endpoints) {
      const chain = endpointChain(name, sp.protocol, ep.endpoint);
      natRules.push(
        line('-A', svcChain, '-m', 'comment', '--comment', `${name} -> ${ep.endpoint}`, '-m', 'recent', '--name', chain, '--rcheck', '--seconds', String(sp.stickyMaxAgeSeconds), '--reap', '-j', chain),
      );
    }
  }
  endpoints.forEach((ep, i) => {
    const chain = endpointChain(name, sp.protocol, ep.endpoint);
    const stat = i < endpoints.length - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', probability(endpoints.length - i)] : [];
    natRules.push(line('-A', svcChain, '-m', 'comment', '--comment', `${name} -> ${ep.endpoint}`, stat, '-j', chain));
  });
}

/**
 * The whole `iptables-restore --noflush` input. Declaring a chain flushes it, so every chain we
 * own is rewritten whole while nobody else's rules are touched. Stale per-service chains (present
 * in `existingNatChains`, no longer used) are flushed and deleted.
 */
export function renderRestore(rules: ProxyRules, existingNatChains: Iterable<string> = []): string {
  const stale = staleNatChains(rules, existingNatChains);
  return [
    '*filter',
    ...rules.filterChains,
    ...rules.filterRules,
    'COMMIT',
    '*nat',
    ...rules.natChains,
    ...stale.map(chainLine),
    ...rules.natRules,
    ...stale.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
}

/** Per-service nat chains that exist but are no longer used, sorted. */
export function staleNatChains(rules: ProxyRules, existingNatChains: Iterable<string>): string[] {
  return [...new Set(existingNatChains)].filter((c) => isServiceChainName(c) && !rules.activeNatChains.has(c)).sort();
}

/** Chain names declared in `iptables-save` output (`:NAME POLICY [p:b]`). */
export function parseSavedChains(saved: string): string[] {
  const out: string[] = [];
  for (const l of saved.split('\n')) {
    const m = /^:(\S+)\s/.exec(l);
    if (m) out.push(m[1]!);
  }
  return out;
}

/**
 * The restore input `--cleanup` uses: flush and delete every chain of ours that exists, given the
 * chain names `iptables-save` reported per table. Returns '' for a table with nothing to remove.
 */
export function renderCleanup(table: 'nat' | 'filter', existingChains: Iterable<string>, ours: readonly string[]): string {
  const existing = new Set(existingChains);
  const chains = [...existing].filter((c) => ours.includes(c) || (table === 'nat' && isServiceChainName(c))).sort();
  if (chains.length === 0) return '';
  return [`*${table}`, ...chains.map(chainLine), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
}
