/**
 * What kube-proxy needs from Services and EndpointSlices, flattened per service port: upstream's
 * ServicePortMap and EndpointsMap (pkg/proxy/servicechangetracker.go, endpointslicecache.go),
 * recomputed whole from the informer caches on each sync. Pure functions.
 */
import type { EndpointSlice, Service } from '../api/types.js';
import { servicePortName } from './chains.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** One port of one Service, for the IPv4 proxier. */
export interface ServicePortInfo {
  namespace: string;
  name: string;
  /** `spec.ports[].name`, '' when unnamed. */
  portName: string;
  /** `ns/name:port` (ServicePortName.String()). */
  nameString: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** 0 when the port has none. */
  nodePort: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  /** sessionAffinity: ClientIP. */
  sessionAffinityClientIP: boolean;
  stickyMaxAgeSeconds: number;
  internalPolicyLocal: boolean;
  externalPolicyLocal: boolean;
}

/** One endpoint (`ip:port`) of a service port. */
export interface EndpointInfo {
  ip: string;
  port: number;
  /** `ip:port`. */
  endpoint: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** The endpoint's pod runs on this node. */
  isLocal: boolean;
}

/** Service label that hands a Service to another proxy (upstream's service-proxy-name). */
export const labelServiceProxyName = 'service.kubernetes.io/service-proxy-name';
/** EndpointSlice label naming the Service the slice belongs to. */
export const labelServiceName = 'kubernetes.io/service-name';
/** Default ClientIP affinity timeout (3 hours), as upstream's DefaultClientIPServiceAffinitySeconds. */
export const defaultStickyMaxAgeSeconds = 10800;

const isIPv4 = (ip: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

function normalizeProtocol(p: string | undefined): Protocol | undefined {
  const v = (p ?? 'TCP').toLowerCase();
  return v === 'tcp' || v === 'udp' || v === 'sctp' ? v : undefined;
}

/** `ns/name:portName:protocol`: the key of the endpoints map. */
export function servicePortKey(namespace: string, name: string, portName: string, protocol: Protocol): string {
  return `${namespace}/${name}:${portName}:${protocol}`;
}

/** The service ports kube-proxy programs, sorted for stable output. Headless, ExternalName and other proxies' Services are skipped. */
export function buildServicePorts(services: readonly Service[]): ServicePortInfo[] {
  const out: ServicePortInfo[] = [];
  for (const svc of services) {
    const namespace = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const spec = svc.spec ?? {};
    if (svc.metadata?.labels?.[labelServiceProxyName]) continue;
    if (spec.type === 'ExternalName') continue;
    const clusterIP = [...(spec.clusterIPs ?? []), spec.clusterIP ?? ''].find((ip) => isIPv4(ip));
    if (!clusterIP) continue;
    const externallyAccessibleTypes = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const loadBalancerIPs = spec.type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(isIPv4) : [];
    const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);
    for (const p of spec.ports ?? []) {
      const protocol = normalizeProtocol(p.protocol);
      if (!protocol || !p.port) continue;
      const portName = p.name ?? '';
      const nodePort = externallyAccessibleTypes ? (p.nodePort ?? 0) : 0;
      const externallyAccessible = nodePort > 0 || externalIPs.length > 0 || loadBalancerIPs.length > 0;
      out.push({
        namespace,
        name,
        portName,
        nameString: servicePortName(namespace, name, portName),
        protocol,
        clusterIP,
        port: p.port,
        nodePort,
        externalIPs,
        loadBalancerIPs,
        loadBalancerSourceRanges: spec.type === 'LoadBalancer' ? (spec.loadBalancerSourceRanges ?? []).map((s) => s.trim()).filter((s) => s.includes('.')) : [],
        sessionAffinityClientIP: spec.sessionAffinity === 'ClientIP',
        stickyMaxAgeSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultStickyMaxAgeSeconds,
        internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
        externalPolicyLocal: externallyAccessible && spec.externalTrafficPolicy === 'Local',
      });
    }
  }
  return out.sort((a, b) => cmp(a.nameString, b.nameString) || cmp(a.protocol, b.protocol));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Endpoints per service port key from EndpointSlices (IPv4 slices only). An endpoint listed in
 * several slices counts once; the entry that is ready wins. Endpoints are sorted by `ip:port`.
 */
export function buildEndpointsMap(slices: readonly EndpointSlice[], nodeName: string): Map<string, EndpointInfo[]> {
  const byKey = new Map<string, Map<string, EndpointInfo>>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const svcName = slice.metadata?.labels?.[labelServiceName];
    if (!svcName) continue;
    const namespace = slice.metadata?.namespace ?? '';
    for (const port of slice.ports ?? []) {
      const protocol = normalizeProtocol(port.protocol);
      if (!protocol || !port.port) continue;
      const key = servicePortKey(namespace, svcName, port.name ?? '', protocol);
      let eps = byKey.get(key);
      if (!eps) byKey.set(key, (eps = new Map()));
      for (const ep of slice.endpoints ?? []) {
        // Upstream uses only the first address of an endpoint.
        const ip = ep.addresses?.[0];
        if (!ip || !isIPv4(ip)) continue;
        const c = ep.conditions ?? {};
        // A missing ready condition means ready; serving defaults to ready (the API's documented reading).
        const ready = c.ready ?? true;
        const info: EndpointInfo = {
          ip,
          port: port.port,
          endpoint: `${ip}:${port.port}`,
          ready,
          serving: c.serving ?? ready,
          terminating: c.terminating ?? false,
          isLocal: !!nodeName && ep.nodeName === nodeName,
        };
        const prev = eps.get(info.endpoint);
        if (!prev || (!prev.ready && info.ready)) eps.set(info.endpoint, info);
      }
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, eps] of byKey) out.set(key, [...eps.values()].sort((a, b) => cmp(a.endpoint, b.endpoint)));
  return out;
}

