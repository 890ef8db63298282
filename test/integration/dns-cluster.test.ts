/**
 * cluster-dns against a real etcd and apiserver: the test writes Namespaces, Services,
 * EndpointSlices and Pods, and asks over UDP and TCP on loopback with dns-packet. A second
 * instance, started as the real binary, forwards outside names to a fake upstream on loopback.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { startEtcd, freePort, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { req } from '../harness/client.js';
import { run } from '../../pkg/dns/run.js';
import { defaultDnsConfig } from '../../pkg/dns/config.js';
import { kubeConfigFromString } from '../../pkg/client/kubeconfig.js';

type Reply = DecodedPacket & { rcode: string };

const here = path.dirname(fileURLToPath(import.meta.url));
const clusterDnsMain = path.resolve(here, '../../cmd/cluster-dns/main.js');

let etcd: EtcdHandle;
let api: ApiserverHandle;
let dnsPort = 0;
let metricsURL = '';
const stopDns = new AbortController();
let dnsDone: Promise<void>;
let child: ChildProcess | undefined;
let upstream: dgram.Socket | undefined;
let clusterIPs: Record<string, string> = {};

function udpQuery(port: number, name: string, type: RecordType | 'ANY', timeoutMs = 2000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const id = Math.floor(Math.random() * 65536);
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no UDP answer for ${name} ${type}`));
    }, timeoutMs);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(dnsPacket.decode(msg) as Reply);
    });
    sock.send(dnsPacket.encode({ id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as RecordType, class: 'IN' }] }), port, '127.0.0.1');
  });
}

function tcpQuery(port: number, name: string, type: RecordType): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no TCP answer for ${name}`));
    }, 2000);
    s.on('connect', () => s.write(dnsPacket.streamEncode({ id: 1, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] })));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        s.destroy();
        resolve(dnsPacket.decode(buf.subarray(2)) as Reply);
      }
    });
    s.on('error', reject);
  });
}

const data = (r: Reply) => (r.answers ?? []).map((a: any) => a.data);

async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function create(p: string, body: unknown): Promise<any> {
  const r = await req(api.url, 'POST', p, body);
  assert.equal(r.status, 201, r.text);
  return r.body;
}

function slice(name: string, svc: string, ports: unknown[], endpoints: unknown[]) {
  return { metadata: { name, labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4', ports, endpoints };
}

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint, { logLevel: 'silent' });
  await create('/api/v1/namespaces', { metadata: { name: 'apps' } });
  await create('/api/v1/namespaces', { metadata: { name: 'kube-system' } }).catch(() => undefined);
  const dnsSvc = await create('/api/v1/namespaces/kube-system/services', { metadata: { name: 'kube-dns' }, spec: { clusterIP: '10.96.0.10', selector: { k8s: 'dns' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] } });
  const web = await create('/api/v1/namespaces/apps/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } });
  await create('/api/v1/namespaces/apps/services', { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] } });
  await create('/api/v1/namespaces/apps/services', { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
  await create('/apis/discovery.k8s.io/v1/namespaces/apps/endpointslices', slice('db-x1', 'db', [{ name: 'pg', port: 5432, protocol: 'TCP' }], [
    { addresses: ['10.244.1.10'], hostname: 'db-0', conditions: { ready: true } },
    { addresses: ['10.244.2.11'], hostname: 'db-1', conditions: { ready: true } },
    { addresses: ['10.244.2.12'], hostname: 'db-2', conditions: { ready: false } },
  ]));
  const pod = await create('/api/v1/namespaces/apps/pods', { metadata: { name: 'web-1' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const st = await req(api.url, 'PUT', '/api/v1/namespaces/apps/pods/web-1/status', { ...pod, status: { phase: 'Running', podIP: '10.244.1.20', podIPs: [{ ip: '10.244.1.20' }] } });
  assert.equal(st.status, 200, st.text);
  clusterIPs = { web: web.spec.clusterIP, dns: dnsSvc.spec.clusterIP };

  let resolveListening!: (a: { dns: { port: number }; metrics?: string }) => void;
  const listening = new Promise<{ dns: { port: number }; metrics?: string }>((r) => (resolveListening = r));
  dnsDone = run(
    {
      ...defaultDnsConfig(),
      kubeConfig: kubeConfigFromString(fs.readFileSync(api.kubeconfig, 'utf8')),
      listen: '127.0.0.1:0',
      metricsBindAddress: '127.0.0.1:0',
      loadBalance: false,
      logLevel: 'silent',
      onListening: (a) => resolveListening(a),
    },
    stopDns.signal,
  );
  const a = await Promise.race([listening, dnsDone.then(() => Promise.reject(new Error('cluster-dns exited')))]);
  dnsPort = a.dns.port;
  metricsURL = a.metrics!;
});

after(async () => {
  stopDns.abort();
  await dnsDone?.catch(() => undefined);
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
  }
  upstream?.close();
  await api?.stop();
  await etcd?.stop();
});

test('A records for ClusterIP services over UDP and TCP, with TTL 5 and the aa flag', async () => {
  const k = await udpQuery(dnsPort, 'kubernetes.default.svc.cluster.local', 'A');
  assert.equal(k.rcode, 'NOERROR');
  assert.ok(k.flag_aa);
  assert.deepEqual(data(k), ['10.96.0.1']);
  assert.equal((k.answers![0] as any).ttl, 5);
  assert.deepEqual(data(await udpQuery(dnsPort, 'web.apps.svc.cluster.local', 'A')), [clusterIPs.web]);
  const overTCP = await tcpQuery(dnsPort, 'web.apps.svc.cluster.local', 'A');
  assert.deepEqual(data(overTCP), [clusterIPs.web]);
  assert.deepEqual(data(await tcpQuery(dnsPort, 'kube-dns.kube-system.svc.cluster.local', 'A')), ['10.96.0.10']);
});

test('SRV for a named port, with the target address in the additional section', async () => {
  const r = await udpQuery(dnsPort, '_http._tcp.web.apps.svc.cluster.local', 'SRV');
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(data(r), [{ priority: 0, weight: 100, port: 80, target: 'web.apps.svc.cluster.local' }]);
  assert.deepEqual((r.additionals ?? []).map((a: any) => `${a.name} ${a.data}`), [`web.apps.svc.cluster.local ${clusterIPs.web}`]);
  const headless = await tcpQuery(dnsPort, '_pg._tcp.db.apps.svc.cluster.local', 'SRV');
  assert.deepEqual(data(headless).map((s: any) => `${s.weight} ${s.port} ${s.target}`).sort(), ['50 5432 db-0.db.apps.svc.cluster.local', '50 5432 db-1.db.apps.svc.cluster.local']);
});

test('headless services: ready endpoint IPs, and per-hostname records', async () => {
  assert.deepEqual(data(await udpQuery(dnsPort, 'db.apps.svc.cluster.local', 'A')).sort(), ['10.244.1.10', '10.244.2.11']);
  assert.deepEqual(data(await udpQuery(dnsPort, 'db-1.db.apps.svc.cluster.local', 'A')), ['10.244.2.11']);
  assert.equal((await udpQuery(dnsPort, 'db-2.db.apps.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
});

test('ExternalName answers a CNAME', async () => {
  const r = await udpQuery(dnsPort, 'ext.apps.svc.cluster.local', 'CNAME');
  assert.deepEqual(data(r), ['example.com']);
  const a = await udpQuery(dnsPort, 'ext.apps.svc.cluster.local', 'A');
  assert.equal(a.rcode, 'NOERROR');
  assert.deepEqual((a.answers ?? []).map((x: any) => `${x.type} ${x.data}`), ['CNAME example.com']);
});

test('pod A records and PTR records for cluster IPs, endpoints and pods', async () => {
  assert.deepEqual(data(await udpQuery(dnsPort, '10-244-1-20.apps.pod.cluster.local', 'A')), ['10.244.1.20']);
  assert.equal((await udpQuery(dnsPort, '10-244-1-21.apps.pod.cluster.local', 'A')).rcode, 'NXDOMAIN');
  const rev = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  assert.deepEqual(data(await udpQuery(dnsPort, rev(clusterIPs.web!), 'PTR')), ['web.apps.svc.cluster.local']);
  assert.deepEqual(data(await udpQuery(dnsPort, rev('10.96.0.1'), 'PTR')), ['kubernetes.default.svc.cluster.local']);
  assert.deepEqual(data(await tcpQuery(dnsPort, rev('10.244.1.10'), 'PTR')), ['db-0.db.apps.svc.cluster.local']);
  assert.deepEqual(data(await udpQuery(dnsPort, rev('10.244.1.20'), 'PTR')), ['10-244-1-20.apps.pod.cluster.local']);
  assert.equal((await udpQuery(dnsPort, rev('10.244.9.9'), 'PTR')).rcode, 'NXDOMAIN');
});

test('unknown names in the zone: NXDOMAIN with the SOA in the authority section', async () => {
  const r = await udpQuery(dnsPort, 'nope.apps.svc.cluster.local', 'A');
  assert.equal(r.rcode, 'NXDOMAIN');
  assert.ok(r.flag_aa);
  const soa = (r.authorities ?? [])[0] as any;
  assert.equal(soa.type, 'SOA');
  assert.equal(soa.name, 'cluster.local');
  assert.equal(soa.data.mname, 'ns.dns.cluster.local');
  assert.equal(soa.data.rname, 'hostmaster.cluster.local');
  // Search-path candidates a pod's resolver tries first are NXDOMAIN too.
  assert.equal((await udpQuery(dnsPort, 'kubernetes.default.svc.cluster.local.apps.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
  assert.equal((await udpQuery(dnsPort, 'web.nonexistent.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
  const nodata = await udpQuery(dnsPort, 'web.apps.svc.cluster.local', 'AAAA');
  assert.equal(nodata.rcode, 'NOERROR');
  assert.equal((nodata.answers ?? []).length, 0);
  assert.equal(((nodata.authorities ?? [])[0] as any).type, 'SOA');
});

test('names outside the cluster domain get NXDOMAIN at once (no upstream configured)', async () => {
  const t0 = Date.now();
  const r = await udpQuery(dnsPort, 'example.com', 'A', 1000);
  assert.equal(r.rcode, 'NXDOMAIN');
  assert.ok(!r.flag_aa);
  const tcp = await tcpQuery(dnsPort, 'www.example.org', 'AAAA');
  assert.equal(tcp.rcode, 'NXDOMAIN');
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0}ms`);
});

test('changes show up: a new service, endpoints turning not-ready, a deleted service', async () => {
  const svc = await create('/api/v1/namespaces/apps/services', { metadata: { name: 'late' }, spec: { selector: { app: 'late' }, ports: [{ port: 80 }] } });
  await eventually('late appears', () => udpQuery(dnsPort, 'late.apps.svc.cluster.local', 'A'), (r) => data(r)[0] === svc.spec.clusterIP);
  const cur = await req(api.url, 'GET', '/apis/discovery.k8s.io/v1/namespaces/apps/endpointslices/db-x1');
  const upd = await req(api.url, 'PUT', '/apis/discovery.k8s.io/v1/namespaces/apps/endpointslices/db-x1', {
    ...cur.body,
    endpoints: cur.body.endpoints.map((e: any) => ({ ...e, conditions: { ready: e.hostname === 'db-0' } })),
  });
  assert.equal(upd.status, 200, upd.text);
  await eventually('db shrinks', () => udpQuery(dnsPort, 'db.apps.svc.cluster.local', 'A'), (r) => JSON.stringify(data(r)) === '["10.244.1.10"]');
  const del = await req(api.url, 'DELETE', '/api/v1/namespaces/apps/services/late');
  assert.equal(del.status, 200, del.text);
  await eventually('late gone', () => udpQuery(dnsPort, 'late.apps.svc.cluster.local', 'A'), (r) => r.rcode === 'NXDOMAIN');
});

test('metrics and health endpoints with CoreDNS names', async () => {
  const m = await (await fetch(`${metricsURL}/metrics`)).text();
  assert.match(m, /^coredns_dns_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="cluster\.local\.",view="",proto="udp",family="1",type="A"\} \d+/m);
  assert.match(m, /^coredns_dns_requests_total\{.*proto="tcp".*\} \d+/m);
  assert.match(m, /^coredns_dns_responses_total\{.*rcode="NXDOMAIN",plugin="kubernetes"\} \d+/m);
  assert.match(m, /^coredns_dns_request_duration_seconds_bucket\{le="0\.00025",/m);
  assert.equal(await (await fetch(`${metricsURL}/health`)).text(), 'OK');
  const ready = await fetch(`${metricsURL}/ready`);
  assert.equal(ready.status, 200);
  assert.equal((await fetch(`${metricsURL}/healthz`)).status, 200);
});

test('the binary with --upstream forwards outside names and completes ExternalName CNAMEs', async () => {
  // A fake upstream on loopback: every A question gets 192.0.2.1.
  upstream = dgram.createSocket('udp4');
  upstream.on('message', (msg, rinfo) => {
    const qp = dnsPacket.decode(msg);
    const question = qp.questions![0]!;
    const answers = question.type === 'A' ? [{ name: question.name, type: 'A' as const, class: 'IN' as const, ttl: 60, data: '192.0.2.1' }] : [];
    upstream!.send(dnsPacket.encode({ id: qp.id, type: 'response', flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED, questions: qp.questions, answers }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => upstream!.bind(0, '127.0.0.1', () => r()));
  const upPort = upstream.address().port;
  const port = await freePort();
  child = spawn(process.execPath, [clusterDnsMain, `--kubeconfig=${api.kubeconfig}`, `--listen=127.0.0.1:${port}`, '--metrics-bind-address=127.0.0.1:0', `--upstream=127.0.0.1:${upPort}`, '--log-level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const fwd = await eventually('forwarded answer', () => udpQuery(port, 'example.com', 'A', 500).catch((e: Error) => ({ rcode: `error ${e.message} ${stderr}` }) as Reply), (r) => r.rcode === 'NOERROR', 20_000);
  assert.deepEqual(data(fwd), ['192.0.2.1']);
  assert.ok(fwd.flag_ra);
  const ext = await udpQuery(port, 'ext.apps.svc.cluster.local', 'A');
  assert.deepEqual((ext.answers ?? []).map((x: any) => `${x.type} ${x.name} ${x.data}`), ['CNAME ext.apps.svc.cluster.local example.com', 'A example.com 192.0.2.1']);
  assert.deepEqual(data(await tcpQuery(port, 'web.apps.svc.cluster.local', 'A')), [clusterIPs.web]);
  child.kill('SIGTERM');
  assert.equal(await new Promise((r) => child!.once('exit', (c) => r(c))), 0);
});
