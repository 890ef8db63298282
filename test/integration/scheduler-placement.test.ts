/**
 * kube-scheduler against a real etcd and apiserver, with Node objects made by the test: resource
 * fit, taints and tolerations, node affinity, pod anti-affinity, topology spread, pending pods
 * that become schedulable, and upstream's exact Unschedulable message. Each test uses its own
 * namespace and nodes and removes them, so the tests do not see each other.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { run } from '../../pkg/scheduler/run.js';
import { defaultSchedulerRunConfig } from '../../pkg/scheduler/options.js';
import { parseConfiguration } from '../../pkg/scheduler/config/load.js';
import { TestCluster } from '../../pkg/scheduler/testing/cluster.js';
import { makeNode, makePod, type NodeOpts, type PodOpts } from '../../pkg/scheduler/testing/fake.js';

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
  const componentConfig = parseConfiguration('apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npodMaxBackoffSeconds: 2\n');
  let listening!: () => void;
  const up = new Promise<void>((r) => (listening = r));
  done = run(
    {
      ...defaultSchedulerRunConfig(),
      kubeconfig: api.kubeconfig,
      componentConfig,
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

/** A test's own namespace and nodes, removed when it ends. */
async function scope(name: string, nodes: [string, NodeOpts][]) {
  await cluster.createNamespace(name);
  for (const [n, o] of nodes) await cluster.createNode(makeNode(`${name}-${n}`, o));
  return {
    pod: (podName: string, o: PodOpts = {}) => cluster.createPod(makePod(podName, { namespace: name, ...o })),
    node: (n: string) => `${name}-${n}`,
    cleanup: async () => {
      await cluster.deleteAllPods(name);
      for (const [n] of nodes) await cluster.deleteNode(`${name}-${n}`);
    },
  };
}

test('resource fit: the pod goes where its requests fit; too big for any node is unschedulable', async () => {
  const s = await scope('fit', [
    ['small', { cpu: '1', memory: '1Gi' }],
    ['big', { cpu: '4', memory: '8Gi' }],
  ]);
  try {
    await s.pod('web', { cpu: '2', memory: '1Gi' });
    assert.equal(await cluster.waitForNode('fit', 'web'), s.node('big'));
    await s.pod('huge', { cpu: '16' });
    const msg = await cluster.waitForUnschedulable('fit', 'huge');
    assert.equal(msg, '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
    const events = await cluster.events('fit', 'web');
    assert.ok(events.some((e) => e.reason === 'Scheduled' && e.message === `Successfully assigned fit/web to ${s.node('big')}` && e.source?.component === 'default-scheduler'));
  } finally {
    await s.cleanup();
  }
});

test('taints and tolerations', async () => {
  const s = await scope('taints', [
    ['gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], labels: { pool: 'gpu' } }],
    ['plain', {}],
  ]);
  try {
    await s.pod('regular');
    assert.equal(await cluster.waitForNode('taints', 'regular'), s.node('plain'));
    await s.pod('trainer', { nodeSelector: { pool: 'gpu' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] });
    assert.equal(await cluster.waitForNode('taints', 'trainer'), s.node('gpu'));
    await s.pod('intruder', { nodeSelector: { pool: 'gpu' } });
    const msg = await cluster.waitForUnschedulable('taints', 'intruder');
    assert.equal(msg, "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.");
  } finally {
    await s.cleanup();
  }
});

test('required and preferred node affinity', async () => {
  const s = await scope('affinity', [
    ['a', { labels: { zone: 'a', disk: 'hdd' } }],
    ['b', { labels: { zone: 'b', disk: 'ssd' } }],
    ['c', { labels: { zone: 'c', disk: 'ssd' } }],
  ]);
  try {
    await s.pod('required', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } } });
    assert.equal(await cluster.waitForNode('affinity', 'required'), s.node('a'));
    await s.pod('preferred', {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['c'] }] } }],
        },
      },
    });
    assert.equal(await cluster.waitForNode('affinity', 'preferred'), s.node('c'));
  } finally {
    await s.cleanup();
  }
});

