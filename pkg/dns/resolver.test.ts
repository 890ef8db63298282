import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';
import { pino } from 'pino';
import type { EndpointSlice, Namespace, Pod, Service } from '../api/types.js';
import { newMetricsRegistry } from '../metrics/registry.js';
import { Forwarder } from './forwarder.js';
import { buildResponse, encodeResponse } from './message.js';
import { newDnsMetrics } from './metrics.js';
import { buildIndex } from './records.js';
import { resolve, type PodMode, type QType, type Resolution, type ResolverOptions } from './resolver.js';
import { DnsServer } from './server.js';

const zone = 'cluster.local';

const svc = (ns: string, name: string, spec: Record<string, any>): Service => ({ metadata: { namespace: ns, name }, spec }) as Service;
const slice = (ns: string, svcName: string, name: string, ports: { name?: string; port: number; protocol?: string }[] | undefined, eps: { ip: string; hostname?: string; ready?: boolean }[]): EndpointSlice =>
  ({
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svcName } },
    addressType: 'IPv4',
    ports,
    endpoints: eps.map((e) => ({ addresses: [e.ip], hostname: e.hostname, conditions: { ready: e.ready ?? true } })),
  }) as EndpointSlice;
const ns = (name: string): Namespace => ({ metadata: { name } }) as Namespace;
const pod = (namespace: string, name: string, ip: string, phase = 'Running'): Pod => ({ metadata: { namespace, name }, spec: { containers: [] }, status: { phase, podIP: ip, podIPs: [{ ip }] } }) as Pod;

const index = buildIndex({
  zone,
  namespaces: [ns('default'), ns('kube-system'), ns('apps'), ns('empty')],
  services: [
    svc('default', 'kubernetes', { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
    svc('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
    svc('apps', 'web', { clusterIP: '10.96.1.5', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 81 }] }),
    svc('apps', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
    svc('apps', 'lonely', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] }),
    svc('apps', 'ext', { type: 'ExternalName', externalName: 'example.com' }),
    svc('apps', 'alias', { type: 'ExternalName', externalName: 'web.apps.svc.cluster.local' }),
    svc('apps', 'dual', { clusterIP: '10.96.1.6', clusterIPs: ['10.96.1.6', 'fd00::6'], ports: [{ port: 80 }] }),
  ],
  endpointSlices: [
    slice('apps', 'db', 'db-1', [{ name: 'pg', port: 5432, protocol: 'TCP' }], [{ ip: '10.244.1.10', hostname: 'db-0' }, { ip: '10.244.2.11', hostname: 'db-1' }, { ip: '10.244.2.12', ready: false }]),
    slice('apps', 'db', 'db-2', [{ name: 'pg', port: 5432, protocol: 'TCP' }], [{ ip: '10.244.3.13' }]),
    slice('apps', 'web', 'web-1', [{ name: 'http', port: 8080, protocol: 'TCP' }], [{ ip: '10.244.1.20' }]),
    slice('apps', 'lonely', 'lonely-1', [{ name: 'x', port: 1 }], [{ ip: '10.244.1.30', ready: false }]),
  ],
  pods: [pod('apps', 'web-abc', '10.244.1.20'), pod('apps', 'other', '10.244.1.40'), pod('apps', 'done', '10.244.1.41', 'Succeeded')],
});

const opts = (over: Partial<ResolverOptions> = {}): ResolverOptions => ({ zone, ttl: 5, podMode: 'verified', serial: 1700000000, nameserverIPs: ['10.96.0.10'], ...over });
const q = (name: string, type: QType, over: Partial<ResolverOptions> = {}): Resolution => resolve(name, type, index, opts(over));
const data = (r: Resolution) => r.answers.map((a) => (a as any).data);

