/**
 * Hollow nodes against a real etcd and apiserver: five nodes register Ready, renew their Leases,
 * run a pod bound to one of them, and delete it once it is deleted gracefully.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease, Node, Pod } from '../../pkg/api/types.js';
import { loadKubeConfig } from '../../pkg/client/kubeconfig.js';
import { isNotFound, resources, RestClient } from '../../pkg/client/rest.js';
import { defaultHollowConfig, run } from '../../pkg/hollow/index.js';
import { parseCIDR, ipToInt, contains } from '../../pkg/registry/allocators/cidr.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';

let etcd: EtcdHandle;
let api: ApiserverHandle;
let client: RestClient;
const ac = new AbortController();
let hollowDone: Promise<void>;
let hollowURL: string;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint);
  client = new RestClient(loadKubeConfig(api.kubeconfig), 'hollow-test');
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  let listening!: (u: string) => void;
  const urlP = new Promise<string>((r) => (listening = r));
  hollowDone = run(
    {
      ...defaultHollowConfig(),
      kubeconfig: api.kubeconfig,
      count: 5,
      namePrefix: 'hollow-',
      zones: ['zone-a', 'zone-b'],
      leaseRenewIntervalMs: 300,
      port: 0,
      bindAddress: '127.0.0.1',
      logLevel: 'silent',
      onListening: (a) => listening(a.url),
      onReady: () => ready(),
    },
    ac.signal,
  );
  hollowURL = await urlP;
  await Promise.race([readyP, hollowDone.then(() => Promise.reject(new Error('hollow nodes stopped before ready')))]);
});

after(async () => {
  ac.abort();
  await hollowDone?.catch(() => undefined);
  await client?.close();
  await api?.stop();
  await etcd?.stop();
});

test('five hollow nodes register, Ready, with labels, capacity and nodeInfo', async () => {
  const nodes = (await client.list<Node>(resources.nodes, undefined, { labelSelector: 'node.kubernetes.io/instance-type=hollow' })).items;
  assert.deepEqual(nodes.map((n) => n.metadata!.name).sort(), ['hollow-0', 'hollow-1', 'hollow-2', 'hollow-3', 'hollow-4']);
  for (const n of nodes) {
    const name = n.metadata!.name!;
    assert.equal(n.metadata!.labels!['kubernetes.io/hostname'], name);
    assert.equal(n.metadata!.labels!['topology.kubernetes.io/zone'], Number(name.split('-')[1]) % 2 === 0 ? 'zone-a' : 'zone-b');
    assert.equal(n.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(n.status!.capacity!.pods, '110');
    assert.equal(n.status!.allocatable!.cpu, '4');
    assert.match(n.status!.nodeInfo!.containerRuntimeVersion, /^hollow:\/\//);
    assert.ok(n.status!.nodeInfo!.kubeletVersion);
    assert.ok(n.spec!.podCIDR);
  }
  const metrics = await (await fetch(`${hollowURL}/metrics`)).text();
  assert.match(metrics, /^hollow_nodes 5$/m);
  assert.equal((await fetch(`${hollowURL}/healthz`)).status, 200);
  assert.equal((await fetch(`${hollowURL}/readyz`)).status, 200);
});

test('each node renews its Lease in kube-node-lease', async () => {
  const first = await client.get<Lease>(resources.leases, 'kube-node-lease', 'hollow-3');
  assert.equal(first.spec!.holderIdentity, 'hollow-3');
  assert.equal(first.spec!.leaseDurationSeconds, 40);
  assert.equal(first.metadata!.ownerReferences?.[0]?.kind, 'Node');
  await waitFor('renewTime to advance', async () => {
    const l = await client.get<Lease>(resources.leases, 'kube-node-lease', 'hollow-3');
    return Date.parse(l.spec!.renewTime!) > Date.parse(first.spec!.renewTime!);
  });
});

test('a pod bound to a hollow node runs, and goes away when deleted', async () => {
  await client.create(resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'hollow-test' } });
  await client.create<Pod>(resources.pods, 'hollow-test', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36' }, { name: 'side', image: 'pause:3.10' }] },
  });
  await client.request('POST', '/api/v1/namespaces/hollow-test/pods/web/binding', {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web' }, target: { apiVersion: 'v1', kind: 'Node', name: 'hollow-2' } },
  });
  const pod = await waitFor('the pod to run', async () => {
    const p = await client.get<Pod>(resources.pods, 'hollow-test', 'web');
    return p.status?.phase === 'Running' ? p : undefined;
  });
  const node = await client.get<Node>(resources.nodes, undefined, 'hollow-2');
  const st = pod.status!;
  assert.ok(contains(parseCIDR(node.spec!.podCIDR!), ipToInt(st.podIP!)!), `${st.podIP} in ${node.spec!.podCIDR}`);
  assert.equal(st.hostIP, node.status!.addresses!.find((a) => a.type === 'InternalIP')!.address);
  assert.ok(st.startTime);
  for (const t of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready', 'PodReadyToStartContainers']) {
    assert.equal(st.conditions!.find((c) => c.type === t)?.status, 'True', t);
  }
  assert.deepEqual(st.containerStatuses!.map((c) => [c.name, c.ready, !!c.state?.running, /^hollow:\/\/[0-9a-f]{64}$/.test(c.containerID ?? '')]), [
    ['app', true, true, true],
    ['side', true, true, true],
  ]);
  await waitFor('hollow_pods_running 1', async () => /^hollow_pods_running 1$/m.test(await (await fetch(`${hollowURL}/metrics`)).text()));

  // A graceful delete only marks the pod; the hollow node finishes it with gracePeriodSeconds=0.
  await client.delete(resources.pods, 'hollow-test', 'web');
  await waitFor('the pod to disappear', async () => {
    try {
      await client.get<Pod>(resources.pods, 'hollow-test', 'web');
      return false;
    } catch (e) {
      return isNotFound(e);
    }
  });
  await waitFor('hollow_pods_running 0', async () => /^hollow_pods_running 0$/m.test(await (await fetch(`${hollowURL}/metrics`)).text()));
  const metrics = await (await fetch(`${hollowURL}/metrics`)).text();
  assert.match(metrics, /^hollow_requests_total\{verb="DELETE",resource="pods",code="200"\} 1$/m);
  assert.match(metrics, /^hollow_requests_total\{verb="PATCH",resource="pods\/status",code="200"\} 1$/m);
});
