/**
 * Two kube-scheduler processes on one apiserver: only the one holding the `kube-scheduler` Lease
 * binds; after the leader is killed (SIGKILL, so it cannot release the Lease) the other takes
 * over once the lease expires.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEtcd, freePort, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { TestCluster } from '../../pkg/scheduler/testing/cluster.js';
import { makeNode, makePod } from '../../pkg/scheduler/testing/fake.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const mainJs = path.resolve(here, '../../cmd/kube-scheduler/main.js');

let etcd: EtcdHandle;
let api: ApiserverHandle;
let cluster: TestCluster;

interface Instance {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
}
const instances: Instance[] = [];

async function startScheduler(): Promise<Instance> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [mainJs, `--kubeconfig=${api.kubeconfig}`, '--leader-elect', '--leader-elect-lease-duration=4s', '--leader-elect-renew-deadline=3s', '--leader-elect-retry-period=1s', '--bind-address=127.0.0.1', `--secure-port=${port}`, '--log-level=info'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20000)));
  const inst = { proc, url: `http://127.0.0.1:${port}`, stderr: () => err };
  instances.push(inst);
  await cluster.waitFor('scheduler process ready', async () => (await fetch(`${inst.url}/readyz`).catch(() => undefined))?.ok);
  return inst;
}

async function scheduledCount(i: Instance): Promise<number> {
  const text = await (await fetch(`${i.url}/metrics`)).text();
  const m = /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

async function leaseHolder(): Promise<string | undefined> {
  const r = await cluster.req('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler');
  return r.status === 200 ? r.body.spec?.holderIdentity || undefined : undefined;
}

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint);
  cluster = new TestCluster(api.url);
});

after(async () => {
  for (const i of instances) if (i.proc.exitCode === null && i.proc.signalCode === null) i.proc.kill('SIGKILL');
  await api?.stop();
  await etcd?.stop();
});

test('only the leader binds; the standby takes over after the leader is killed', async () => {
  const a = await startScheduler();
  const b = await startScheduler();
  await cluster.createNode(makeNode('n1', { cpu: '4' }));
  const firstHolder = await cluster.waitFor('a leader', leaseHolder);

  await cluster.createPod(makePod('first'));
  assert.equal(await cluster.waitForNode('default', 'first'), 'n1');
  const counts = await cluster.waitFor('the binding to be counted', async () => {
    const c = [await scheduledCount(a), await scheduledCount(b)];
    return c[0]! + c[1]! > 0 ? c : undefined;
  });
  assert.equal(counts.filter((n) => n > 0).length, 1, `exactly one instance scheduled: ${JSON.stringify(counts)}`);
  const [leader, standby] = counts[0]! > 0 ? [a, b] : [b, a];

  leader.proc.kill('SIGKILL');
  await new Promise((r) => leader.proc.once('exit', r));
  await cluster.createPod(makePod('second'));
  assert.equal(await cluster.waitForNode('default', 'second', 60_000), 'n1', standby.stderr());
  assert.ok((await scheduledCount(standby)) >= 1);
  const newHolder = await leaseHolder();
  assert.ok(newHolder && newHolder !== firstHolder, 'the standby holds the lease now');
});
