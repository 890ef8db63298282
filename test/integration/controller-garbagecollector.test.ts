/**
 * The garbage collector with the Deployment and ReplicaSet controllers: cascading deletion in the
 * background, in the foreground, and orphaning, through stock kubectl and the API.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Deployment, Pod, ReplicaSet } from '../../pkg/api/types.js';
import { isNotFound, resources } from '../../pkg/client/rest.js';
import { kubectlOK } from '../harness/kubectl.js';
import { createNamespace, listPods, podTemplate, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['deployment', 'replicaset', 'garbagecollector'] });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});

function deployment(name: string, replicas: number): Deployment {
  const labels = { app: name };
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas, selector: { matchLabels: labels }, template: podTemplate(labels) } } as Deployment;
}

async function rsCount(ns: string): Promise<number> {
  return (await cluster.client.list<ReplicaSet>(resources.replicaSets, ns)).items.length;
}

async function exists(get: () => Promise<unknown>): Promise<boolean> {
  try {
    await get();
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

async function deploymentWithPods(ns: string, name: string, replicas: number): Promise<void> {
  await createNamespace(cluster.client, ns);
  await cluster.client.create(resources.deployments, ns, deployment(name, replicas));
  await waitFor(`${replicas} pods`, async () => (await listPods(cluster.client, ns)).length === replicas);
}

test('deleting a Deployment removes its ReplicaSets and pods (background)', async () => {
  const { client, kubeconfig } = cluster;
  await deploymentWithPods('gc1', 'web', 2);
  await kubectlOK('1.33', kubeconfig, ['delete', 'deployment/web', '-n', 'gc1']);
  await waitFor('ReplicaSets and pods gone', async () => (await rsCount('gc1')) === 0 && (await listPods(client, 'gc1')).length === 0);
});

test('--cascade=orphan leaves the ReplicaSet and pods, without the owner reference', async () => {
  const { client, kubeconfig } = cluster;
  await deploymentWithPods('gc2', 'web', 2);
  const [rs] = (await client.list<ReplicaSet>(resources.replicaSets, 'gc2')).items;
  await kubectlOK('1.33', kubeconfig, ['delete', 'deployment/web', '-n', 'gc2', '--cascade=orphan']);
  await waitFor('the Deployment gone', async () => !(await exists(() => client.get(resources.deployments, 'gc2', 'web'))));
  const after = await client.get<ReplicaSet>(resources.replicaSets, 'gc2', rs!.metadata!.name!);
  assert.equal(after.metadata!.ownerReferences, undefined);
  assert.equal(after.metadata!.uid, rs!.metadata!.uid);
  const pods = await listPods(client, 'gc2');
  assert.equal(pods.length, 2);
  assert.ok(pods.every((p) => p.metadata!.ownerReferences?.[0]?.uid === rs!.metadata!.uid), 'pods stay with their ReplicaSet');
});

test('foreground deletion keeps the Deployment until its ReplicaSet and pods are gone', async () => {
  const { client } = cluster;
  await deploymentWithPods('gc3', 'web', 2);
  // A finalizer on one pod holds its deletion, and with it the whole chain.
  const [held] = await listPods(client, 'gc3');
  await client.patch(resources.pods, 'gc3', held!.metadata!.name!, 'merge', { metadata: { finalizers: ['example.com/hold'] } });
  await client.delete(resources.deployments, 'gc3', 'web', { propagationPolicy: 'Foreground' });

  await waitFor('the other pod deleted and the held one terminating', async () => {
    const pods = await listPods(client, 'gc3');
    return pods.length === 1 && pods[0]!.metadata!.deletionTimestamp;
  });
  const d = await client.get<Deployment>(resources.deployments, 'gc3', 'web');
  assert.ok(d.metadata!.deletionTimestamp);
  assert.deepEqual(d.metadata!.finalizers, ['foregroundDeletion']);
  const [rs] = (await client.list<ReplicaSet>(resources.replicaSets, 'gc3')).items;
  assert.ok(rs, 'the ReplicaSet waits for its pod');
  assert.ok(rs.metadata!.deletionTimestamp);
  assert.deepEqual(rs.metadata!.finalizers, ['foregroundDeletion']);

  await client.patch(resources.pods, 'gc3', held!.metadata!.name!, 'merge', { metadata: { finalizers: null } });
  await waitFor('everything gone', async () => {
    return !(await exists(() => client.get(resources.deployments, 'gc3', 'web'))) && (await rsCount('gc3')) === 0 && (await listPods(client, 'gc3')).length === 0;
  });
});

test('any object with an absent owner is collected; one with a live owner stays', async () => {
  const { client } = cluster;
  await createNamespace(client, 'gc4');
  const owner = await client.create<ConfigMap>(resources.configMaps, 'gc4', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } });
  const ref = (name: string, uid: string) => [{ apiVersion: 'v1', kind: 'ConfigMap', name, uid }];
  await client.create(resources.configMaps, 'gc4', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept', ownerReferences: ref('owner', owner.metadata!.uid!) } });
  await client.create(resources.configMaps, 'gc4', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'never-owned', ownerReferences: ref('ghost', '00000000-0000-0000-0000-000000000000') } });
  await client.create<Pod>(resources.pods, 'gc4', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ownerReferences: ref('owner', owner.metadata!.uid!) }, spec: podTemplate({}).spec });
  await waitFor('the object with a missing owner collected', async () => !(await exists(() => client.get(resources.configMaps, 'gc4', 'never-owned'))));
  assert.ok(await exists(() => client.get(resources.configMaps, 'gc4', 'kept')));
  await client.delete(resources.configMaps, 'gc4', 'owner');
  await waitFor('dependents of the deleted owner collected', async () => {
    return !(await exists(() => client.get(resources.configMaps, 'gc4', 'kept'))) && !(await exists(() => client.get(resources.pods, 'gc4', 'p')));
  });
});
