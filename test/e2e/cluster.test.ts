/**
 * A whole cluster from the launcher, as a user gets it from `make up NODES=2`: two simulated
 * worker machines, Services through kube-proxy, cluster DNS, NodePort from the host, and a clean
 * teardown. Real etcd, containerd, runc, CNI plugins, iptables and stock kubectl 1.33.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { up, down, defaultClusterOptions, type ClusterOptions } from '../../pkg/launcher/cluster.js';
import { launcherClusterSkip, until } from '../harness/cluster.js';
import { kubectl, kubectlOK, kubectlPath } from '../harness/kubectl.js';
import { repoRoot, binary } from '../../pkg/launcher/paths.js';
import { defaultHostNetwork, ensureNodeNetwork, nodeNetwork, removeNodeNetwork } from '../../pkg/launcher/network.js';

const skip = launcherClusterSkip();
let opts: ClusterOptions;
let kubeconfig = '';
const lines: string[] = [];

const k = (args: string[]) => kubectlOK('1.33', kubeconfig, args, { timeoutMs: 120_000 });

before(async () => {
  if (skip) return;
  opts = { ...defaultClusterOptions(fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-cluster-'))), nodes: 2, log: (l) => lines.push(l) };
  kubeconfig = await up(opts);
});

after(async () => {
  if (skip || !opts) return;
  await down({ ...opts, reset: true });
});

test('two nodes: a Deployment spreads across both behind a NodePort Service; DNS and Services work from pods', { skip }, async () => {
  const nodes = JSON.parse(await k(['get', 'nodes', '-o', 'json'])).items;
  assert.equal(nodes.length, 2);
  assert.ok(nodes.every((n: any) => n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True')));
  assert.notEqual(nodes[0].spec.podCIDR, nodes[1].spec.podCIDR);

  await k(['create', 'deployment', 'web', '--image=busybox', '--replicas=4', '--', 'httpd', '-f', '-p', '8080', '-h', '/etc']);
  await k(['expose', 'deployment', 'web', '--port=80', '--target-port=8080', '--type=NodePort']);
  const pods = await until('4 running web pods', async () => {
    const items = JSON.parse(await k(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
    const ready = items.filter((p: any) => p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    return ready.length === 4 ? ready : undefined;
  });
  const byNode = new Map<string, string[]>();
  for (const p of pods) byNode.set(p.spec.nodeName, [...(byNode.get(p.spec.nodeName) ?? []), p.metadata.name]);
  assert.equal(byNode.size, 2, `pods should spread over both nodes: ${JSON.stringify([...byNode])}`);

  // A client pod asks the Service by its DNS name, repeatedly, and reaches pods on both nodes.
  await k(['run', 'client', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
  await until('the client pod', async () => JSON.parse(await k(['get', 'pod', 'client', '-o', 'json'])).status.phase === 'Running');
  const seen = new Set<string>();
  for (let i = 0; i < 30 && seen.size < 4; i++) {
    const r = await kubectl('1.33', kubeconfig, ['exec', 'client', '--', 'wget', '-qO-', 'http://web.default.svc.cluster.local/hostname']);
    if (r.code === 0) seen.add(r.stdout.trim());
  }
  const nodesReached = new Set([...seen].map((h) => pods.find((p: any) => p.metadata.name === h)?.spec.nodeName));
  assert.equal(nodesReached.size, 2, `answers came from ${[...seen].join(', ')}`);
  const ns = await k(['exec', 'client', '--', 'nslookup', 'kubernetes.default.svc.cluster.local']);
  assert.match(ns, /Address(?: \d)?:\s+10\.96\.0\.1\b/);

  // The NodePort answers from the host on a node address.
  const svc = JSON.parse(await k(['get', 'svc', 'web', '-o', 'json']));
  const nodePort = svc.spec.ports[0].nodePort;
  const nodeIP = nodes[0].status.addresses.find((a: any) => a.type === 'InternalIP').address;
  const body = await until('the NodePort', async () => {
    const r = await fetch(`http://${nodeIP}:${nodePort}/hostname`, { signal: AbortSignal.timeout(5000) });
    return r.ok ? (await r.text()).trim() : undefined;
  });
  assert.ok(pods.some((p: any) => p.metadata.name === body));

  // Scaled to 0, the Service refuses connections at once instead of hanging.
  await k(['scale', 'deployment', 'web', '--replicas=0']);
  await until('no endpoints', async () => !(await k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[*].addresses}'])).trim());
  const refused = await until('a refused connection', async () => {
    const r = await kubectl('1.33', kubeconfig, ['exec', 'client', '--', 'sh', '-c', 'wget -qO- http://web/hostname 2>&1; true']);
    return /refused/i.test(r.stdout) ? r.stdout : undefined;
  }, 60_000);
  assert.match(refused, /refused/i);
});

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const havePrometheus = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v prometheus']);
    return true;
  } catch {
    return false;
  }
})();

test('Prometheus scrapes every component of the live cluster: every target up', { skip: skip ?? (havePrometheus ? undefined : 'prometheus is not installed') }, async () => {
  const root = repoRoot();
  const dir = path.join(opts.stateDir, 'prometheus');
  fs.mkdirSync(dir, { recursive: true });
  execFileSync(path.join(root, 'deploy/prometheus/node-targets.sh'), ['--kubeconfig', kubeconfig, '--out', dir], { env: { ...process.env, KUBECTL: kubectlPath('1.33') } });
  const config = fs
    .readFileSync(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')
    .replaceAll('{{SCRAPE_INTERVAL}}', '1s')
    .replaceAll('{{PKI_DIR}}', path.join(opts.stateDir, 'pki'))
    .replaceAll('{{APISERVER}}', `10.200.0.1:${opts.apiPort}`)
    .replaceAll('{{CONTROLLER_MANAGER}}', '127.0.0.1:10257')
    .replaceAll('{{SCHEDULER}}', '127.0.0.1:10259')
    .replaceAll('{{CLUSTER_DNS}}', '127.0.0.1:9153')
    .replaceAll('{{NODE_TARGETS_DIR}}', dir);
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
  const port = await freeLoopbackPort();
  const prom = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  try {
    const targets = await until(
      'every Prometheus target up',
      async () => {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/targets`);
        const active: { labels: { job: string }; health: string; lastError: string }[] = ((await r.json()) as any).data.activeTargets;
        const jobs = new Set(active.map((t) => t.labels.job));
        const complete = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'cluster-dns', 'kubelet', 'kube-proxy'].every((j) => jobs.has(j));
        return complete && active.length >= 8 && active.every((t) => t.health === 'up') ? active : undefined;
      },
      90_000,
    );
    assert.equal(targets.filter((t) => t.labels.job === 'kubelet').length, 2);
    assert.equal(targets.filter((t) => t.labels.job === 'kube-proxy').length, 2);
    for (const series of ['apiserver_request_total', 'workqueue_depth', 'scheduler_pending_pods', 'kubelet_running_pods', 'kubeproxy_sync_proxy_rules_duration_seconds_count', 'coredns_dns_requests_total']) {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(series)}`);
      const result = ((await r.json()) as any).data.result;
      assert.ok(result.length > 0, `no ${series}`);
    }
  } finally {
    prom.kill('SIGKILL');
  }
});

test('a third machine joins: keelson add-node on the control plane, keelson join on the worker, keelson down there', { skip }, async () => {
  const keelson = binary('keelson');
  const bundle = path.join(opts.stateDir, 'join-node-3');
  const workerState = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-worker-'));
  // The third "machine" is a network namespace on the bridge, as the launcher's own nodes are.
  const machine = nodeNetwork(defaultHostNetwork, 2, 'node-3');
  const added = execFileSync(process.execPath, [keelson, 'add-node', 'node-3', '--address', machine.address, '--out', bundle, '--state-dir', opts.stateDir]).toString();
  assert.match(added, /join bundle for node-3/);
  assert.equal(fs.statSync(path.join(bundle, 'kubelet.conf')).mode & 0o077, 0, 'the bundle keeps its keys private');
  // Bad input is refused before anything is written.
  const bad = spawnSync(process.execPath, [keelson, 'add-node', 'Not_A_Name', '--address', '10.200.0.99', '--out', path.join(opts.stateDir, 'bad'), '--state-dir', opts.stateDir], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /invalid node name/);
  assert.ok(!fs.existsSync(path.join(opts.stateDir, 'bad')));

  await ensureNodeNetwork(defaultHostNetwork, machine);
  const onMachine = (args: string[]) => execFileSync('nsenter', [`--net=${machine.netnsPath}`, process.execPath, keelson, ...args], { timeout: 300_000 }).toString();
  try {
    assert.match(onMachine(['join', '--bundle', bundle, '--state-dir', workerState]), /node node-3 joined https:\/\/\S+ and is Ready/);
    const node = JSON.parse(await k(['get', 'node', 'node-3', '-o', 'json']));
    assert.equal(node.status.addresses.find((a: any) => a.type === 'InternalIP').address, machine.address);
    const cidrs = JSON.parse(await k(['get', 'nodes', '-o', 'json'])).items.map((n: any) => n.spec.podCIDR);
    assert.equal(new Set(cidrs).size, 3, `every node has its own pod CIDR: ${cidrs}`);

    // A pod on the joined machine serves; a pod on another node reaches it over the host-gw routes,
    // and the apiserver reaches its kubelet (exec) with the serving certificate from the bundle.
    await k(['run', 'far', '--image=busybox', '--restart=Never', '--overrides={"spec":{"nodeName":"node-3"}}', '--', 'httpd', '-f', '-p', '8080', '-h', '/etc']);
    const far = await until('the pod on node-3', async () => {
      const p = JSON.parse(await k(['get', 'pod', 'far', '-o', 'json']));
      return p.status.phase === 'Running' && p.status.podIP ? p : undefined;
    });
    assert.equal(await k(['exec', 'far', '--', 'cat', '/etc/hostname']).then((o) => o.trim()), 'far');
    await k(['run', 'near', '--image=busybox', '--restart=Never', '--overrides={"spec":{"nodeName":"node-1"}}', '--', 'sleep', '3600']);
    await until('the pod on node-1', async () => JSON.parse(await k(['get', 'pod', 'near', '-o', 'json'])).status.phase === 'Running');
    // (No `wget -T`: Debian's static busybox wget segfaults with it.)
    const answer = await until('node-1 → node-3 pod traffic', async () => {
      const r = await kubectl('1.33', kubeconfig, ['exec', 'near', '--', 'wget', '-qO-', `http://${far.status.podIP}:8080/hostname`]);
      return r.code === 0 ? r.stdout.trim() : undefined;
    }, 60_000);
    assert.equal(answer, 'far');
    await k(['delete', 'pod', 'far', 'near', '--wait=false']);
  } finally {
    spawnSync('nsenter', [`--net=${machine.netnsPath}`, process.execPath, keelson, 'down', '--state-dir', workerState], { stdio: 'ignore', timeout: 120_000 });
  }
  // Only what join started on the machine is gone: the worker's processes, not the cluster's.
  const runDir = path.join(workerState, 'run');
  for (const f of fs.existsSync(runDir) ? fs.readdirSync(runDir) : []) assert.fail(`${f} still has a pid file after down`);
  assert.doesNotMatch(execFileSync('ps', ['-eo', 'args']).toString(), new RegExp(workerState.replace(/[/.]/g, '\\$&')));
  assert.ok(JSON.parse(await k(['get', 'nodes', '-o', 'json'])).items.length >= 2, 'the control plane still answers');
  await removeNodeNetwork(machine);
  fs.rmSync(workerState, { recursive: true, force: true });
  await k(['delete', 'node', 'node-3']);
});

test('down leaves no process, namespace, bridge, route or KUBE-* chain behind', { skip }, async () => {
  await down({ ...opts, reset: false });
  const netns = execFileSync('ip', ['netns', 'list']).toString();
  assert.doesNotMatch(netns, /keelson-/);
  assert.ok(!fs.existsSync('/sys/class/net/keelson0'), 'the bridge is gone');
  assert.equal(execFileSync('ip', ['-4', 'route', 'show', 'proto', '199']).toString().trim(), '');
  for (const table of ['nat', 'filter']) assert.doesNotMatch(execFileSync('iptables-save', ['-t', table]).toString(), /KUBE-/);
  const runDir = path.join(opts.stateDir, 'run');
  for (const f of fs.existsSync(runDir) ? fs.readdirSync(runDir) : []) {
    const pid = Number(fs.readFileSync(path.join(runDir, f), 'utf8'));
    let alive: boolean;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      alive = false;
    }
    assert.equal(alive, false, `${f} still runs`);
  }
  const ps = execFileSync('ps', ['-eo', 'args']).toString();
  assert.doesNotMatch(ps, new RegExp(opts.stateDir.replace(/[/.]/g, '\\$&')));
});
