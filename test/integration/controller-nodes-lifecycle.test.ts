/**
 * Node lifecycle and taint eviction against a real etcd and apiserver, with test code playing
 * the kubelets (Lease renewals, node and pod status) and the scheduler (bindings): a node that
 * stops renewing its Lease goes Unknown and tainted within the grace period, its pods are marked
 * not ready and evicted after their tolerationSeconds, the ReplicaSet replaces them on the
 * healthy node, and the taints go once the node is back.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease, Node, Pod, ReplicaSet } from '../../pkg/api/types.js';
import { isAlreadyExists, resources } from '../../pkg/client/rest.js';
import { createNamespace, listPods, podTemplate, setPodReady, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;
const stops: (() => void)[] = [];

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['nodelifecycle', 'taint-eviction-controller', 'replicaset'], nodeMonitorGracePeriodMs: 2_000, nodeMonitorPeriodMs: 200 });
  await kcm.url;
});

after(async () => {
  for (const s of stops) s();
  await kcm?.stop();
  await cluster?.stop();
});

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

async function createReadyNode(name: string): Promise<void> {
  const { client } = cluster;
  const node = await client.create<Node>(resources.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
  await client.updateStatus<Node>(resources.nodes, { ...node, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now(), lastTransitionTime: now() }] } });
}

/** Plays a kubelet's Lease loop: renews every 300ms until stopped. */
function renewLease(name: string): () => void {
  let stopped = false;
  void (async () => {
    const { client } = cluster;
    while (!stopped) {
      const micro = new Date().toISOString().replace('Z', '000Z');
      try {
        const cur = await client.get<Lease>(resources.leases, 'kube-node-lease', name);
        await client.update<Lease>(resources.leases, { ...cur, spec: { ...cur.spec, renewTime: micro } });
      } catch {
        await client.create<Lease>(resources.leases, 'kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: micro } }).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  const stop = () => (stopped = true);
  stops.push(stop);
  return stop;
}

/** Plays the scheduler: binds unbound pods to `target()` and marks them running and ready. */
function bindPods(ns: string, target: () => string): void {
  let stopped = false;
  stops.push(() => (stopped = true));
  void (async () => {
    const { client } = cluster;
    while (!stopped) {
      try {
        for (const p of await listPods(client, ns)) {
          if (p.spec?.nodeName || p.metadata?.deletionTimestamp) continue;
          await client.request('POST', `/api/v1/namespaces/${ns}/pods/${p.metadata!.name}/binding`, { body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: p.metadata!.name }, target: { kind: 'Node', name: target() } } });
          await setPodReady(client, p);
        }
      } catch {
        // Pods come and go; the next round tries again.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
}

test('a node that stops renewing its Lease goes Unknown and tainted; its pods are evicted after tolerationSeconds and replaced', async () => {
  const { client } = cluster;
  await client.create(resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-node-lease' } }).catch((e) => {
    if (!isAlreadyExists(e)) throw e;
  });
  await createNamespace(client, 'nl1');
  await createReadyNode('bad');
  await createReadyNode('good');
  const stopBad = renewLease('bad');
  renewLease('good');
  let target = 'bad';
  bindPods('nl1', () => target);

  const template = podTemplate({ app: 'web' });
  template.spec.tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }];
  await client.create<ReplicaSet>(resources.replicaSets, 'nl1', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } });
  await waitFor('2 pods ready on bad', async () => {
    const p = (await listPods(client, 'nl1')).filter((x) => x.spec?.nodeName === 'bad' && x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return p.length === 2 ? p : undefined;
  });

  // The healthy node stays untouched for longer than the grace period.
  await new Promise((r) => setTimeout(r, 2_500));
  const good = await client.get<Node>(resources.nodes, undefined, 'good');
  assert.equal(good.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
  assert.equal(good.spec?.taints, undefined);

  stopBad();
  const stoppedAt = Date.now();
  target = 'good';
  const bad = await waitFor(
    'bad Unknown and tainted',
    async () => {
      const n = await client.get<Node>(resources.nodes, undefined, 'bad');
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown' && (n.spec?.taints?.length ?? 0) === 2 ? n : undefined;
    },
    10_000,
  );
  assert.ok(Date.now() - stoppedAt < 5_000, 'within the grace period and a monitor period or two');
  const ready = bad.status!.conditions!.find((c) => c.type === 'Ready')!;
  assert.equal(ready.reason, 'NodeStatusUnknown');
  assert.equal(ready.message, 'Kubelet stopped posting node status.');
  assert.deepEqual(bad.spec!.taints!.map((t) => `${t.key}:${t.effect}`).sort(), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);

  // Marked not ready; then evicted after the 2s toleration and replaced on the good node.
  const marked = await waitFor('pods on bad not ready', async () => {
    const p = (await listPods(client, 'nl1')).filter((x) => x.spec?.nodeName === 'bad');
    return p.length > 0 && p.every((x) => x.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False');
  });
  assert.ok(marked);
  await waitFor(
    '2 ready pods on good, none on bad',
    async () => {
      const p = await listPods(client, 'nl1');
      return p.length === 2 && p.every((x: Pod) => x.spec?.nodeName === 'good' && x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    },
    15_000,
  );

  // The kubelet comes back: Ready again, and the controller lifts the taints.
  renewLease('bad');
  const cur = await client.get<Node>(resources.nodes, undefined, 'bad');
  await client.updateStatus<Node>(resources.nodes, { ...cur, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now(), lastTransitionTime: now() }] } });
  await waitFor('taints lifted', async () => ((await client.get<Node>(resources.nodes, undefined, 'bad')).spec?.taints ?? []).length === 0);
});
