/**
 * Answers one DNS question from the cluster index, following the Kubernetes DNS-Based Service
 * Discovery specification as CoreDNS's kubernetes plugin implements it:
 *
 *   <svc>.<ns>.svc.<zone>                A     cluster IPs; a headless Service's ready endpoint IPs
 *   <hostname>.<svc>.<ns>.svc.<zone>     A     one endpoint (hostname, or the dashed IP)
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV named ports (targets in the additional section)
 *   <svc>.<ns>.svc.<zone>                CNAME an ExternalName Service
 *   a-b-c-d.<ns>.pod.<zone>              A     a pod IP (pod mode verified: a pod with that IP exists in ns)
 *   d.c.b.a.in-addr.arpa                 PTR   cluster IPs, endpoints, pods
 *   dns-version.<zone>                   TXT   "1.1.0"
 *
 * A name in the zone that does not exist is NXDOMAIN, one that exists without records of the
 * asked type is NODATA (NOERROR, empty answer); both carry the zone's SOA. Pure: the caller
 * handles forwarding (names outside the zones, CNAMEs that leave them).
 */
import type { Answer, RecordType } from 'dns-packet';
import { dashedIP, endpointHostname, serviceKey, type ClusterIndex, type ServiceEntry } from './records.js';

/** A query type: dns-packet's record types plus ANY (type 255, which it decodes but does not type). */
export type QType = RecordType | 'ANY';

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';
export type PodMode = 'disabled' | 'insecure' | 'verified';

export interface ResolverOptions {
  /** The cluster domain, without the trailing dot (`cluster.local`). */
  zone: string;
  /** TTL of every record (CoreDNS default 5). */
  ttl: number;
  podMode: PodMode;
  /** SOA serial: when the data last changed (Unix seconds). */
  serial: number;
  /** The DNS Service's cluster IPs, for `ns.dns.<zone>` and the apex NS record. */
  nameserverIPs: string[];
}

export interface Resolution {
  rcode: Rcode;
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** The zone that answered (`cluster.local.`, `in-addr.arpa.`), or `.` for names outside them. */
  zone: string;
  /** Outside our zones (or an unknown reverse name): an upstream may answer instead. */
  forwardable: boolean;
  /** A CNAME left the zones: the caller may resolve this name upstream and append the answers. */
  chase?: { name: string; type: QType };
}

/** The DNS schema version the spec defines for `dns-version.<zone>`. */
export const dnsSchemaVersion = '1.1.0';
const reverseZone = 'in-addr.arpa';
const maxCNAMEDepth = 8;

/** A record source: an address, or a CNAME target, owned by a name in the zone. */
interface ServiceRecord {
  /** The name SRV points at (`svc.ns.svc.zone` or `host.svc.ns.svc.zone`). */
  target: string;
  host: string;
  isCNAME: boolean;
  port: number;
}

interface Found {
  /** False: the name does not exist (NXDOMAIN). */
  exists: boolean;
  records: ServiceRecord[];
}

const notFound: Found = { exists: false, records: [] };
const noData: Found = { exists: true, records: [] };

const isIPv4 = (s: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((o) => Number(o) <= 255);
const isIPv6 = (s: string): boolean => s.includes(':') && /^[0-9a-f:.]+$/i.test(s);

/** Whether `name` is `zone` or below it (both without trailing dots, lower case). */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

export function soaRecord(zone: string, opts: ResolverOptions): Answer {
  return {
    name: zone,
    type: 'SOA',
    class: 'IN',
    ttl: Math.min(300, opts.ttl),
    data: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: opts.serial >>> 0, refresh: 7200, retry: 1800, expire: 86400, minimum: opts.ttl },
  };
}

export function resolve(qname: string, qtype: QType, index: ClusterIndex, opts: ResolverOptions): Resolution {
  return resolveDepth(qname, qtype, index, opts, 0);
}

function resolveDepth(qname: string, qtype: QType, index: ClusterIndex, opts: ResolverOptions, depth: number): Resolution {
  const name = qname.replace(/\.$/, '').toLowerCase();
  const zone = opts.zone.toLowerCase();
  if (inZone(name, zone)) return answerZone(qname, name, zone, qtype, index, opts, depth);
  if (inZone(name, reverseZone)) return answerReverse(qname, name, qtype, index, opts);
  return { rcode: 'NXDOMAIN', authoritative: false, answers: [], authorities: [], additionals: [], zone: '.', forwardable: true };
}

