/**
 * The cluster's DNS data, indexed for lookups: Services, their ready endpoints (from
 * EndpointSlices), Namespaces and Pod IPs. Built whole from informer caches; pure.
 */
import type { EndpointSlice, Namespace, Pod, Service } from '../api/types.js';

/** One endpoint address of a Service, as CoreDNS's object.EndpointAddress. */
export interface EndpointAddress {
  ip: string;
  /** `endpoints[].hostname`, '' when unset. */
  hostname: string;
  ports: EndpointPort[];
}

export interface EndpointPort {
  /** '' for an unnamed port. */
  name: string;
  /** 'tcp' | 'udp' | 'sctp', or '' for a headless Service without ports. */
  protocol: string;
  /** -1 when the slice declares no ports (headless Services may have none). */
  port: number;
}

export interface ServiceEntry {
  namespace: string;
  name: string;
  type: string;
  /** The Service's cluster IPs; empty for headless and ExternalName Services. */
  clusterIPs: string[];
  headless: boolean;
  externalName: string;
  ports: { name: string; protocol: string; port: number }[];
  /** Ready endpoints, deduplicated by IP across slices. */
  endpoints: EndpointAddress[];
}

export interface ClusterIndex {
  /** `ns/name` (lower case) to Service. */
  services: Map<string, ServiceEntry>;
  namespaces: Set<string>;
  /** Pod IP to the namespaces of the (non-terminal) pods that have it. */
  podIPs: Map<string, Set<string>>;
  /** IP to the name a PTR query answers (without the trailing dot). */
  reverse: Map<string, string>;
}

export const labelServiceName = 'kubernetes.io/service-name';

/** The dashed form of an IP: `10-0-0-1`, or `fd00--1` for IPv6. */
export function dashedIP(ip: string): string {
  return ip.includes(':') ? ip.replace(/:/g, '-') : ip.replace(/\./g, '-');
}

/** The label an endpoint answers to under its Service: its hostname, else its dashed IP. */
export function endpointHostname(addr: EndpointAddress): string {
  return addr.hostname || dashedIP(addr.ip);
}

/** `ns/name` in lower case: DNS names compare case-insensitively. */
export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`.toLowerCase();
}

export function buildIndex(input: { services: readonly Service[]; endpointSlices: readonly EndpointSlice[]; namespaces: readonly Namespace[]; pods: readonly Pod[]; zone: string }): ClusterIndex {
  const services = new Map<string, ServiceEntry>();
  const namespaces = new Set<string>();
  for (const n of input.namespaces) if (n.metadata?.name) namespaces.add(n.metadata.name.toLowerCase());
  for (const s of input.services) {
    const namespace = s.metadata?.namespace ?? '';
    const name = s.metadata?.name ?? '';
    const spec = s.spec ?? {};
    const type = spec.type ?? 'ClusterIP';
    const headless = type !== 'ExternalName' && spec.clusterIP === 'None';
    const clusterIPs = type === 'ExternalName' || headless ? [] : (spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : []).filter((ip) => ip && ip !== 'None');
    services.set(serviceKey(namespace, name), {
      namespace,
      name,
      type,
      clusterIPs,
      headless,
      externalName: type === 'ExternalName' ? (spec.externalName ?? '').replace(/\.$/, '') : '',
      ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port })),
      endpoints: [],
    });
  }

  const byService = new Map<string, Map<string, EndpointAddress>>();
  for (const slice of input.endpointSlices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const svcName = slice.metadata?.labels?.[labelServiceName];
    if (!svcName) continue;
    const key = serviceKey(slice.metadata?.namespace ?? '', svcName);
    let eps = byService.get(key);
    if (!eps) byService.set(key, (eps = new Map()));
    const ports: EndpointPort[] = (slice.ports ?? []).length
      ? (slice.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port ?? -1 }))
      : [{ name: '', protocol: '', port: -1 }];
    for (const ep of slice.endpoints ?? []) {
      // As CoreDNS: only ready addresses (a missing condition counts as ready).
      if (ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses ?? []) {
        const prev = eps.get(ip);
        if (prev) {
          for (const p of ports) if (!prev.ports.some((q) => q.name === p.name && q.protocol === p.protocol && q.port === p.port)) prev.ports.push(p);
          if (!prev.hostname && ep.hostname) prev.hostname = ep.hostname;
        } else eps.set(ip, { ip, hostname: ep.hostname ?? '', ports: [...ports] });
      }
    }
  }
  for (const [key, eps] of byService) {
    const entry = services.get(key);
    if (entry) entry.endpoints = [...eps.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  }

  const podIPs = new Map<string, Set<string>>();
  for (const p of input.pods) {
    const phase = p.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed' || p.spec?.hostNetwork) continue;
    const ips = new Set([p.status?.podIP, ...(p.status?.podIPs ?? []).map((x) => x.ip)].filter((x): x is string => !!x));
    for (const ip of ips) {
      let set = podIPs.get(ip);
      if (!set) podIPs.set(ip, (set = new Set()));
      set.add((p.metadata?.namespace ?? '').toLowerCase());
    }
  }

  // PTR names, strongest claim first: a cluster IP, then a Service endpoint, then a pod.
  const reverse = new Map<string, string>();
  const zone = input.zone;
  const sorted = [...services.values()].sort((a, b) => (serviceKey(a.namespace, a.name) < serviceKey(b.namespace, b.name) ? -1 : 1));
  for (const s of sorted) for (const ip of s.clusterIPs) if (!reverse.has(ip)) reverse.set(ip, `${s.name}.${s.namespace}.svc.${zone}`);
  for (const s of sorted) for (const e of s.endpoints) if (!reverse.has(e.ip)) reverse.set(e.ip, `${endpointHostname(e)}.${s.name}.${s.namespace}.svc.${zone}`);
  for (const [ip, nss] of podIPs) if (!reverse.has(ip)) reverse.set(ip, `${dashedIP(ip)}.${[...nss].sort()[0]}.pod.${zone}`);
  return { services, namespaces, podIPs, reverse };
}
