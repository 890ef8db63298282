/**
 * kube-proxy against a real etcd and apiserver, programming real iptables inside a private
 * network namespace ("the node"). A second namespace ("the pods") holds two TCP servers on
 * 10.244.1.2 and 10.244.1.3, linked to the node by a veth pair. The test writes Services and
 * EndpointSlices itself (no endpointslice controller) and connects from inside the node.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, writeKubeconfig, type ApiserverHandle } from '../harness/apiserver.js';
import { req } from '../harness/client.js';
import {
  addRoute,
  bridgeLoopbackPort,
  cleanupNetns,
  connectVeth,
  createNetns,
  httpGetIn,
  netnsSupported,
  startEchoServer,
  tcpProbe,
  type Netns,
} from '../harness/netns.js';

const skip = netnsSupported();
const here = path.dirname(fileURLToPath(import.meta.url));
const kubeProxyMain = path.resolve(here, '../../cmd/kube-proxy/main.js');
const apiPortInNode = 6443;
const metricsPort = 10249;

let etcd: EtcdHandle | undefined;
let api: ApiserverHandle | undefined;
let node: Netns;
let pods: Netns;
let proxy: ChildProcess | undefined;
let kubeconfig: string;
let clusterIP = '';
let nodePort = 0;
let nodeIf = '';

const slicePath = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';

function slice(name: string, svc: string, eps: { ip: string; ready: boolean }[], ports = [{ name: 'http', port: 8080, protocol: 'TCP' }]) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports,
    endpoints: eps.map((e) => ({ addresses: [e.ip], nodeName: 'node-a', conditions: { ready: e.ready, serving: e.ready, terminating: false } })),
  };
}

async function putSlice(body: ReturnType<typeof slice>): Promise<void> {
  const cur = await req(api!.url, 'GET', `${slicePath}/${body.metadata.name}`);
  const r =
    cur.status === 404
      ? await req(api!.url, 'POST', slicePath, body)
      : await req(api!.url, 'PUT', `${slicePath}/${body.metadata.name}`, { ...body, metadata: { ...body.metadata, resourceVersion: cur.body.metadata.resourceVersion } });
  assert.ok(r.status === 200 || r.status === 201, r.text);
}

async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const iptablesSave = () => node.exec('iptables-save', []);

function startKubeProxy(extra: string[] = []): ChildProcess {
  return node.spawn(process.execPath, [
    kubeProxyMain,
    `--kubeconfig=${kubeconfig}`,
    '--hostname-override=node-a',
    '--cluster-cidr=10.244.0.0/16',
    '--proxy-mode=iptables',
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    '--healthz-bind-address=127.0.0.1:10256',
    '--iptables-min-sync-period=100ms',
    '--log-level=warn',
    ...extra,
  ]);
}

before(async () => {
  if (skip) return;
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint, { logLevel: 'silent' });
  node = await createNetns('kpn');
  pods = await createNetns('kpp');
  const { aIf } = await connectVeth(node, ['10.244.1.1/24'], pods, ['10.244.1.2/24', '10.244.1.3/24']);
  // Cluster IPs need a route for the first routing decision; DNAT then picks the real next hop.
  nodeIf = aIf;
  await addRoute(node, '10.96.0.0/12', 'dev', aIf);
  await startEchoServer(pods, '10.244.1.2', 8080, 'pod-a');
  await startEchoServer(pods, '10.244.1.3', 8080, 'pod-b');
  await bridgeLoopbackPort(node, Number(new URL(api.url).port), apiPortInNode);
  kubeconfig = writeKubeconfig(`http://127.0.0.1:${apiPortInNode}`);
  // Somebody else's rules in the node: kube-proxy must leave them alone.
  await node.exec('iptables', ['-t', 'nat', '-N', 'OTHER-CHAIN']);
  await node.exec('iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-j', 'OTHER-CHAIN']);
  await node.exec('iptables', ['-t', 'filter', '-A', 'INPUT', '-p', 'tcp', '--dport', '9', '-j', 'ACCEPT']);

  const s = await req(api.url, 'POST', '/api/v1/namespaces/default/services', {
    metadata: { name: 'web' },
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
  });
  assert.equal(s.status, 201, s.text);
  clusterIP = s.body.spec.clusterIP;
  nodePort = s.body.spec.ports[0].nodePort;
  await putSlice(slice('web-abc', 'web', [{ ip: '10.244.1.2', ready: true }, { ip: '10.244.1.3', ready: true }]));
  proxy = startKubeProxy();
  proxy.stderr?.on('data', (d: Buffer) => process.stderr.write(`[kube-proxy] ${d}`));
});

after(async () => {
  if (skip) return;
  if (proxy && proxy.exitCode === null) proxy.kill('SIGKILL');
  await cleanupNetns();
  await api?.stop();
  await etcd?.stop();
});

test('a connection to the ClusterIP from the node reaches the backends, spread over both', { skip }, async () => {
  await eventually('ClusterIP answers', () => tcpProbe(node, clusterIP, 80), (r) => r[0] === 'pod-a' || r[0] === 'pod-b', 20_000);
  const answers = await tcpProbe(node, clusterIP, 80, 24);
  assert.deepEqual(new Set(answers), new Set(['pod-a', 'pod-b']), answers.join(','));
  const saved = await iptablesSave();
  assert.match(saved, /-A KUBE-SVC-\w+ .*--probability 0\.50000000000 -j KUBE-SEP-\w+/);
  assert.match(saved, /-A KUBE-SEP-\w+ -s 10\.244\.1\.2\/32 -m comment --comment "default\/web:http" -j KUBE-MARK-MASQ/);
  assert.match(saved, /-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES/);
});

test('the NodePort answers on the node address and on 127.0.0.1 (route_localnet)', { skip }, async () => {
  const viaNodeIP = await tcpProbe(node, '10.244.1.1', nodePort, 4);
  assert.ok(viaNodeIP.every((a) => a === 'pod-a' || a === 'pod-b'), viaNodeIP.join(','));
  const viaLoopback = await tcpProbe(node, '127.0.0.1', nodePort, 4);
  assert.ok(viaLoopback.every((a) => a === 'pod-a' || a === 'pod-b'), viaLoopback.join(','));
  assert.equal((await node.exec('cat', ['/proc/sys/net/ipv4/conf/all/route_localnet'])).trim(), '1');
});

test('sessionAffinity ClientIP pins the client to one backend', { skip }, async () => {
  const r = await req(api!.url, 'PATCH', '/api/v1/namespaces/default/services/web', { spec: { sessionAffinity: 'ClientIP' } }, { 'Content-Type': 'application/merge-patch+json' });
  assert.equal(r.status, 200, r.text);
  await eventually('affinity rules', iptablesSave, (s) => s.includes('--rcheck --seconds 10800 --reap'));
  const answers = await tcpProbe(node, clusterIP, 80, 12);
  assert.equal(new Set(answers).size, 1, answers.join(','));
  const back = await req(api!.url, 'PATCH', '/api/v1/namespaces/default/services/web', { spec: { sessionAffinity: 'None' } }, { 'Content-Type': 'application/merge-patch+json' });
  assert.equal(back.status, 200, back.text);
  await eventually('affinity rules gone', iptablesSave, (s) => !s.includes('--rcheck'));
});

test('with no ready endpoints connections are refused at once, not hung; back when ready again', { skip }, async () => {
  await putSlice(slice('web-abc', 'web', [{ ip: '10.244.1.2', ready: false }, { ip: '10.244.1.3', ready: false }]));
  await eventually('REJECT rule', iptablesSave, (s) => s.includes('"default/web:http has no endpoints"'));
  const t0 = Date.now();
  assert.deepEqual(await tcpProbe(node, clusterIP, 80, 1, 5000), ['error:ECONNREFUSED']);
  assert.deepEqual(await tcpProbe(node, '10.244.1.1', nodePort, 1, 5000), ['error:ECONNREFUSED']);
  assert.ok(Date.now() - t0 < 4000, `refusals took ${Date.now() - t0}ms`);
  const saved = await iptablesSave();
  assert.ok(!/^-A KUBE-SEP-.*default\/web/m.test(saved), 'no endpoint chains left');
  await putSlice(slice('web-abc', 'web', [{ ip: '10.244.1.3', ready: true }]));
  const back = await eventually('ClusterIP answers again', () => tcpProbe(node, clusterIP, 80), (r) => r[0] === 'pod-b');
  assert.deepEqual(back, ['pod-b']);
});

test('every rule shape is accepted by the kernel: UDP, external IPs, LoadBalancer with source ranges, Local policies', { skip }, async () => {
  const create = async (name: string, spec: Record<string, unknown>) => {
    const r = await req(api!.url, 'POST', '/api/v1/namespaces/default/services', { metadata: { name }, spec: { selector: { app: name }, ...spec } });
    assert.equal(r.status, 201, r.text);
  };
  await create('dns', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }], sessionAffinity: 'ClientIP' });
  await create('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', externalIPs: ['192.0.2.10'], loadBalancerSourceRanges: ['198.51.100.0/24'], ports: [{ name: 'https', port: 443, targetPort: 8080 }] });
  await create('local', { internalTrafficPolicy: 'Local', ports: [{ port: 8080 }] });
  await putSlice(slice('dns-1', 'dns', [{ ip: '10.244.1.2', ready: true }], [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5353, protocol: 'TCP' }]));
  await putSlice(slice('lb-1', 'lb', [{ ip: '10.244.1.3', ready: true }], [{ name: 'https', port: 8080, protocol: 'TCP' }]));
  await putSlice(slice('local-1', 'local', [{ ip: '10.244.1.2', ready: true }], [{ name: '', port: 8080, protocol: 'TCP' }]));
  const lbStatus = await req(api!.url, 'GET', '/api/v1/namespaces/default/services/lb');
  const st = await req(api!.url, 'PUT', '/api/v1/namespaces/default/services/lb/status', { ...lbStatus.body, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } });
  assert.equal(st.status, 200, st.text);
  const saved = await eventually('all services programmed', iptablesSave, (s) => s.includes('default/dns:dns cluster IP') && s.includes('default/lb:https loadbalancer IP') && s.includes('default/local cluster IP') && /-A KUBE-FW-/.test(s));
  assert.match(saved, /-A KUBE-EXT-\w+ -m comment --comment "route LOCAL traffic for default\/lb:https external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-/);
  assert.match(saved, /-A KUBE-SERVICES -d 192\.0\.2\.10\/32 -p tcp -m comment --comment "default\/lb:https external IP"/);
  assert.match(saved, /-A KUBE-SVL-\w+ -m comment --comment "default\/local -> /);
  // The node answers through the local endpoint of the LB service's external IP.
  await addRoute(node, '192.0.2.10/32', 'dev', nodeIf);
  const viaExternal = await tcpProbe(node, '192.0.2.10', 443);
  assert.deepEqual(viaExternal, ['pod-b']);
  const metrics = await httpGetIn(node, `http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /^kubeproxy_sync_proxy_rules_iptables_restore_failures_total 0$/m);
  assert.match(metrics.body, /^kubeproxy_sync_proxy_rules_last_timestamp_seconds \d/m);
  assert.match(metrics.body, /^kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]/m);
  assert.match(metrics.body, /^kubeproxy_network_programming_duration_seconds_count/m);
  const healthz = await httpGetIn(node, 'http://127.0.0.1:10256/healthz');
  assert.equal(healthz.status, 200, healthz.body);
  assert.ok(JSON.parse(healthz.body).lastUpdated);
  assert.equal((await httpGetIn(node, `http://127.0.0.1:${metricsPort}/proxyMode`)).body, 'iptables');
});

test('SIGTERM stops it cleanly; --cleanup removes every KUBE chain and only those', { skip }, async () => {
  proxy!.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => (proxy!.exitCode !== null ? r(proxy!.exitCode) : proxy!.once('exit', (c) => r(c))));
  assert.equal(code, 0);
  assert.match(await iptablesSave(), /KUBE-SVC-/, 'rules stay after a plain stop, as upstream');
  const cleanup = startKubeProxy(['--cleanup']);
  const cleanupCode = await new Promise<number | null>((r) => cleanup.once('exit', (c) => r(c)));
  assert.equal(cleanupCode, 0);
  const saved = await iptablesSave();
  assert.ok(!saved.includes('KUBE-'), saved);
  assert.match(saved, /-A POSTROUTING -j OTHER-CHAIN/);
  assert.match(saved, /-A INPUT -p tcp -m tcp --dport 9 -j ACCEPT/);
  // Cleanup is idempotent.
  const again = startKubeProxy(['--cleanup']);
  assert.equal(await new Promise<number | null>((r) => again.once('exit', (c) => r(c))), 0);
});
