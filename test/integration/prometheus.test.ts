/**
 * Debian's `prometheus` server scrapes a live keelson control plane through the scrape config in
 * deploy/prometheus/prometheus.yml (rendered with loopback test addresses, so the file tested is the
 * file shipped), and `promtool check metrics` lints every component's /metrics.
 *
 * Started in-process on free loopback ports: etcd (the Debian binary), a secure kube-apiserver (https,
 * client certificates, RBAC: Prometheus authenticates with the admin certificate as the config
 * says), kube-controller-manager, kube-scheduler, cluster-dns, and kube-proxy's real run() with a
 * recording iptables executor (no rules reach the host). The kubelet needs containerd, so its target
 * is the kubelet's own metrics registry (pkg/kubelet/metrics.ts and pkg/cri/metrics.ts on a
 * component registry, as the kubelet builds it) served over https with client certificates required
 * on loopback behind a Node object whose
 * InternalIP and daemonEndpoints point at it. Kubelet and kube-proxy targets come from
 * deploy/prometheus/node-targets.sh, run with stock kubectl against the test apiserver.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { startEtcd, freePort } from '../harness/etcd.js';
import { startSecureApiserver, httpsRequest, type SecureApiserver } from '../harness/pki.js';
import { repoRoot } from '../../pkg/launcher/paths.js';
import { newMetricsRegistry } from '../../pkg/metrics/registry.js';
import { newKubeletMetrics } from '../../pkg/kubelet/metrics.js';
import { newCriMetrics } from '../../pkg/cri/metrics.js';
import { run as runControllerManager } from '../../pkg/controller-manager/run.js';
import { defaultControllerManagerConfig } from '../../pkg/controller-manager/config.js';
import { run as runScheduler } from '../../pkg/scheduler/run.js';
import { defaultSchedulerRunConfig } from '../../pkg/scheduler/options.js';
import { run as runDns } from '../../pkg/dns/run.js';
import { defaultDnsConfig } from '../../pkg/dns/config.js';
import { run as runProxy } from '../../pkg/proxy/run.js';
import { defaultProxyConfig } from '../../pkg/proxy/config.js';
import type { Exec } from '../../pkg/proxy/iptables.js';

const haveBinary = (b: string) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0;
const skip = !haveBinary('prometheus') || !haveBinary('promtool')
  ? "Debian's prometheus package is not installed (apt-get install -y prometheus ships prometheus and promtool)"
  : !haveBinary('kubectl')
    ? 'kubectl is not on PATH (deploy/prometheus/node-targets.sh lists the nodes with it)'
    : false;

const nodeName = 'prom-node-1';
/**
 * Upstream kube-proxy's names for two gauges (pkg/proxy/metrics: sync_proxy_rules_iptables_total,
 * sync_proxy_rules_no_local_endpoints_total). promtool's lint dislikes _total on a gauge; upstream
 * kube-proxy exports them the same way, and keelson keeps upstream's names.
 */
const upstreamLintExceptions = new Set(['kubeproxy_sync_proxy_rules_iptables_total', 'kubeproxy_sync_proxy_rules_no_local_endpoints_total']);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
let api: SecureApiserver;
let tmp = '';
const urls: Record<string, string> = {};
let dnsPort = 0;
let promURL = '';
let prometheus: ChildProcess | undefined;
let promLog = '';

