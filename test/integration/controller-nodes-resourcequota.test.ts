/**
 * The ResourceQuota controller against a real etcd and apiserver: `status.hard` mirrors the spec
 * and `status.used` follows creates and deletes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceQuota } from '../../pkg/api/types.js';
import { resources } from '../../pkg/client/rest.js';
import { informerResources } from '../../pkg/controller/framework/informer.js';
import { createNamespace, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['resourcequota'] });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});

test('status.used follows pods and configmaps being created and deleted', async () => {
  const { client } = cluster;
  await createNamespace(client, 'rq1');
  const hard = { pods: '5', 'count/configmaps': '10', 'requests.cpu': '2', 'requests.memory': '1Gi' };
  await client.create<ResourceQuota>(informerResources.resourceQuotas, 'rq1', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard } });
  const used = async () => (await client.get<ResourceQuota>(informerResources.resourceQuotas, 'rq1', 'q')).status;
  const st = await waitFor('initial status', async () => ((await used())?.used ? used() : undefined));
  assert.deepEqual(st.hard, hard);
  assert.deepEqual(st.used, { pods: '0', 'count/configmaps': '0', 'requests.cpu': '0', 'requests.memory': '0' });

  for (const name of ['a', 'b']) {
    await client.create(resources.pods, 'rq1', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '250m', memory: '128Mi' } } }] } });
  }
  await client.create(resources.configMaps, 'rq1', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
  await waitFor('used after creates', async () => deepEq((await used())?.used, { pods: '2', 'count/configmaps': '1', 'requests.cpu': '500m', 'requests.memory': '256Mi' }));

  await client.delete(resources.pods, 'rq1', 'a', { gracePeriodSeconds: 0 });
  await client.delete(resources.configMaps, 'rq1', 'cm');
  await waitFor('used after deletes', async () => deepEq((await used())?.used, { pods: '1', 'count/configmaps': '0', 'requests.cpu': '250m', 'requests.memory': '128Mi' }));
});

function deepEq(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}
