/**
 * The kube-controller-manager process: its endpoints, leader election between two copies (only
 * the Lease holder acts; the standby takes over when the leader stops or is killed), and the
 * binary's flags.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoreEvent, Deployment, Lease } from '../../pkg/api/types.js';
import { resources } from '../../pkg/client/rest.js';
import { freePort } from '../harness/etcd.js';
import { createNamespace, listPods, podTemplate, startCluster, startControllerManager, startFakeKubelet, waitFor, type Cluster } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;

before(async () => {
  cluster = await startCluster();
});

after(async () => {
  await cluster?.stop();
});

// Short leases keep the test quick; the ratios are upstream's.
const fastLeases = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

function deployment(name: string, replicas: number, image = 'busybox:1.36'): Deployment {
  const labels = { app: name };
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas, selector: { matchLabels: labels }, template: podTemplate(labels, image) } } as Deployment;
}

async function lease(): Promise<Lease> {
  return cluster.client.get<Lease>(resources.leases, 'kube-system', 'kube-controller-manager');
}

test('two copies: one holds the Lease and acts; the other takes over when it stops', async (t) => {
  const { client } = cluster;
  const a = startControllerManager(cluster.kubeconfig, { controllers: ['deployment', 'replicaset'], leaderElect: true, identity: 'host_a', ...fastLeases });
  t.after(() => a.stop());
  const first = await waitFor('a leader', async () => (await lease()).spec?.holderIdentity);
  assert.equal(first, 'host_a');
  const b = startControllerManager(cluster.kubeconfig, { controllers: ['deployment', 'replicaset'], leaderElect: true, identity: 'host_b', ...fastLeases });
  t.after(() => b.stop());
  const [urlA, urlB] = await Promise.all([a.url, b.url]);

  for (const url of [urlA, urlB]) {
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await fetch(url + p);
      assert.equal(r.status, 200, p);
      assert.equal(await r.text(), 'ok');
    }
  }

  await createNamespace(client, 'le1');
  await client.create(resources.deployments, 'le1', deployment('web', 3));
  await waitFor('3 pods', async () => (await listPods(client, 'le1')).length === 3);
  // Give a second actor time to show itself, then check nothing was duplicated.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await listPods(client, 'le1')).length, 3);
  assert.equal((await client.list(resources.replicaSets, 'le1')).items.length, 1);
  const metricsA = await (await fetch(`${urlA}/metrics`)).text();
  const metricsB = await (await fetch(`${urlB}/metrics`)).text();
  assert.match(metricsA, /workqueue_adds_total\{name="deployment"\} [1-9]/);
  assert.match(metricsA, /workqueue_depth\{name="replicaset"\}/);
  assert.match(metricsA, /workqueue_work_duration_seconds_bucket\{le="[^"]+",name="replicaset"\}/);
  assert.doesNotMatch(metricsB, /workqueue_adds_total\{name="deployment"\}/, 'the standby runs no controllers');
  assert.match(metricsA, /leader_election_master_status\{name="kube-controller-manager"\} 1/);
  assert.match(metricsB, /leader_election_master_status\{name="kube-controller-manager"\} 0/);
  assert.equal((await lease()).spec?.holderIdentity, 'host_a');
  const became = await waitFor('the LeaderElection event', async () =>
    (await client.list<CoreEvent>(resources.events, 'kube-system')).items.find((e) => e.reason === 'LeaderElection' && e.message === 'host_a became leader'),
  );
  assert.equal(became.involvedObject.kind, 'Lease');
  assert.equal(became.involvedObject.name, 'kube-controller-manager');

  await a.stop();
  const released = await lease();
  assert.ok(released.spec?.holderIdentity === '' || released.spec?.holderIdentity === 'host_b', 'released on a clean stop');
  await waitFor('host_b leads', async () => (await lease()).spec?.holderIdentity === 'host_b');
  assert.equal((await lease()).spec?.leaseTransitions, 1);
  await client.patch(resources.deployments, 'le1', 'web', 'merge', { spec: { replicas: 4 } });
  await waitFor('the new leader scales', async () => (await listPods(client, 'le1')).length === 4);
  await b.stop();
});

const here = path.dirname(fileURLToPath(import.meta.url));
const mainJs = path.resolve(here, '../../cmd/kube-controller-manager/main.js');

interface Proc {
  proc: ChildProcess;
  port: number;
  stderr(): string;
  exited: Promise<number | null>;
}

async function spawnKCM(args: string[]): Promise<Proc> {
  const port = await freePort();
  const proc = spawn(process.execPath, [mainJs, `--kubeconfig=${cluster.kubeconfig}`, '--bind-address=127.0.0.1', `--secure-port=${port}`, '--log-level=warn', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-5000)));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, port, stderr: () => err, exited };
}

test('the binary: upstream flags, health endpoints, clean exit on SIGTERM, unknown controllers refused', async () => {
  const bad = await spawnKCM(['--controllers=nosuchcontroller']);
  assert.notEqual(await bad.exited, 0);
  assert.match(bad.stderr(), /"nosuchcontroller" is not in the list of known controllers/);

  const p = await spawnKCM(['--controllers=*,-garbagecollector,-namespace', '--leader-elect=false', '--concurrent-deployment-syncs=2', '--node-monitor-grace-period=40s', '--allocate-node-cidrs', '--cluster-cidr=10.244.0.0/16']);
  try {
    await waitFor('/healthz', async () => (await fetch(`http://127.0.0.1:${p.port}/healthz`)).status === 200, 20_000, 100);
    const v = await fetch(`http://127.0.0.1:${p.port}/readyz?verbose`);
    assert.match(await v.text(), /\[\+\]ping ok/);
    assert.equal((await fetch(`http://127.0.0.1:${p.port}/nope`)).status, 404);
  } finally {
    p.proc.kill('SIGTERM');
  }
  assert.equal(await p.exited, 0, p.stderr());
});

test('kill -9 of the leader mid-rollout: the standby takes the Lease and finishes with no extra pods', async (t) => {
  const { client } = cluster;
  await createNamespace(client, 'le2');
  const flags = ['--controllers=deployment,replicaset', '--leader-elect-lease-duration=3s', '--leader-elect-renew-deadline=2s', '--leader-elect-retry-period=500ms', '--leader-elect-resource-name=kcm-crash'];
  const first = await spawnKCM(flags);
  t.after(() => first.proc.kill('SIGKILL'));
  const leaseOf = async () => (await client.get<Lease>(resources.leases, 'kube-system', 'kcm-crash')).spec?.holderIdentity;
  const leader1 = await waitFor('a leader', leaseOf, 20_000, 100);
  const second = await spawnKCM(flags);
  t.after(() => second.proc.kill('SIGKILL'));
  const kubelet = startFakeKubelet(client, 'le2');
  t.after(() => kubelet.stop());

  await client.create(resources.deployments, 'le2', { ...deployment('api', 4), spec: { ...deployment('api', 4).spec!, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } });
  await waitFor('initial rollout', async () => (await client.get<Deployment>(resources.deployments, 'le2', 'api')).status?.availableReplicas === 4);
  let maxPods = 0;
  const kubeletCheck = setInterval(() => {
    void listPods(client, 'le2').then((pods) => (maxPods = Math.max(maxPods, pods.filter((p) => !p.metadata?.deletionTimestamp).length)));
  }, 50);
  t.after(() => clearInterval(kubeletCheck));
  await client.patch(resources.deployments, 'le2', 'api', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:1.37', command: ['sleep', '3600'] }] } } } });
  await waitFor('the rollout under way', async () => (await client.list(resources.replicaSets, 'le2')).items.length === 2);
  first.proc.kill('SIGKILL');
  await first.exited;
  await waitFor('the standby leads', async () => {
    const h = await leaseOf();
    return h && h !== leader1;
  });
  await waitFor(
    'the rollout finished',
    async () => {
      const d = await client.get<Deployment>(resources.deployments, 'le2', 'api');
      const pods = await listPods(client, 'le2');
      return d.status?.updatedReplicas === 4 && d.status.availableReplicas === 4 && d.status.replicas === 4 && pods.length === 4 && pods.every((p) => p.spec?.containers?.[0]?.image === 'busybox:1.37');
    },
    60_000,
    200,
  );
  assert.ok(maxPods <= 5, `never more than replicas+maxSurge pods, saw ${maxPods}`);
  assert.equal((await client.list(resources.replicaSets, 'le2')).items.length, 2);
  second.proc.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.stderr());
});