function listenOn(server: http.Server | https.Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

/** Starts a component's run(), resolving with its URL once it listens; stops it at the end. */
async function startComponent(name: string, start: (signal: AbortSignal, listening: (url: string) => void) => Promise<void>): Promise<string> {
  const ac = new AbortController();
  let resolveUrl!: (u: string) => void;
  const listening = new Promise<string>((r) => (resolveUrl = r));
  const done = start(ac.signal, resolveUrl);
  cleanups.push(async () => {
    ac.abort();
    await done.catch(() => undefined);
  });
  return Promise.race([listening, done.then(() => Promise.reject(new Error(`${name} exited before listening`)))]);
}

function admin(method: string, p: string, body?: unknown) {
  return httpsRequest(api.url + p, { ca: fs.readFileSync(api.pki.caCert, 'utf8'), cert: fs.readFileSync(path.join(api.pki.dir, 'admin.crt'), 'utf8'), key: fs.readFileSync(path.join(api.pki.dir, 'admin.key'), 'utf8'), method, body });
}

/** The shipped template with its {{…}} placeholders filled in; every placeholder must be known. */
function renderScrapeConfig(vars: Record<string, string>): string {
  let text = fs.readFileSync(path.join(repoRoot(), 'deploy/prometheus/prometheus.yml'), 'utf8');
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{{${k}}}`, v);
  const left = text.match(/\{\{[A-Z_]+\}\}/g);
  assert.equal(left, null, `placeholders left unfilled: ${String(left)}`);
  return text;
}

function udpQuery(port: number, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no DNS answer for ${name}`));
    }, 3000);
    sock.on('message', () => {
      clearTimeout(timer);
      sock.close();
      resolve();
    });
    sock.send(dnsPacket.encode({ id: 7, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] }), port, '127.0.0.1');
  });
}

async function fetchMetrics(component: string): Promise<string> {
  if (component === 'kube-apiserver') {
    const r = await admin('GET', '/metrics');
    assert.equal(r.status, 200, r.text);
    return r.text;
  }
  if (component === 'kubelet') {
    const r = await httpsRequest(`${urls.kubelet}/metrics`, { ca: fs.readFileSync(api.pki.caCert, 'utf8'), cert: fs.readFileSync(path.join(api.pki.dir, 'admin.crt'), 'utf8'), key: fs.readFileSync(path.join(api.pki.dir, 'admin.key'), 'utf8') });
    assert.equal(r.status, 200, r.text);
    return r.text;
  }
  const r = await fetch(`${urls[component]}/metrics`);
  assert.equal(r.status, 200);
  return r.text();
}

function promtoolCheck(text: string): Promise<{ code: number; problems: string[] }> {
  return new Promise((resolve, reject) => {
    const child = execFile('promtool', ['check', 'metrics'], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code, problems: `${stdout}\n${stderr}`.split('\n').map((l) => l.trim()).filter(Boolean) });
    });
    child.stdin!.end(text);
  });
}

async function promGet<T>(p: string): Promise<T> {
  const r = await fetch(promURL + p);
  const body = (await r.json()) as { status: string; data: T; error?: string };
  assert.equal(body.status, 'success', `${p}: ${body.error}`);
  return body.data;
}