function answerReverse(qname: string, name: string, qtype: QType, index: ClusterIndex, opts: ResolverOptions): Resolution {
  const labels = name.slice(0, -reverseZone.length).replace(/\.$/, '').split('.');
  const ip = labels.length === 4 ? [...labels].reverse().join('.') : '';
  const ptr = isIPv4(ip) ? index.reverse.get(ip) : undefined;
  const base = { authoritative: true, additionals: [], zone: `${reverseZone}.` };
  if (!ptr) return { ...base, rcode: 'NXDOMAIN', answers: [], authorities: [soaRecord(reverseZone, opts)], forwardable: true };
  if (qtype !== 'PTR' && qtype !== 'ANY') return { ...base, rcode: 'NOERROR', answers: [], authorities: [soaRecord(reverseZone, opts)], forwardable: false };
  return { ...base, rcode: 'NOERROR', answers: [{ name: qname, type: 'PTR', class: 'IN', ttl: opts.ttl, data: ptr }], authorities: [], forwardable: false };
}

function answerZone(qname: string, name: string, zone: string, qtype: QType, index: ClusterIndex, opts: ResolverOptions, depth: number): Resolution {
  const res: Resolution = { rcode: 'NOERROR', authoritative: true, answers: [], authorities: [], additionals: [], zone: `${zone}.`, forwardable: false };
  const rr = (type: RecordType, data: unknown, owner = qname): Answer => ({ name: owner, type, class: 'IN', ttl: opts.ttl, data }) as Answer;
  const nodata = (): Resolution => ({ ...res, answers: [], authorities: [soaRecord(zone, opts)] });
  const nxdomain = (): Resolution => ({ ...res, rcode: 'NXDOMAIN', answers: [], authorities: [soaRecord(zone, opts)] });
  const labels = name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.');

  // The apex and the special names under it.
  if (labels.length === 0) {
    if (qtype === 'SOA') return { ...res, answers: [soaRecord(zone, opts)] };
    if (qtype === 'NS') {
      const ns = `ns.dns.${zone}`;
      return { ...res, answers: [rr('NS', ns)], additionals: opts.nameserverIPs.filter(isIPv4).map((ip) => rr('A', ip, ns)) };
    }
    return nodata();
  }
  if (labels.length === 1 && labels[0] === 'dns-version') return qtype === 'TXT' ? { ...res, answers: [rr('TXT', dnsSchemaVersion)] } : nodata();
  if (labels.length === 2 && labels[0] === 'ns' && labels[1] === 'dns') {
    const ips = opts.nameserverIPs.filter((ip) => (qtype === 'A' ? isIPv4(ip) : qtype === 'AAAA' ? isIPv6(ip) : false));
    return ips.length ? { ...res, answers: ips.map((ip) => rr(qtype as RecordType, ip)) } : opts.nameserverIPs.length ? nodata() : nxdomain();
  }

  const found = lookup(labels, zone, index, opts);
  if (!found.exists) return nxdomain();

  // An ExternalName Service is a CNAME whatever was asked.
  const cname = found.records.find((r) => r.isCNAME);
  if (cname) {
    const target = cname.host.toLowerCase();
    if (target === name) return nodata(); // x CNAME x
    res.answers.push(rr('CNAME', cname.host));
    if (qtype === 'CNAME' || depth >= maxCNAMEDepth) return res;
    if (inZone(target, zone)) {
      const next = resolveDepth(cname.host, qtype, index, opts, depth + 1);
      res.answers.push(...next.answers);
      res.additionals.push(...next.additionals);
      if (next.chase) res.chase = next.chase;
    } else res.chase = { name: cname.host, type: qtype };
    return res;
  }

  switch (qtype) {
    case 'A':
    case 'AAAA':
    case 'ANY': {
      const seen = new Set<string>();
      for (const r of found.records) {
        const type = isIPv4(r.host) ? 'A' : isIPv6(r.host) ? 'AAAA' : undefined;
        if (!type || (qtype !== 'ANY' && type !== qtype) || seen.has(r.host)) continue;
        seen.add(r.host);
        res.answers.push(rr(type, r.host));
      }
      break;
    }
    case 'SRV': {
      const withPort = found.records.filter((r) => r.port >= 0);
      const weight = Math.max(1, Math.floor(100 / Math.max(1, withPort.length)));
      const seenSRV = new Set<string>();
      const seenExtra = new Set<string>();
      for (const r of withPort) {
        const key = `${r.target}:${r.port}`;
        if (!seenSRV.has(key)) {
          seenSRV.add(key);
          res.answers.push(rr('SRV', { priority: 0, weight, port: r.port, target: r.target }));
        }
        const extraKey = `${r.target}/${r.host}`;
        if (!seenExtra.has(extraKey)) {
          seenExtra.add(extraKey);
          res.additionals.push(rr(isIPv4(r.host) ? 'A' : 'AAAA', r.host, r.target));
        }
      }
      break;
    }
    default:
      break;
  }
  return res.answers.length ? res : nodata();
}

