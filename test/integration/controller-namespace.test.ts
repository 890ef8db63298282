/**
 * The namespace and ServiceAccount controllers, with every other controller running: a namespace
 * gets its default ServiceAccount, and deleting a namespace empties it, reports upstream's
 * conditions while content remains, then removes it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Namespace, ServiceAccount } from '../../pkg/api/types.js';
import { isNotFound, resources } from '../../pkg/client/rest.js';
import { kubectl } from '../harness/kubectl.js';
import { createNamespace, listPods, podTemplate, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['*'] });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});

async function namespaceGone(name: string): Promise<boolean> {
  try {
    await cluster.client.get(resources.namespaces, undefined, name);
    return false;
  } catch (e) {
    if (isNotFound(e)) return true;
    throw e;
  }
}

test('every namespace gets a default ServiceAccount, recreated when deleted', async () => {
  const { client } = cluster;
  await createNamespace(client, 'sa1');
  const sa = await waitFor('default ServiceAccount', async () => (await client.list<ServiceAccount>(resources.serviceAccounts, 'sa1')).items.find((s) => s.metadata!.name === 'default'));
  await client.delete(resources.serviceAccounts, 'sa1', 'default');
  await waitFor('default ServiceAccount recreated', async () => {
    const again = (await client.list<ServiceAccount>(resources.serviceAccounts, 'sa1')).items.find((s) => s.metadata!.name === 'default');
    return again && again.metadata!.uid !== sa.metadata!.uid;
  });
});

test('deleting a namespace empties it, reports what remains, then removes it', async () => {
  const { client, kubeconfig } = cluster;
  await createNamespace(client, 'doomed');
  await client.create(resources.configMaps, 'doomed', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } });
  await client.create(resources.deployments, 'doomed', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) },
  });
  await waitFor('2 pods', async () => (await listPods(client, 'doomed')).length === 2);
  await client.create(resources.pods, 'doomed', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'held', finalizers: ['example.com/hold'] }, spec: podTemplate({}).spec });

  // kubectl waits for the namespace to go; here it cannot while the pod's finalizer holds it.
  const del = await kubectl('1.33', kubeconfig, ['delete', 'namespace', 'doomed', '--wait=false']);
  assert.equal(del.code, 0, del.stderr);
  const ns = await waitFor(
    'conditions naming the remaining pod and its finalizer',
    async () => {
      const n = await client.get<Namespace>(resources.namespaces, undefined, 'doomed');
      const remaining = n.status?.conditions?.find((c) => c.type === 'NamespaceContentRemaining');
      return remaining?.status === 'True' ? n : undefined;
    },
    30_000,
    200,
  );
  assert.equal(ns.status!.phase, 'Terminating');
  const cond = (t: string) => ns.status!.conditions!.find((c) => c.type === t)!;
  assert.deepEqual(
    { reason: cond('NamespaceContentRemaining').reason, message: cond('NamespaceContentRemaining').message },
    { reason: 'SomeResourcesRemain', message: 'Some resources are remaining: pods. has 1 resource instances' },
  );
  assert.deepEqual(
    { status: cond('NamespaceFinalizersRemaining').status, reason: cond('NamespaceFinalizersRemaining').reason, message: cond('NamespaceFinalizersRemaining').message },
    { status: 'True', reason: 'SomeFinalizersRemain', message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances' },
  );
  assert.deepEqual(
    { status: cond('NamespaceDeletionDiscoveryFailure').status, reason: cond('NamespaceDeletionDiscoveryFailure').reason, message: cond('NamespaceDeletionDiscoveryFailure').message },
    { status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  );
  assert.equal(cond('NamespaceDeletionContentFailure').reason, 'ContentDeleted');
  const pods = await listPods(client, 'doomed');
  assert.deepEqual(
    pods.map((p) => p.metadata!.name),
    ['held'],
    'everything else is gone',
  );
  assert.equal((await client.list(resources.configMaps, 'doomed')).items.length, 0);
  assert.equal((await client.list(resources.deployments, 'doomed')).items.length, 0);

  await client.patch(resources.pods, 'doomed', 'held', 'merge', { metadata: { finalizers: null } });
  await waitFor('the namespace gone', () => namespaceGone('doomed'), 60_000, 200);
});
