/**
 * The DaemonSet controller against a real etcd and apiserver: Node objects stand in for kubelets
 * and test code marks pods ready.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, DaemonSet, Node, Pod } from '../../pkg/api/types.js';
import { isConflict, type GroupVersionResource } from '../../pkg/client/rest.js';
import { workloadResources } from '../../pkg/controller/history/resources.js';
import { targetNodeName } from '../../pkg/controller/daemonset/daemon-utils.js';
import { createNamespace, listPods, podTemplate, startCluster, startControllerManager, startFakeKubelet, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['daemonset'] });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});

async function createNode(name: string, labels: Record<string, string>, taints: unknown[] = []): Promise<void> {
  await cluster.client.create<Node>(workloadResources.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } } as Node);
}

/** A merge patch, retried on a Conflict (the apiserver can answer one while status writes race). */
async function patch(gvr: GroupVersionResource, ns: string | undefined, name: string, body: unknown): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await cluster.client.patch(gvr, ns, name, 'merge', body);
      return;
    } catch (e) {
      if (i >= 5 || !isConflict(e)) throw e;
    }
  }
}

const live = (pods: Pod[]) => pods.filter((p) => !p.metadata?.deletionTimestamp);
const podNodes = (pods: Pod[]) => live(pods).map((p) => targetNodeName(p)).sort();

test('one pod per eligible node, by nodeSelector and taints; a new node gets one; rolling update replaces them', async () => {
  const { client } = cluster;
  await createNamespace(client, 'ds1');
  await createNode('n1', { role: 'worker' });
  await createNode('n2', { role: 'worker' });
  await createNode('n3', { role: 'db' });
  await createNode('n4', { role: 'worker' }, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
  // Default tolerations: the not-ready taint does not keep a DaemonSet pod away.
  await createNode('n5', { role: 'worker' }, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]);
  const t = podTemplate({ app: 'agent' });
  t.spec.nodeSelector = { role: 'worker' };
  await client.create(workloadResources.daemonSets, 'ds1', {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent' },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: t, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } },
  });
  const pods = await waitFor('pods on n1, n2, n5', async () => {
    const p = await listPods(client, 'ds1');
    return podNodes(p).join() === 'n1,n2,n5' ? p : undefined;
  });
  const p0 = pods[0]!;
  assert.deepEqual(p0.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [targetNodeName(p0)] }] }]);
  const tolerated = p0.spec!.tolerations!.map((x) => `${x.key}:${x.effect}`).sort();
  assert.deepEqual(tolerated, [
    'node.kubernetes.io/disk-pressure:NoSchedule',
    'node.kubernetes.io/memory-pressure:NoSchedule',
    'node.kubernetes.io/not-ready:NoExecute',
    'node.kubernetes.io/pid-pressure:NoSchedule',
    'node.kubernetes.io/unreachable:NoExecute',
    'node.kubernetes.io/unschedulable:NoSchedule',
  ]);
  const revs = (await client.list<ControllerRevision>(workloadResources.controllerRevisions, 'ds1')).items;
  assert.equal(revs.length, 1);
  assert.equal(p0.metadata!.labels!['controller-revision-hash'], revs[0]!.metadata!.labels!['controller.kubernetes.io/hash']);
  assert.equal(revs[0]!.metadata!.name, `agent-${p0.metadata!.labels!['controller-revision-hash']}`);

  const kubelet = startFakeKubelet(client, 'ds1');
  try {
    await waitFor('status', async () => {
      const ds = await client.get<DaemonSet>(workloadResources.daemonSets, 'ds1', 'agent');
      const s = ds.status!;
      return s.desiredNumberScheduled === 3 && s.currentNumberScheduled === 3 && s.numberReady === 3 && s.numberAvailable === 3 && s.updatedNumberScheduled === 3 && s.numberMisscheduled === 0 && s.observedGeneration === ds.metadata!.generation;
    });
    // A new node gets a pod.
    await createNode('n6', { role: 'worker' });
    await waitFor('a pod on n6', async () => podNodes(await listPods(client, 'ds1')).includes('n6'));

    // A new template rolls out, never more than one node without an available pod.
    let maxUnavailable = 0;
    await patch(workloadResources.daemonSets, 'ds1', 'agent', { spec: { template: { metadata: { labels: { app: 'agent', v: '2' } } } } });
    const ds = await waitFor('rolled out', async () => {
      const d = await client.get<DaemonSet>(workloadResources.daemonSets, 'ds1', 'agent');
      const s = d.status!;
      if (s.observedGeneration === d.metadata!.generation) maxUnavailable = Math.max(maxUnavailable, s.desiredNumberScheduled - (s.numberAvailable ?? 0));
      return s.observedGeneration === d.metadata!.generation && s.updatedNumberScheduled === 4 && s.numberAvailable === 4 && s.desiredNumberScheduled === 4 ? d : undefined;
    }, 30_000);
    assert.ok(maxUnavailable <= 1, `unavailable at most 1, saw ${maxUnavailable}`);
    const after = live(await listPods(client, 'ds1'));
    assert.equal(after.length, 4);
    assert.ok(after.every((p) => p.metadata!.labels!.v === '2'));
    assert.equal((await client.list<ControllerRevision>(workloadResources.controllerRevisions, 'ds1')).items.length, 2);
    assert.ok(ds);

    // A node that stops matching loses its pod.
    await patch(workloadResources.nodes, undefined, 'n1', { metadata: { labels: { role: 'db' } } });
    await waitFor('n1 emptied', async () => !podNodes(await listPods(client, 'ds1')).includes('n1'));
  } finally {
    await kubelet.stop();
  }
});

test('maxSurge starts the new pod beside the old one', async () => {
  const { client } = cluster;
  await createNamespace(client, 'ds2');
  const t = podTemplate({ app: 'surge' });
  t.spec.nodeSelector = { role: 'db' };
  await client.create(workloadResources.daemonSets, 'ds2', {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'surge' },
    spec: { selector: { matchLabels: { app: 'surge' } }, template: t, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } },
  });
  const kubelet = startFakeKubelet(client, 'ds2');
  try {
    await waitFor('pods on n1 and n3 ready', async () => {
      const d = await client.get<DaemonSet>(workloadResources.daemonSets, 'ds2', 'surge');
      return d.status?.numberAvailable === 2 && d.status.desiredNumberScheduled === 2;
    });
    let sawTwoOnANode = false;
    await patch(workloadResources.daemonSets, 'ds2', 'surge', { spec: { template: { metadata: { labels: { app: 'surge', v: '2' } } } } });
    await waitFor('surge rollout done', async () => {
      const pods = live(await listPods(client, 'ds2'));
      const nodes = podNodes(pods);
      if (new Set(nodes).size < nodes.length) sawTwoOnANode = true;
      return pods.length === 2 && pods.every((p) => p.metadata!.labels!.v === '2');
    }, 30_000);
    assert.ok(sawTwoOnANode, 'old and new pod shared a node during the surge');
  } finally {
    await kubelet.stop();
  }
});