before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-prometheus-'));
  cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const etcd = await startEtcd();
  cleanups.push(() => etcd.stop());
  api = await startSecureApiserver(etcd.endpoint);
  cleanups.push(() => api.stop());
  const kubeconfig = api.adminKubeconfig;

  urls['kube-controller-manager'] = await startComponent('kube-controller-manager', (signal, listening) =>
    runControllerManager({ ...defaultControllerManagerConfig(), kubeconfig, controllers: ['deployment', 'replicaset', 'namespace'], leaderElect: false, bindAddress: '127.0.0.1', port: 0, logLevel: 'silent', onListening: (a) => listening(a.url) }, signal),
  );
  urls['kube-scheduler'] = await startComponent('kube-scheduler', (signal, listening) =>
    runScheduler({ ...defaultSchedulerRunConfig(), kubeconfig, leaderElect: false, bindAddress: '127.0.0.1', port: 0, logLevel: 'silent', onListening: (a) => listening(a.url) }, signal),
  );
  urls['cluster-dns'] = await startComponent('cluster-dns', (signal, listening) =>
    runDns(
      {
        ...defaultDnsConfig(),
        kubeconfig,
        listen: '127.0.0.1:0',
        metricsBindAddress: '127.0.0.1:0',
        logLevel: 'silent',
        onListening: (a) => {
          dnsPort = a.dns.port;
          listening(a.metrics!);
        },
      },
      signal,
    ),
  );
  // kube-proxy's real run(), with iptables recorded instead of run and sysctls in a temp dir.
  const recordIptables: Exec = async () => ({ stdout: '', stderr: '' });
  const sysctlDir = path.join(tmp, 'sys');
  fs.mkdirSync(sysctlDir);
  urls['kube-proxy'] = await startComponent('kube-proxy', (signal, listening) =>
    runProxy(
      {
        ...defaultProxyConfig(),
        kubeconfig,
        hostnameOverride: nodeName,
        clusterCIDR: '10.244.0.0/16',
        metricsBindAddress: '127.0.0.1:0',
        healthzBindAddress: '',
        localhostNodePorts: false,
        exec: recordIptables,
        sysctlDir,
        logLevel: 'silent',
        onListening: (a) => listening(a.metrics),
      },
      signal,
    ),
  );
  // The kubelet's metrics registry, as pkg/kubelet/kubelet.ts builds it, with some samples.
  const kubeletRegistry = newMetricsRegistry('kubelet');
  const km = newKubeletMetrics(kubeletRegistry);
  const cm = newCriMetrics(kubeletRegistry);
  km.runningPods.set(1);
  km.runningContainers.set({ container_state: 'running' }, 1);
  km.podStartDuration.observe(1.5);
  km.podWorkerDuration.observe({ operation_type: 'sync' }, 0.02);
  km.relistDuration.observe(0.01);
  cm.operations.inc({ operation_type: 'list_podsandbox' });
  cm.duration.observe({ operation_type: 'list_podsandbox' }, 0.003);
  // https with a client certificate required, as the kubelet serves (its serving certificate
  // stands in as the apiserver's, which also names 127.0.0.1 and is signed by the cluster CA).
  const kubeletServer = https.createServer({ cert: fs.readFileSync(api.pki.apiserverCert), key: fs.readFileSync(api.pki.apiserverKey), ca: fs.readFileSync(api.pki.caCert), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void kubeletRegistry.metrics().then((body) => res.writeHead(200, { 'Content-Type': kubeletRegistry.contentType }).end(body));
  });
  urls.kubelet = (await listenOn(kubeletServer)).replace(/^http:/, 'https:');
  cleanups.push(() => new Promise((r) => kubeletServer.close(r)));

  // The Node the kubelet would register: InternalIP and daemonEndpoints lead Prometheus to it.
  const created = await admin('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName } });
  assert.equal(created.status, 201, created.text);
  const status = await admin('PUT', `/api/v1/nodes/${nodeName}/status`, {
    ...created.body,
    status: {
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: nodeName }],
      daemonEndpoints: { kubeletEndpoint: { Port: Number(new URL(urls.kubelet).port) } },
    },
  });
  assert.equal(status.status, 200, status.text);

  await udpQuery(dnsPort, 'kubernetes.default.svc.cluster.local');
});

after(async () => {
  if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
    prometheus.kill('SIGKILL');
    await new Promise((r) => prometheus!.once('exit', r));
  }
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      // keep cleaning up
    }
  }
});

for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'cluster-dns', 'kube-proxy', 'kubelet']) {
  test(`promtool check metrics is clean on ${component}'s /metrics`, { skip }, async () => {
    const text = await fetchMetrics(component);
    assert.ok(text.includes('# TYPE'), 'no metrics');
    const { code, problems } = await promtoolCheck(text);
    const unexpected = problems.filter((p) => !upstreamLintExceptions.has(p.split(' ')[0]!));
    assert.deepEqual(unexpected, [], `promtool check metrics on ${component} (exit ${code})`);
    if (problems.length === 0) assert.equal(code, 0);
  });
}