function assertSOA(r: Resolution, zoneName = zone) {
  assert.equal(r.authorities.length, 1);
  const soa = r.authorities[0] as any;
  assert.equal(soa.type, 'SOA');
  assert.equal(soa.name, zoneName);
  assert.equal(soa.ttl, 5);
  assert.deepEqual(soa.data, { mname: `ns.dns.${zoneName}`, rname: `hostmaster.${zoneName}`, serial: 1700000000, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 });
}

test('ClusterIP services: A with TTL 5, case-insensitive, trailing dot optional', () => {
  const r = q('kubernetes.default.svc.cluster.local', 'A');
  assert.equal(r.rcode, 'NOERROR');
  assert.ok(r.authoritative);
  assert.deepEqual(r.answers, [{ name: 'kubernetes.default.svc.cluster.local', type: 'A', class: 'IN', ttl: 5, data: '10.96.0.1' }]);
  assert.deepEqual(data(q('Web.APPS.svc.Cluster.Local.', 'A')), ['10.96.1.5']);
  assert.equal(q('Web.APPS.svc.Cluster.Local.', 'A').answers[0]!.name, 'Web.APPS.svc.Cluster.Local.', 'the owner name is the question as asked');
  assert.equal(r.zone, 'cluster.local.');
});

test('a name that exists without records of the type is NODATA with the SOA; a missing one NXDOMAIN with the SOA', () => {
  const aaaa = q('web.apps.svc.cluster.local', 'AAAA');
  assert.equal(aaaa.rcode, 'NOERROR');
  assert.deepEqual(aaaa.answers, []);
  assertSOA(aaaa);
  const txt = q('web.apps.svc.cluster.local', 'TXT');
  assert.equal(txt.rcode, 'NOERROR');
  assert.deepEqual(txt.answers, []);
  for (const name of ['nope.apps.svc.cluster.local', 'web.nope.svc.cluster.local', 'nope.svc.cluster.local', 'foo.cluster.local', 'a.b.web.apps.svc.cluster.local', 'x.y.z.web.apps.svc.cluster.local']) {
    const r = q(name, 'A');
    assert.equal(r.rcode, 'NXDOMAIN', name);
    assert.ok(r.authoritative);
    assertSOA(r);
  }
  // Existing namespaces, the svc and pod subtrees and the apex exist without addresses.
  for (const name of ['apps.svc.cluster.local', 'empty.svc.cluster.local', 'svc.cluster.local', 'pod.cluster.local', 'apps.pod.cluster.local', 'cluster.local']) {
    const r = q(name, 'A');
    assert.equal(r.rcode, 'NOERROR', name);
    assert.deepEqual(r.answers, []);
  }
});

test('dual-stack services answer AAAA from their IPv6 cluster IP', () => {
  assert.deepEqual(data(q('dual.apps.svc.cluster.local', 'AAAA')), ['fd00::6']);
  assert.deepEqual(data(q('dual.apps.svc.cluster.local', 'A')), ['10.96.1.6']);
});

