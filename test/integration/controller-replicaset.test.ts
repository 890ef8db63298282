/**
 * The ReplicaSet and ReplicationController controllers against a real etcd and apiserver, with
 * test code playing the kubelet.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreEvent, Pod, ReplicaSet } from '../../pkg/api/types.js';
import { resources } from '../../pkg/client/rest.js';
import { createNamespace, listPods, markPodsReady, podTemplate, setPodReady, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['replicaset', 'replicationcontroller'] });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});

function rs(name: string, replicas: number, labels: Record<string, string>, extra: Record<string, unknown> = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: labels }, template: podTemplate(labels), ...extra },
  } as ReplicaSet;
}

test('a ReplicaSet gets its pods, owned, with SuccessfulCreate events, and full status once ready', async () => {
  const { client } = cluster;
  await createNamespace(client, 'rs1');
  const created = await client.create<ReplicaSet>(resources.replicaSets, 'rs1', rs('web', 3, { app: 'web' }));
  const pods = await waitFor('3 pods', async () => {
    const p = await listPods(client, 'rs1', 'app=web');
    return p.length === 3 ? p : undefined;
  });
  for (const p of pods) {
    assert.match(p.metadata!.name!, /^web-[a-z0-9]{5}$/);
    assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: created.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  }
  const st = await waitFor('status.replicas=3', async () => {
    const r = await client.get<ReplicaSet>(resources.replicaSets, 'rs1', 'web');
    return r.status?.replicas === 3 && r.status.observedGeneration === r.metadata!.generation ? r.status : undefined;
  });
  assert.equal(st.fullyLabeledReplicas, 3);
  assert.equal(st.readyReplicas, undefined);

  await markPodsReady(client, 'rs1', 'app=web');
  await waitFor('readyReplicas=3 and availableReplicas=3', async () => {
    const r = await client.get<ReplicaSet>(resources.replicaSets, 'rs1', 'web');
    return r.status?.readyReplicas === 3 && r.status.availableReplicas === 3;
  });

  const events = await waitFor('SuccessfulCreate events', async () => {
    const evs = (await client.list<CoreEvent>(resources.events, 'rs1')).items.filter((e) => e.reason === 'SuccessfulCreate');
    return evs.length === 3 ? evs : undefined;
  });
  for (const e of events) {
    assert.equal(e.involvedObject.kind, 'ReplicaSet');
    assert.equal(e.involvedObject.name, 'web');
    assert.equal(e.source?.component, 'replicaset-controller');
    assert.match(e.message!, /^Created pod: web-/);
  }
});

test('scaling down deletes not-ready pods first; a deleted pod is replaced', async () => {
  const { client } = cluster;
  await createNamespace(client, 'rs2');
  await client.create(resources.replicaSets, 'rs2', rs('api', 3, { app: 'api' }));
  const pods = await waitFor('3 pods', async () => {
    const p = await listPods(client, 'rs2');
    return p.length === 3 ? p : undefined;
  });
  // Two ready, one not.
  await setPodReady(client, pods[0]!);
  await setPodReady(client, pods[1]!);
  const notReady = pods[2]!.metadata!.name;
  await waitFor('readyReplicas=2', async () => (await client.get<ReplicaSet>(resources.replicaSets, 'rs2', 'api')).status?.readyReplicas === 2);
  await client.patch(resources.replicaSets, 'rs2', 'api', 'merge', { spec: { replicas: 2 } });
  const left = await waitFor('2 pods', async () => {
    const p = await listPods(client, 'rs2');
    return p.length === 2 ? p : undefined;
  });
  assert.ok(!left.some((p) => p.metadata!.name === notReady), 'the not-ready pod went first');
  const deleted = await waitFor('SuccessfulDelete event', async () => (await client.list<CoreEvent>(resources.events, 'rs2')).items.find((e) => e.reason === 'SuccessfulDelete'));
  assert.equal(deleted.message, `Deleted pod: ${notReady}`);

  await client.delete(resources.pods, 'rs2', left[0]!.metadata!.name!);
  await waitFor('a replacement pod', async () => {
    const p = await listPods(client, 'rs2');
    return p.length === 2 && !p.some((x) => x.metadata!.name === left[0]!.metadata!.name);
  });
});

test('orphans matching the selector are adopted; pods whose labels stop matching are released', async () => {
  const { client } = cluster;
  await createNamespace(client, 'rs3');
  const orphan = await client.create<Pod>(resources.pods, 'rs3', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', labels: { app: 'db' } }, spec: podTemplate({}).spec });
  await client.create(resources.replicaSets, 'rs3', rs('db', 2, { app: 'db' }));
  await waitFor('the orphan adopted and one pod created', async () => {
    const p = await listPods(client, 'rs3');
    const o = p.find((x) => x.metadata!.name === 'orphan');
    return p.length === 2 && o?.metadata?.ownerReferences?.[0]?.name === 'db';
  });
  assert.ok(orphan);
  // Relabel the adopted pod: the ReplicaSet lets it go and makes another.
  await client.patch(resources.pods, 'rs3', 'orphan', 'merge', { metadata: { labels: { app: 'other' } } });
  await waitFor('released and replaced', async () => {
    const p = await listPods(client, 'rs3');
    const o = p.find((x) => x.metadata!.name === 'orphan');
    return p.length === 3 && o && !o.metadata!.ownerReferences?.length && (await listPods(client, 'rs3', 'app=db')).length === 2;
  });
});

test('a ReplicationController keeps its replicas too', async () => {
  const { client } = cluster;
  await createNamespace(client, 'rc1');
  await client.create(resources.replicationControllers, 'rc1', {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'legacy' },
    spec: { replicas: 2, selector: { app: 'legacy' }, template: podTemplate({ app: 'legacy' }) },
  });
  const pods = await waitFor('2 pods', async () => {
    const p = await listPods(client, 'rc1');
    return p.length === 2 ? p : undefined;
  });
  assert.equal(pods[0]!.metadata!.ownerReferences![0]!.kind, 'ReplicationController');
  assert.equal(pods[0]!.metadata!.ownerReferences![0]!.apiVersion, 'v1');
  await markPodsReady(client, 'rc1');
  await waitFor('rc readyReplicas=2', async () => (await client.get<any>(resources.replicationControllers, 'rc1', 'legacy')).status?.readyReplicas === 2);
});