test('Prometheus scrapes every component through deploy/prometheus/prometheus.yml: all targets up, key series present', { skip, timeout: 120_000 }, async () => {
  // Node targets from the shipped script, with stock kubectl against the apiserver.
  const targetsDir = path.join(tmp, 'targets');
  const script = path.join(repoRoot(), 'deploy/prometheus/node-targets.sh');
  await new Promise<void>((resolve, reject) =>
    execFile('sh', [script, '--kubeconfig', api.adminKubeconfig, '--out', targetsDir, '--kube-proxy-port', new URL(urls['kube-proxy']!).port], { timeout: 30_000 }, (err, _o, stderr) => (err ? reject(new Error(`node-targets.sh: ${stderr}`)) : resolve())),
  );
  const kubeletTargets = JSON.parse(fs.readFileSync(path.join(targetsDir, 'kubelets.json'), 'utf8')) as unknown;
  assert.deepEqual(kubeletTargets, [{ targets: [`127.0.0.1:${new URL(urls.kubelet!).port}`], labels: { node: nodeName } }]);

  const config = renderScrapeConfig({
    SCRAPE_INTERVAL: '1s',
    PKI_DIR: api.pki.dir,
    APISERVER: new URL(api.url).host,
    CONTROLLER_MANAGER: new URL(urls['kube-controller-manager']!).host,
    SCHEDULER: new URL(urls['kube-scheduler']!).host,
    CLUSTER_DNS: new URL(urls['cluster-dns']!).host,
    NODE_TARGETS_DIR: targetsDir,
  });
  const configFile = path.join(tmp, 'prometheus.yml');
  fs.writeFileSync(configFile, config);
  const check = spawnSync('promtool', ['check', 'config', configFile], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);

  const port = await freePort();
  promURL = `http://127.0.0.1:${port}`;
  prometheus = spawn('prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  prometheus.stderr!.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-5000)));

  const jobs = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'cluster-dns', 'kubelet', 'kube-proxy'];
  type Target = { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string };
  let last: Target[] = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    assert.equal(prometheus.exitCode, null, `prometheus exited: ${promLog}`);
    try {
      last = (await promGet<{ activeTargets: Target[] }>('/api/v1/targets?state=active')).activeTargets;
      const byJob = new Map(jobs.map((j) => [j, last.filter((t) => t.labels.job === j)]));
      if ([...byJob.values()].every((ts) => ts.length === 1 && ts[0]!.health === 'up') && last.length === jobs.length) break;
    } catch {
      // not serving yet
    }
    if (Date.now() > deadline) assert.fail(`targets not all up: ${JSON.stringify(last.map((t) => ({ job: t.labels.job, url: t.scrapeUrl, health: t.health, error: t.lastError })))}\n${promLog}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(last.find((t) => t.labels.job === 'kubelet')!.labels.instance, nodeName);
  assert.equal(last.find((t) => t.labels.job === 'kube-proxy')!.labels.node, nodeName);

  const series: [string, string][] = [
    ['kube-apiserver', 'apiserver_request_total'],
    ['kube-apiserver', 'apiserver_request_duration_seconds_bucket'],
    ['kube-controller-manager', 'workqueue_depth'],
    ['kube-controller-manager', 'workqueue_adds_total'],
    ['kube-scheduler', 'scheduler_pending_pods'],
    ['cluster-dns', 'coredns_dns_requests_total'],
    ['kubelet', 'kubelet_running_pods'],
    ['kube-proxy', 'kubeproxy_sync_proxy_rules_last_timestamp_seconds'],
  ];
  for (const [job, name] of series) {
    const q = `${name}{job="${job}"}`;
    const until = Date.now() + 15_000;
    for (;;) {
      const data = await promGet<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(q)}`);
      if (data.result.length > 0) break;
      if (Date.now() > until) assert.fail(`no series for ${q}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const up = await promGet<{ result: { metric: Record<string, string>; value: [number, string] }[] }>('/api/v1/query?query=up');
  assert.deepEqual(up.result.map((r) => r.metric.job).sort(), [...jobs].sort());
  assert.ok(up.result.every((r) => r.value[1] === '1'), JSON.stringify(up.result));
});