test('headless services: the ready endpoint IPs; each endpoint by hostname or dashed IP', () => {
  assert.deepEqual(data(q('db.apps.svc.cluster.local', 'A')).sort(), ['10.244.1.10', '10.244.2.11', '10.244.3.13']);
  assert.deepEqual(data(q('db-0.db.apps.svc.cluster.local', 'A')), ['10.244.1.10']);
  assert.deepEqual(data(q('10-244-3-13.db.apps.svc.cluster.local', 'A')), ['10.244.3.13']);
  assert.equal(q('10-244-2-12.db.apps.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'a not-ready endpoint has no name');
  assert.equal(q('lonely.apps.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'a headless service without ready endpoints');
  // Endpoint names work under ClusterIP services too (CoreDNS does the same).
  assert.deepEqual(data(q('10-244-1-20.web.apps.svc.cluster.local', 'A')), ['10.244.1.20']);
});

test('SRV: named ports of a ClusterIP service point at the service name, with its address as additional', () => {
  const r = q('_https._tcp.kubernetes.default.svc.cluster.local', 'SRV');
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(data(r), [{ priority: 0, weight: 100, port: 443, target: 'kubernetes.default.svc.cluster.local' }]);
  assert.deepEqual(r.additionals, [{ name: 'kubernetes.default.svc.cluster.local', type: 'A', class: 'IN', ttl: 5, data: '10.96.0.1' }]);
  assert.deepEqual(data(q('_dns._udp.kube-dns.kube-system.svc.cluster.local', 'SRV')), [{ priority: 0, weight: 100, port: 53, target: 'kube-dns.kube-system.svc.cluster.local' }]);
  assert.equal(q('_dns._tcp.kube-dns.kube-system.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN', 'dns is UDP');
  assert.equal(q('_nope._tcp.web.apps.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN');
  // Without a port label every port is listed.
  assert.deepEqual(data(q('web.apps.svc.cluster.local', 'SRV')).map((s: any) => s.port).sort(), [80, 81]);
});

test('SRV for headless services: one record per endpoint with the weight split, targets resolvable', () => {
  const r = q('_pg._tcp.db.apps.svc.cluster.local', 'SRV');
  assert.deepEqual(
    data(r).sort((a: any, b: any) => (a.target < b.target ? -1 : 1)),
    [
      { priority: 0, weight: 33, port: 5432, target: '10-244-3-13.db.apps.svc.cluster.local' },
      { priority: 0, weight: 33, port: 5432, target: 'db-0.db.apps.svc.cluster.local' },
      { priority: 0, weight: 33, port: 5432, target: 'db-1.db.apps.svc.cluster.local' },
    ],
  );
  assert.deepEqual(r.additionals.map((a: any) => `${a.name} ${a.data}`).sort(), ['10-244-3-13.db.apps.svc.cluster.local 10.244.3.13', 'db-0.db.apps.svc.cluster.local 10.244.1.10', 'db-1.db.apps.svc.cluster.local 10.244.2.11']);
});

test('ExternalName: a CNAME for every type; targets in the zone are followed, others handed to the caller', () => {
  const a = q('ext.apps.svc.cluster.local', 'A');
  assert.equal(a.rcode, 'NOERROR');
  assert.deepEqual(a.answers, [{ name: 'ext.apps.svc.cluster.local', type: 'CNAME', class: 'IN', ttl: 5, data: 'example.com' }]);
  assert.deepEqual(a.chase, { name: 'example.com', type: 'A' });
  assert.deepEqual(data(q('ext.apps.svc.cluster.local', 'CNAME')), ['example.com']);
  assert.equal(q('ext.apps.svc.cluster.local', 'CNAME').chase, undefined);
  const alias = q('alias.apps.svc.cluster.local', 'A');
  assert.deepEqual(alias.answers.map((x: any) => `${x.type} ${x.name} ${x.data}`), ['CNAME alias.apps.svc.cluster.local web.apps.svc.cluster.local', 'A web.apps.svc.cluster.local 10.96.1.5']);
  assert.equal(alias.chase, undefined);
});

test('pod records: verified needs a pod with that IP in that namespace; insecure answers any IP; disabled none', () => {
  assert.deepEqual(data(q('10-244-1-20.apps.pod.cluster.local', 'A')), ['10.244.1.20']);
  assert.equal(q('10-244-1-20.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
  assert.equal(q('10-244-1-41.apps.pod.cluster.local', 'A').rcode, 'NXDOMAIN', 'a finished pod');
  assert.equal(q('10-244-9-9.apps.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
  assert.equal(q('not-an-ip.apps.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
  const insecure: Partial<ResolverOptions> = { podMode: 'insecure' as PodMode };
  assert.deepEqual(data(q('10-244-9-9.apps.pod.cluster.local', 'A', insecure)), ['10.244.9.9']);
  assert.equal(q('10-244-9-9.nope.pod.cluster.local', 'A', insecure).rcode, 'NXDOMAIN');
  assert.equal(q('10-244-1-20.apps.pod.cluster.local', 'A', { podMode: 'disabled' }).rcode, 'NXDOMAIN');
});

test('PTR: cluster IPs name their service, endpoints their hostname under the service, pods their dashed name', () => {
  const ptr = (ip: string) => q(`${ip.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR');
  assert.deepEqual(data(ptr('10.96.0.1')), ['kubernetes.default.svc.cluster.local']);
  assert.deepEqual(data(ptr('10.244.1.10')), ['db-0.db.apps.svc.cluster.local']);
  assert.deepEqual(data(ptr('10.244.3.13')), ['10-244-3-13.db.apps.svc.cluster.local']);
  assert.deepEqual(data(ptr('10.244.1.40')), ['10-244-1-40.apps.pod.cluster.local']);
  assert.equal(ptr('10.96.0.1').zone, 'in-addr.arpa.');
  const unknown = ptr('192.0.2.1');
  assert.equal(unknown.rcode, 'NXDOMAIN');
  assert.ok(unknown.forwardable);
  assertSOA(unknown, 'in-addr.arpa');
  assert.equal(q('1.0.96.10.in-addr.arpa', 'A').rcode, 'NOERROR');
  assert.deepEqual(q('1.0.96.10.in-addr.arpa', 'A').answers, []);
});

test('the apex: SOA, NS (ns.dns.<zone> with the DNS service IP), dns-version', () => {
  const soa = q('cluster.local', 'SOA');
  assert.equal(soa.answers[0]!.type, 'SOA');
  const nsr = q('cluster.local', 'NS');
  assert.deepEqual(data(nsr), ['ns.dns.cluster.local']);
  assert.deepEqual(nsr.additionals.map((a: any) => `${a.name} ${a.data}`), ['ns.dns.cluster.local 10.96.0.10']);
  assert.deepEqual(data(q('ns.dns.cluster.local', 'A')), ['10.96.0.10']);
  assert.deepEqual(data(q('dns-version.cluster.local', 'TXT')), ['1.1.0']);
});

test('names outside the cluster domain: NXDOMAIN, not authoritative, forwardable', () => {
  const r = q('example.com', 'A');
  assert.equal(r.rcode, 'NXDOMAIN');
  assert.equal(r.authoritative, false);
  assert.ok(r.forwardable);
  assert.equal(r.zone, '.');
  assert.equal(q('cluster.local.example.com', 'A').rcode, 'NXDOMAIN');
  assert.equal(q('notcluster.local', 'A').zone, '.');
});

test('a custom cluster domain', () => {
  const custom = buildIndex({ zone: 'k8s.example', namespaces: [ns('x')], services: [svc('x', 'a', { clusterIP: '10.96.5.5', ports: [{ port: 1 }] })], endpointSlices: [], pods: [] });
  assert.deepEqual(data(resolve('a.x.svc.k8s.example', 'A', custom, opts({ zone: 'k8s.example' }))), ['10.96.5.5']);
  assert.equal(resolve('a.x.svc.cluster.local', 'A', custom, opts({ zone: 'k8s.example' })).zone, '.');
});

test('responses: flags, EDNS and truncation to the UDP size', () => {
  const query = dnsPacket.decode(dnsPacket.encode({ id: 4242, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'db.apps.svc.cluster.local', type: 'A', class: 'IN' }] })) as DecodedPacket;
  const r = dnsPacket.decode(encodeResponse(buildResponse(query, { rcode: 'NXDOMAIN', authoritative: true }), 512)) as DecodedPacket & { rcode: string };
  assert.equal(r.id, 4242);
  assert.ok(r.flag_qr && r.flag_aa && r.flag_rd && !r.flag_ra && !r.flag_tc);
  assert.equal(r.rcode, 'NXDOMAIN');
  const many = Array.from({ length: 60 }, (_, i) => ({ name: 'db.apps.svc.cluster.local', type: 'A' as const, class: 'IN' as const, ttl: 5, data: `10.244.0.${i}` }));
  const udp = dnsPacket.decode(encodeResponse(buildResponse(query, { rcode: 'NOERROR', answers: many }), 512)) as DecodedPacket;
  assert.ok(udp.flag_tc);
  assert.equal(udp.answers!.length, 0);
  const tcp = dnsPacket.decode(encodeResponse(buildResponse(query, { rcode: 'NOERROR', answers: many }))) as DecodedPacket;
  assert.ok(!tcp.flag_tc);
  assert.equal(tcp.answers!.length, 60);
  // With EDNS the client's larger buffer is used and an OPT comes back.
  const edns = dnsPacket.decode(
    dnsPacket.encode({ id: 1, type: 'query', flags: 0, questions: [{ name: 'db.apps.svc.cluster.local', type: 'A', class: 'IN' }], additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as any] }),
  ) as DecodedPacket;
  const big = dnsPacket.decode(encodeResponse(buildResponse(edns, { rcode: 'NOERROR', answers: many }), 4096)) as DecodedPacket;
  assert.ok(!big.flag_tc);
  assert.equal(big.answers!.length, 60);
  assert.ok(big.additionals!.some((a) => a.type === 'OPT'));
});

test('the server: answers, FORMERR for garbage, NOTIMP for other opcodes, shuffled addresses, metrics', async () => {
  const registry = newMetricsRegistry('t');
  const metrics = newDnsMetrics(registry, 'test');
  let n = 0;
  const server = new DnsServer({ index: () => index, options: () => opts(), forwarder: new Forwarder([]), metrics, logger: pino({ level: 'silent' }), loadBalance: true, random: () => [0, 0.99, 0.5][n++ % 3]! });
  const ask = async (name: string, type: QType, extra: Record<string, unknown> = {}) =>
    dnsPacket.decode((await server.handle(dnsPacket.encode({ id: 7, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as any, class: 'IN' }], ...extra }), 'udp', 1))!) as DecodedPacket & { rcode: string };
  const a = await ask('db.apps.svc.cluster.local', 'A');
  assert.equal(a.rcode, 'NOERROR');
  assert.ok(a.flag_aa && !a.flag_ra);
  assert.deepEqual(a.answers!.map((x: any) => x.data).sort(), ['10.244.1.10', '10.244.2.11', '10.244.3.13']);
  assert.notDeepEqual(a.answers!.map((x: any) => x.data), ['10.244.1.10', '10.244.2.11', '10.244.3.13'], 'shuffled');
  assert.equal((await ask('nope.apps.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
  assert.equal((await ask('example.org', 'A')).rcode, 'NXDOMAIN');
  const garbage = await server.handle(Buffer.from('0123456789abcdefgh'), 'udp', 1);
  assert.equal(garbage!.readUInt16BE(2) & 0xf, 1, 'FORMERR');
  assert.equal(await server.handle(Buffer.from([1, 2]), 'udp', 1), undefined);
  const notify = await ask('cluster.local', 'SOA', { flags: 4 << 11 });
  assert.equal(notify.rcode, 'NOTIMP');
  const text = await registry.metrics();
  assert.match(text, /coredns_dns_requests_total\{server="dns:\/\/:53",zone="cluster.local.",view="",proto="udp",family="1",type="A"\} 2/);
  assert.match(text, /coredns_dns_responses_total\{server="dns:\/\/:53",zone="cluster.local.",view="",rcode="NXDOMAIN",plugin="kubernetes"\} 1/);
  assert.match(text, /coredns_dns_responses_total\{server="dns:\/\/:53",zone=".",view="",rcode="NXDOMAIN",plugin=""\} 1/);
  assert.match(text, /coredns_dns_request_duration_seconds_count\{server="dns:\/\/:53",zone="cluster.local.",view="",type="A"\} 2/);
  assert.match(text, /coredns_build_info\{version="test"/);
});
