/** cluster-dns metrics, with CoreDNS's names, labels and buckets (plugin/metrics/vars). */
import { prom } from '../metrics/registry.js';

export interface DnsMetrics {
  requests: prom.Counter<'server' | 'zone' | 'view' | 'proto' | 'family' | 'type'>;
  responses: prom.Counter<'server' | 'zone' | 'view' | 'rcode' | 'plugin'>;
  duration: prom.Histogram<'server' | 'zone' | 'view' | 'type'>;
  requestSize: prom.Histogram<'server' | 'zone' | 'view' | 'proto'>;
  responseSize: prom.Histogram<'server' | 'zone' | 'view' | 'proto'>;
}

const sizeBuckets = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];
const timeBuckets = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);

/** Query types CoreDNS labels by name; everything else is `other`. */
const monitoredTypes = new Set(['A', 'AAAA', 'MX', 'SOA', 'CNAME', 'PTR', 'TXT', 'NS', 'SRV', 'DS', 'DNSKEY', 'RRSIG', 'NSEC', 'NSEC3', 'HTTPS', 'IXFR', 'AXFR', 'ANY']);

export function typeLabel(t: string | undefined): string {
  return t && monitoredTypes.has(t) ? t : 'other';
}

export function newDnsMetrics(registry: prom.Registry, version: string): DnsMetrics {
  const registers = [registry];
  const buildInfo = new prom.Gauge({ name: 'coredns_build_info', help: 'A metric with a constant \'1\' value labeled by version, revision, and goversion from which CoreDNS was built.', labelNames: ['version', 'revision', 'goversion'], registers });
  buildInfo.set({ version, revision: 'keelson', goversion: process.version }, 1);
  return {
    requests: new prom.Counter({ name: 'coredns_dns_requests_total', help: 'Counter of DNS requests made per zone, protocol and family.', labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'], registers }),
    responses: new prom.Counter({ name: 'coredns_dns_responses_total', help: 'Counter of response status codes.', labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'], registers }),
    duration: new prom.Histogram({ name: 'coredns_dns_request_duration_seconds', help: 'Histogram of the time (in seconds) each request took per zone.', labelNames: ['server', 'zone', 'view', 'type'], buckets: timeBuckets, registers }),
    requestSize: new prom.Histogram({ name: 'coredns_dns_request_size_bytes', help: 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.', labelNames: ['server', 'zone', 'view', 'proto'], buckets: sizeBuckets, registers }),
    responseSize: new prom.Histogram({ name: 'coredns_dns_response_size_bytes', help: 'Size of the returned response in bytes.', labelNames: ['server', 'zone', 'view', 'proto'], buckets: sizeBuckets, registers }),
  };
}