test('pod anti-affinity spreads replicas one per node; the extra replica stays Pending', async () => {
  const s = await scope('anti', [['n1', {}], ['n2', {}], ['n3', {}]]);
  const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
  try {
    for (let i = 0; i < 3; i++) await s.pod(`web-${i}`, { labels: { app: 'web' }, affinity: anti });
    const nodes = await Promise.all([0, 1, 2].map((i) => cluster.waitForNode('anti', `web-${i}`)));
    assert.deepEqual(nodes.sort(), [s.node('n1'), s.node('n2'), s.node('n3')]);
    await s.pod('web-3', { labels: { app: 'web' }, affinity: anti });
    const msg = await cluster.waitForUnschedulable('anti', 'web-3');
    assert.match(msg, /^0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules\. preemption: /);
  } finally {
    await s.cleanup();
  }
});

test('topology spread with maxSkew=1 across 3 zones', async () => {
  const zone = 'topology.kubernetes.io/zone';
  const s = await scope('spread', [
    ['a1', { labels: { [zone]: 'a' } }],
    ['a2', { labels: { [zone]: 'a' } }],
    ['b1', { labels: { [zone]: 'b' } }],
    ['c1', { labels: { [zone]: 'c' } }],
  ]);
  const tsc = [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }];
  try {
    for (let i = 0; i < 6; i++) await s.pod(`p-${i}`, { labels: { app: 'spread' }, topologySpreadConstraints: tsc });
    const nodes = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => cluster.waitForNode('spread', `p-${i}`)));
    const perZone: Record<string, number> = {};
    for (const n of nodes) {
      const z = n.replace(/^spread-/, '')[0]!;
      perZone[z] = (perZone[z] ?? 0) + 1;
    }
    assert.deepEqual(perZone, { a: 2, b: 2, c: 2 });
  } finally {
    await s.cleanup();
  }
});

test('a Pending pod is scheduled once a matching node appears, and once resources are freed', async () => {
  const s = await scope('pending', [['tiny', { cpu: '1' }]]);
  try {
    await s.pod('needs-ssd', { nodeSelector: { disk: 'ssd' } });
    await cluster.waitForUnschedulable('pending', 'needs-ssd');
    await cluster.createNode(makeNode(s.node('ssd'), { labels: { disk: 'ssd' } }));
    assert.equal(await cluster.waitForNode('pending', 'needs-ssd'), s.node('ssd'));

    await s.pod('hog', { cpu: '1', nodeSelector: { 'kubernetes.io/hostname': s.node('tiny') } });
    await cluster.waitForNode('pending', 'hog');
    await s.pod('waiter', { cpu: '500m', nodeSelector: { 'kubernetes.io/hostname': s.node('tiny') } });
    await cluster.waitForUnschedulable('pending', 'waiter');
    await cluster.deletePod('pending', 'hog');
    assert.equal(await cluster.waitForNode('pending', 'waiter'), s.node('tiny'));
  } finally {
    await s.cleanup();
    await cluster.deleteNode(s.node('ssd'));
  }
});

test('a mixed failure gets upstream exact message as condition and FailedScheduling event', async () => {
  const cp = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
  const s = await scope('mixed', [
    ['worker', { cpu: '1' }],
    ['cp1', { taints: [cp] }],
    ['cp2', { taints: [cp] }],
  ]);
  try {
    await s.pod('busy', { cpu: '800m' });
    assert.equal(await cluster.waitForNode('mixed', 'busy'), s.node('worker'));
    await s.pod('web', { cpu: '500m' });
    const expected =
      '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.';
    assert.equal(await cluster.waitForUnschedulable('mixed', 'web'), expected);
    const ev = await cluster.waitFor('the FailedScheduling event', async () => (await cluster.events('mixed', 'web')).find((e) => e.reason === 'FailedScheduling'));
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, expected);
    const metrics = await (await fetch(`${schedulerURL}/metrics`)).text();
    assert.match(metrics, /scheduler_schedule_attempts_total\{result="unschedulable",profile="default-scheduler"\} [1-9]/);
    assert.match(metrics, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} [1-9]/);
    assert.match(metrics, /scheduler_pending_pods\{queue="unschedulable"\} [1-9]/);
    assert.match(metrics, /scheduler_scheduling_attempt_duration_seconds_bucket/);
    assert.match(metrics, /scheduler_preemption_attempts_total [1-9]/);
    assert.equal((await fetch(`${schedulerURL}/healthz`)).status, 200);
    assert.equal(await (await fetch(`${schedulerURL}/livez`)).text(), 'ok');
  } finally {
    await s.cleanup();
  }
});
