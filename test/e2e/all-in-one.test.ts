/**
 * `keelson up --all-in-one` with one node: the control plane (apiserver, controller-manager,
 * scheduler, cluster DNS, host routes) shares one process and the node's kubelet, kube-proxy and
 * routes share another. A Deployment's pod runs, its Service answers by DNS name from another
 * pod, `status` shows every component on its group's pid, and `down` stops them all.
 * Real etcd, containerd, runc, CNI plugins, iptables and stock kubectl 1.33.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { up, down, status, defaultClusterOptions, type ClusterOptions } from '../../pkg/launcher/cluster.js';
import { launcherClusterSkip, until } from '../harness/cluster.js';
import { kubectl, kubectlOK } from '../harness/kubectl.js';

const skip = launcherClusterSkip();
let opts: ClusterOptions;
let kubeconfig = '';
const lines: string[] = [];

const k = (args: string[]) => kubectlOK('1.33', kubeconfig, args, { timeoutMs: 120_000 });

before(async () => {
  if (skip) return;
  opts = { ...defaultClusterOptions(fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-aio-'))), nodes: 1, allInOne: true, log: (l) => lines.push(l) };
  kubeconfig = await up(opts);
});

after(async () => {
  if (skip || !opts) return;
  await down({ ...opts, reset: true });
});

test('all-in-one: two processes run every component; a pod runs and its Service answers by name; down stops everything', { skip }, async () => {
  const rows = status(opts);
  const pid = (name: string) => rows.find((r) => r.name === name)?.pid;
  const server = pid('keelson-server');
  const agent = pid('keelson-agent-node-1');
  assert.ok(server, `keelson-server runs: ${JSON.stringify(rows)}`);
  assert.ok(agent, `keelson-agent-node-1 runs: ${JSON.stringify(rows)}`);
  for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'cluster-dns', 'route-controller-host']) assert.equal(pid(c), server, c);
  for (const c of ['kubelet-node-1', 'kube-proxy-node-1', 'route-controller-node-1']) assert.equal(pid(c), agent, c);
  assert.notEqual(pid('etcd'), server);
  assert.ok(pid('containerd-node-1'));

  const nodes = JSON.parse(await k(['get', 'nodes', '-o', 'json'])).items;
  assert.equal(nodes.length, 1);
  assert.ok(nodes[0].status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'));

  await k(['create', 'deployment', 'web', '--image=busybox', '--replicas=1', '--', 'httpd', '-f', '-p', '8080', '-h', '/etc']);
  await k(['expose', 'deployment', 'web', '--port=80', '--target-port=8080']);
  const webPod = await until('a ready web pod', async () => {
    const items = JSON.parse(await k(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
    return items.find((p: any) => p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  });
  assert.equal(webPod.spec.nodeName, 'node-1');

  await k(['run', 'client', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
  await until('the client pod', async () => JSON.parse(await k(['get', 'pod', 'client', '-o', 'json'])).status.phase === 'Running');
  const answer = await until('the Service answering by DNS name', async () => {
    const r = await kubectl('1.33', kubeconfig, ['exec', 'client', '--', 'wget', '-qO-', 'http://web.default.svc.cluster.local/hostname']);
    return r.code === 0 ? r.stdout.trim() : undefined;
  });
  assert.equal(answer, webPod.metadata.name);

  await down({ ...opts, log: (l) => lines.push(l) });
  for (const p of [server, agent]) assert.throws(() => process.kill(p, 0), `pid ${p} still runs after down`);
  assert.deepEqual(
    status(opts).filter((r) => r.pid),
    [],
  );
});
