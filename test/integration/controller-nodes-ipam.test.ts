/**
 * The node IPAM controller against a real etcd and apiserver: distinct /24s from the cluster
 * CIDR, stable across a controller-manager restart, and a deleted node's subnet freed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../../pkg/api/types.js';
import { resources } from '../../pkg/client/rest.js';
import { startCluster, startControllerManager, waitFor, type Cluster } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;

before(async () => {
  cluster = await startCluster();
});

after(async () => {
  await cluster?.stop();
});

const ipam = { controllers: ['nodeipam'], allocateNodeCIDRs: true, clusterCIDR: '10.244.0.0/16' };

async function createNode(name: string): Promise<void> {
  await cluster.client.create<Node>(resources.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
}

async function podCIDRs(names: string[]): Promise<Record<string, string> | undefined> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const node = await cluster.client.get<Node>(resources.nodes, undefined, n);
    if (!node.spec?.podCIDR) return undefined;
    assert.deepEqual(node.spec.podCIDRs, [node.spec.podCIDR]);
    out[n] = node.spec.podCIDR;
  }
  return out;
}

test('every node gets a distinct /24, stable across a restart; a deleted node frees its subnet', async () => {
  let kcm = startControllerManager(cluster.kubeconfig, ipam);
  await kcm.url;
  await Promise.all(['n1', 'n2', 'n3'].map(createNode));
  const first = await waitFor('podCIDRs on 3 nodes', () => podCIDRs(['n1', 'n2', 'n3']));
  const values = Object.values(first);
  assert.equal(new Set(values).size, 3);
  for (const v of values) assert.match(v, /^10\.244\.\d+\.0\/24$/);
  await kcm.stop();

  // A new instance rebuilds the pool from the nodes: the new node gets a fourth subnet.
  kcm = startControllerManager(cluster.kubeconfig, ipam);
  await kcm.url;
  await createNode('n4');
  const second = await waitFor('podCIDR on n4', () => podCIDRs(['n1', 'n2', 'n3', 'n4']));
  for (const n of ['n1', 'n2', 'n3']) assert.equal(second[n], first[n]);
  assert.equal(new Set(Object.values(second)).size, 4);

  await cluster.client.delete(resources.nodes, undefined, 'n1');
  await Promise.all(['n5', 'n6', 'n7', 'n8'].map(createNode));
  const third = await waitFor('podCIDRs on n5..n8', () => podCIDRs(['n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8']));
  assert.equal(new Set(Object.values(third)).size, 7);
  await kcm.stop();
});