/** Finds what a name under the zone stands for (CoreDNS's parseRequest + findServices/findPods). */
function lookup(labels: string[], zone: string, index: ClusterIndex, opts: ResolverOptions): Found {
  const kind = labels.at(-1);
  const rest = labels.slice(0, -1);
  if (kind === 'pod') {
    if (opts.podMode === 'disabled') return notFound;
    if (rest.length === 0) return noData;
    const namespace = rest.at(-1)!;
    if (rest.length === 1) return index.namespaces.has(namespace) ? noData : notFound;
    if (rest.length > 2) return notFound;
    return findPod(rest[0]!, namespace, index, opts);
  }
  if (kind !== 'svc') return notFound;
  if (rest.length === 0) return noData;
  const namespace = rest.at(-1)!;
  if (rest.length === 1) return index.namespaces.has(namespace) ? noData : notFound;
  const service = rest.at(-2)!;
  let endpoint = '';
  let port = '';
  let protocol = '';
  if (rest.length === 3) endpoint = rest[0]!;
  else if (rest.length === 4) {
    port = rest[0]!.replace(/^_/, '');
    protocol = rest[1]!.replace(/^_/, '');
  } else if (rest.length > 4) return notFound;
  const svc = index.services.get(serviceKey(namespace, service));
  if (!svc) return notFound;
  const records = serviceRecords(svc, zone, endpoint, port, protocol);
  return records.length ? { exists: true, records } : notFound;
}

function matchPort(qPort: string, qProto: string, name: string, protocol: string): boolean {
  return (qPort === '' || qPort === name.toLowerCase()) && (qProto === '' || qProto === protocol.toLowerCase());
}

function serviceRecords(svc: ServiceEntry, zone: string, endpoint: string, port: string, protocol: string): ServiceRecord[] {
  const svcName = `${svc.name}.${svc.namespace}.svc.${zone}`;
  if (svc.type === 'ExternalName') {
    if (endpoint || port || !svc.externalName || isIPv4(svc.externalName) || isIPv6(svc.externalName)) return [];
    return [{ target: svcName, host: svc.externalName, isCNAME: true, port: -1 }];
  }
  const out: ServiceRecord[] = [];
  if (svc.headless || endpoint) {
    for (const addr of svc.endpoints) {
      const host = endpointHostname(addr).toLowerCase();
      if (endpoint && endpoint !== host) continue;
      for (const p of addr.ports) {
        if (!matchPort(port, protocol, p.name, p.protocol)) continue;
        out.push({ target: `${endpointHostname(addr)}.${svcName}`, host: addr.ip, isCNAME: false, port: p.port });
      }
    }
    return out;
  }
  for (const p of svc.ports) {
    if (!matchPort(port, protocol, p.name, p.protocol)) continue;
    for (const ip of svc.clusterIPs) out.push({ target: svcName, host: ip, isCNAME: false, port: p.port });
  }
  return out;
}

function findPod(podName: string, namespace: string, index: ClusterIndex, opts: ResolverOptions): Found {
  const ip = (podName.match(/-/g) ?? []).length === 3 && !podName.includes('--') ? podName.replace(/-/g, '.') : podName.replace(/-/g, ':');
  if (!isIPv4(ip) && !isIPv6(ip)) return notFound;
  if (opts.podMode === 'insecure') return index.namespaces.has(namespace) || index.podIPs.get(ip)?.has(namespace) ? { exists: true, records: [{ target: '', host: ip, isCNAME: false, port: -1 }] } : notFound;
  return index.podIPs.get(ip)?.has(namespace) ? { exists: true, records: [{ target: `${dashedIP(ip)}.${namespace}.pod.${opts.zone}`, host: ip, isCNAME: false, port: -1 }] } : notFound;
}
