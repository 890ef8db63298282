/**
 * The pod garbage collector against a real etcd and apiserver: pods bound to a Node that does
 * not exist go after the quarantine, and terminated pods beyond the threshold go oldest first.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../pkg/api/types.js';
import { resources } from '../../pkg/client/rest.js';
import { createNamespace, listPods, names, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['podgc'], terminatedPodGCThreshold: 2, podGCCheckPeriodMs: 200, podGCQuarantineMs: 500 });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});

async function createPod(ns: string, name: string, nodeName?: string, phase?: string): Promise<void> {
  const p = await cluster.client.create<Pod>(resources.pods, ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] } });
  if (phase) await cluster.client.updateStatus<Pod>(resources.pods, { ...p, status: { phase } });
}

test('orphaned pods and terminated pods over the threshold are deleted', async () => {
  const { client } = cluster;
  await createNamespace(client, 'gc1');
  await createPod('gc1', 'orphan', 'no-such-node', 'Running');
  for (const n of ['t1', 't2', 't3']) {
    await createPod('gc1', n, undefined, 'Succeeded');
    await new Promise((r) => setTimeout(r, 1100)); // distinct creationTimestamps (seconds)
  }
  const left = await waitFor('orphan and oldest terminated pod gone', async () => {
    const l = names(await listPods(client, 'gc1'));
    return l.join(',') === 't2,t3' ? l : undefined;
  });
  assert.deepEqual(left, ['t2', 't3']);
});
