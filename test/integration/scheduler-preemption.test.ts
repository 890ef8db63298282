/**
 * Preemption against a real apiserver: a high-priority pod (PriorityClass) that fits nowhere
 * evicts a low-priority one, is nominated to its node, and is bound there once the victim is gone.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { run } from '../../pkg/scheduler/run.js';
import { defaultSchedulerRunConfig } from '../../pkg/scheduler/options.js';
import { TestCluster } from '../../pkg/scheduler/testing/cluster.js';
import { makeNode, makePod } from '../../pkg/scheduler/testing/fake.js';

let etcd: EtcdHandle;
let api: ApiserverHandle;
let cluster: TestCluster;
let schedulerURL = '';
const stop = new AbortController();
let done: Promise<void>;

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint);
  cluster = new TestCluster(api.url);
  let listening!: () => void;
  const up = new Promise<void>((r) => (listening = r));
  done = run(
    {
      ...defaultSchedulerRunConfig(),
      kubeconfig: api.kubeconfig,
      leaderElect: false,
      bindAddress: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      onListening: (a) => {
        schedulerURL = a.url;
        listening();
      },
    },
    stop.signal,
  );
  await up;
  await cluster.waitFor('scheduler ready', async () => (await fetch(`${schedulerURL}/readyz`)).ok);
});

after(async () => {
  stop.abort();
  await done;
  await api?.stop();
  await etcd?.stop();
});

test('a high priority pod preempts a low priority one', async () => {
  for (const [name, value] of [['low-priority', 100], ['high-priority', 1000]] as const) {
    await cluster.createObject('/apis/scheduling.k8s.io/v1/priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value });
  }
  await cluster.createNode(makeNode('only', { cpu: '1', memory: '2Gi' }));
  const low = makePod('low', { cpu: '800m' });
  low.spec!.priorityClassName = 'low-priority';
  // No kubelet runs here: a zero grace period lets the eviction complete at once.
  low.spec!.terminationGracePeriodSeconds = 0;
  await cluster.createPod(low);
  assert.equal(await cluster.waitForNode('default', 'low'), 'only');

  const high = makePod('high', { cpu: '800m' });
  high.spec!.priorityClassName = 'high-priority';
  await cluster.createPod(high);
  assert.equal(await cluster.waitForNode('default', 'high'), 'only');
  assert.equal(await cluster.getPod('default', 'low'), undefined, 'the victim is gone');

  const events = await cluster.events('default', 'low');
  const preempted = events.find((e) => e.reason === 'Preempted');
  assert.ok(preempted, JSON.stringify(events));
  assert.match(preempted.message, /^Preempted by pod [0-9a-f-]+ on node only$/);
  const highEvents = await cluster.events('default', 'high');
  const failed = highEvents.find((e) => e.reason === 'FailedScheduling');
  assert.equal(failed?.message, '0/1 nodes are available: 1 Insufficient cpu.');
  const metrics = await (await fetch(`${schedulerURL}/metrics`)).text();
  assert.match(metrics, /scheduler_preemption_attempts_total 1/);
  assert.match(metrics, /scheduler_preemption_victims_sum 1/);
});
