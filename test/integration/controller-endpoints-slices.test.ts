/**
 * The endpoints and endpointslice controllers against a real etcd and apiserver, with test code
 * playing the kubelet (pod IPs and readiness).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Endpoints, Node, Pod, Service } from '../../pkg/api/types.js';
import { resources } from '../../pkg/client/rest.js';
import { informerResources } from '../../pkg/controller/framework/informer.js';
import { createNamespace, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['endpoint', 'endpointslice'] });
  await kcm.url;
  await cluster.client.create<Node>(resources.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'ep-node', labels: { 'topology.kubernetes.io/zone': 'zone-a' } } });
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});

async function runPod(ns: string, name: string, ip: string, port: number, ready: boolean): Promise<Pod> {
  const { client } = cluster;
  const pod = await client.create<Pod>(resources.pods, ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web' } },
    spec: { nodeName: 'ep-node', containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: port }] }] },
  });
  return setStatus(pod, ip, ready);
}

async function setStatus(pod: Pod, ip: string, ready: boolean): Promise<Pod> {
  const cur = await cluster.client.get<Pod>(resources.pods, pod.metadata!.namespace, pod.metadata!.name!);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return cluster.client.updateStatus<Pod>(resources.pods, { ...cur, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] } });
}

async function slicesOf(ns: string, svc: string): Promise<EndpointSlice[]> {
  return (await cluster.client.list<EndpointSlice>(informerResources.endpointSlices, ns, { labelSelector: `kubernetes.io/service-name=${svc}` })).items;
}

test('Endpoints and EndpointSlices follow pod readiness and resolve named ports per pod', async () => {
  const { client } = cluster;
  await createNamespace(client, 'ep1');
  const svc = await client.create<Service>(informerResources.services, 'ep1', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { tier: 'front' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
  const p1 = await runPod('ep1', 'p1', '10.244.0.11', 8080, true);
  const p2 = await runPod('ep1', 'p2', '10.244.0.12', 9090, false);

  const ep = await waitFor('Endpoints with p1 ready and p2 not ready', async () => {
    const e = await client.get<Endpoints>(informerResources.endpoints, 'ep1', 'web');
    const s = e.subsets ?? [];
    return s.length === 2 && s.some((x) => x.addresses?.[0]?.ip === '10.244.0.11') && s.some((x) => x.notReadyAddresses?.[0]?.ip === '10.244.0.12') ? e : undefined;
  });
  assert.deepEqual(ep.subsets!.map((s) => s.ports), [[{ name: 'http', port: 8080, protocol: 'TCP' }], [{ name: 'http', port: 9090, protocol: 'TCP' }]]);
  assert.equal(ep.metadata!.labels!.tier, 'front');
  assert.ok(ep.metadata!.annotations!['endpoints.kubernetes.io/last-change-trigger-time']);

  const slices = await waitFor('two slices, one per resolved port', async () => {
    const s = await slicesOf('ep1', 'web');
    return s.length === 2 && s.every((x) => x.endpoints?.length === 1) ? s : undefined;
  });
  for (const s of slices) {
    assert.equal(s.addressType, 'IPv4');
    assert.equal(s.metadata!.labels!['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(s.metadata!.labels!.tier, 'front');
    assert.deepEqual(s.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    const e = s.endpoints![0]!;
    assert.equal(e.nodeName, 'ep-node');
    assert.equal(e.zone, 'zone-a');
    const expect = e.targetRef!.name === 'p1' ? { port: 8080, ready: true } : { port: 9090, ready: false };
    assert.deepEqual(s.ports, [{ name: 'http', port: expect.port, protocol: 'TCP' }]);
    assert.deepEqual(e.conditions, { ready: expect.ready, serving: expect.ready, terminating: false });
  }

  // p2 turns ready, p1 goes away.
  await setStatus(p2, '10.244.0.12', true);
  await client.delete(resources.pods, 'ep1', p1.metadata!.name!, { gracePeriodSeconds: 0 });
  await waitFor('Endpoints with only p2, ready', async () => {
    const e = await client.get<Endpoints>(informerResources.endpoints, 'ep1', 'web');
    return e.subsets?.length === 1 && e.subsets[0]!.addresses?.length === 1 && e.subsets[0]!.addresses[0]!.ip === '10.244.0.12' && !e.subsets[0]!.notReadyAddresses;
  });
  await waitFor('one slice with p2 ready', async () => {
    const s = await slicesOf('ep1', 'web');
    return s.length === 1 && s[0]!.endpoints?.length === 1 && s[0]!.endpoints[0]!.conditions?.ready === true && s[0]!.ports?.[0]?.port === 9090;
  });
});

test('headless Services publish not-ready pods with hostnames when asked; the kubernetes Service is left alone', async () => {
  const { client } = cluster;
  await createNamespace(client, 'ep2');
  await client.create<Service>(informerResources.services, 'ep2', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'web' } } });
  const pod = await client.create<Pod>(resources.pods, 'ep2', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-0', labels: { app: 'web' } }, spec: { nodeName: 'ep-node', hostname: 'db-0', subdomain: 'db', containers: [{ name: 'c', image: 'busybox' }] } });
  await setStatus(pod, '10.244.0.21', false);
  const ep = await waitFor('headless Endpoints', async () => {
    const e = await client.get<Endpoints>(informerResources.endpoints, 'ep2', 'db');
    return e.subsets?.[0]?.addresses?.length ? e : undefined;
  });
  assert.equal(ep.subsets![0]!.addresses![0]!.hostname, 'db-0');
  assert.equal(ep.metadata!.labels!['service.kubernetes.io/headless'], '');
  const [slice] = await waitFor('headless slice', async () => {
    const s = await slicesOf('ep2', 'db');
    return s.length === 1 && s[0]!.endpoints?.length === 1 ? s : undefined;
  });
  assert.equal(slice!.endpoints![0]!.hostname, 'db-0');
  assert.deepEqual(slice!.endpoints![0]!.conditions, { ready: true, serving: false, terminating: false });

  // Deleting the Service removes its Endpoints and slices.
  await client.delete(informerResources.services, 'ep2', 'db');
  await waitFor('slices gone', async () => (await slicesOf('ep2', 'db')).length === 0);
  const kubernetesSlices = await slicesOf('default', 'kubernetes');
  assert.ok(kubernetesSlices.every((s) => s.metadata!.labels!['endpointslice.kubernetes.io/managed-by'] !== 'endpointslice-controller.k8s.io'));
});