/** Whether the port takes traffic from outside: a NodePort, an external IP or a load-balancer IP. */
export function externallyAccessible(sp: ServicePortInfo): boolean {
  return sp.nodePort > 0 || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
}

/** Cluster endpoints are needed for Cluster internal policy, and for any externally reachable port (short-circuiting). */
export function usesClusterEndpoints(sp: ServicePortInfo): boolean {
  return !sp.internalPolicyLocal || externallyAccessible(sp);
}

export function usesLocalEndpoints(sp: ServicePortInfo): boolean {
  return sp.internalPolicyLocal || sp.externalPolicyLocal;
}

export interface CategorizedEndpoints {
  clusterEndpoints: EndpointInfo[];
  localEndpoints: EndpointInfo[];
  /** Every endpoint a rule may DNAT to: the union of the two lists. */
  allLocallyReachable: EndpointInfo[];
  /** Whether the service has usable endpoints anywhere in the cluster. */
  hasEndpoints: boolean;
}

/**
 * Picks the endpoints traffic may go to (upstream's CategorizeEndpoints, without topology
 * hints): ready endpoints, or, when none is ready, the serving ones that are terminating, so
 * connections drain rather than fail during a rollout.
 */
export function categorizeEndpoints(endpoints: readonly EndpointInfo[], sp: ServicePortInfo): CategorizedEndpoints {
  const usable = (eps: readonly EndpointInfo[]): EndpointInfo[] => {
    const ready = eps.filter((e) => e.ready);
    return ready.length > 0 ? ready : eps.filter((e) => e.serving && e.terminating);
  };
  const all = usable(endpoints);
  const clusterEndpoints = usesClusterEndpoints(sp) ? all : [];
  const localEndpoints = usesLocalEndpoints(sp) ? usable(endpoints.filter((e) => e.isLocal)) : [];
  const seen = new Set<string>();
  const allLocallyReachable: EndpointInfo[] = [];
  for (const e of [...clusterEndpoints, ...localEndpoints]) {
    if (seen.has(e.endpoint)) continue;
    seen.add(e.endpoint);
    allLocallyReachable.push(e);
  }
  allLocallyReachable.sort((a, b) => cmp(a.endpoint, b.endpoint));
  return { clusterEndpoints, localEndpoints, allLocallyReachable, hasEndpoints: all.length > 0 };
}
