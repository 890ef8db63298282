/**
 * The Deployment controller (with the ReplicaSet controller) against a real etcd and apiserver,
 * driven by stock kubectl where kubectl does the work (rollout status, rollout undo), and test
 * code playing the kubelet.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreEvent, Deployment, ReplicaSet } from '../../pkg/api/types.js';
import { resources } from '../../pkg/client/rest.js';
import { kubectl, kubectlOK } from '../harness/kubectl.js';
import { RolloutBounds } from '../harness/pod-watch.js';
import {
  createNamespace,
  listPods,
  podTemplate,
  startCluster,
  startControllerManager,
  startFakeKubelet,
  waitFor,
  watchPods,
  type Cluster,
  type RunningControllerManager,
} from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['deployment', 'replicaset'] });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});

function deployment(name: string, replicas: number, image: string, extra: Record<string, any> = {}): Deployment {
  const labels = { app: name };
  const template = podTemplate(labels, image);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: labels }, template, ...extra },
  } as Deployment;
}

async function replicaSets(ns: string): Promise<ReplicaSet[]> {
  return (await cluster.client.list<ReplicaSet>(resources.replicaSets, ns)).items;
}

async function getDeployment(ns: string, name: string): Promise<Deployment> {
  return cluster.client.get<Deployment>(resources.deployments, ns, name);
}

function imageOf(o: { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }): string | undefined {
  return o.spec?.template?.spec?.containers?.[0]?.image;
}

test('a Deployment makes a ReplicaSet and its pods; kubectl rollout status returns once they are ready; scaling works', async (t) => {
  const { client, kubeconfig } = cluster;
  await createNamespace(client, 'd1');
  const d = await client.create<Deployment>(resources.deployments, 'd1', deployment('web', 3, 'busybox:1.36'));
  const rs = await waitFor('one ReplicaSet', async () => (await replicaSets('d1'))[0]);
  const hash = rs.metadata!.labels!['pod-template-hash']!;
  assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(rs.metadata!.name, `web-${hash}`);
  assert.equal(rs.spec!.selector.matchLabels!['pod-template-hash'], hash);
  assert.equal(rs.spec!.template!.metadata!.labels!['pod-template-hash'], hash);
  assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
  assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], '3');
  assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/max-replicas'], '4', '3 + 25% surge rounded up');
  assert.deepEqual(rs.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  await waitFor('3 pods', async () => (await listPods(client, 'd1', 'app=web')).length === 3);

  // kubectl waits; the kubelet stand-in makes the pods ready meanwhile.
  const status = kubectl('1.33', kubeconfig, ['rollout', 'status', 'deployment/web', '-n', 'd1', '--timeout=60s']);
  const kubelet = startFakeKubelet(client, 'd1');
  t.after(() => kubelet.stop());
  const r = await status;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /deployment "web" successfully rolled out/);
  const st = (await getDeployment('d1', 'web')).status!;
  assert.equal(st.replicas, 3);
  assert.equal(st.updatedReplicas, 3);
  assert.equal(st.readyReplicas, 3);
  assert.equal(st.availableReplicas, 3);
  assert.ok(!st.unavailableReplicas);
  assert.ok(d.metadata!.generation);
  assert.equal(st.observedGeneration, (await getDeployment('d1', 'web')).metadata!.generation);
  const available = st.conditions!.find((c) => c.type === 'Available')!;
  assert.equal(available.status, 'True');
  assert.equal(available.reason, 'MinimumReplicasAvailable');
  const progressing = st.conditions!.find((c) => c.type === 'Progressing')!;
  assert.equal(progressing.reason, 'NewReplicaSetAvailable');
  assert.equal(progressing.message, `ReplicaSet "web-${hash}" has successfully progressed.`);

  await kubectlOK('1.33', kubeconfig, ['scale', 'deployment/web', '-n', 'd1', '--replicas=5']);
  await waitFor('5 ready pods', async () => (await getDeployment('d1', 'web')).status?.availableReplicas === 5);
  await kubectlOK('1.33', kubeconfig, ['scale', 'deployment/web', '-n', 'd1', '--replicas=2']);
  await waitFor('2 pods', async () => (await listPods(client, 'd1', 'app=web')).length === 2 && (await getDeployment('d1', 'web')).status?.replicas === 2);
  assert.equal((await replicaSets('d1')).length, 1, 'scaling does not make a new ReplicaSet');
  const events = (await client.list<CoreEvent>(resources.events, 'd1')).items.filter((e) => e.reason === 'ScalingReplicaSet').map((e) => e.message);
  assert.ok(events.includes(`Scaled up replica set web-${hash} from 0 to 3`), JSON.stringify(events));
  assert.ok(events.includes(`Scaled up replica set web-${hash} from 3 to 5`), JSON.stringify(events));
  assert.ok(events.includes(`Scaled down replica set web-${hash} from 5 to 2`), JSON.stringify(events));
});

test('a rolling update with maxSurge=1, maxUnavailable=0 stays within replicas+1 pods and replicas ready; rollout undo restores the template', async (t) => {
  const { client, kubeconfig } = cluster;
  await createNamespace(client, 'd2');
  const kubelet = startFakeKubelet(client, 'd2');
  t.after(() => kubelet.stop());
  await client.create(resources.deployments, 'd2', deployment('api', 3, 'busybox:1.36', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
  await waitFor('initial rollout', async () => {
    const s = (await getDeployment('d2', 'api')).status;
    return s?.availableReplicas === 3 && s.updatedReplicas === 3;
  });

  const bounds = new RolloutBounds();
  const watcher = watchPods(client, 'd2', (pods) => bounds.observe(pods));
  t.after(() => watcher.stop());
  await new Promise((r) => setTimeout(r, 200));
  await kubectlOK('1.33', kubeconfig, ['set', 'image', 'deployment/api', '-n', 'd2', 'c=busybox:1.37']);
  const r = await kubectl('1.33', kubeconfig, ['rollout', 'status', 'deployment/api', '-n', 'd2', '--timeout=90s']);
  assert.equal(r.code, 0, r.stderr);
  await waitFor('old pods gone', async () => {
    const pods = await listPods(client, 'd2');
    return pods.length === 3 && pods.every((p) => imageOf({ spec: { template: { spec: p.spec } } }) === 'busybox:1.37');
  });
  await watcher.stop();
  assert.equal(bounds.violation(3, 1, 0), undefined, bounds.violation(3, 1, 0));

  const rss = await replicaSets('d2');
  assert.equal(rss.length, 2);
  const newRS = rss.find((x) => imageOf(x) === 'busybox:1.37')!;
  const oldRS = rss.find((x) => imageOf(x) === 'busybox:1.36')!;
  assert.equal(newRS.metadata!.annotations!['deployment.kubernetes.io/revision'], '2');
  assert.equal(oldRS.spec!.replicas, 0);

  const history = await kubectlOK('1.33', kubeconfig, ['rollout', 'history', 'deployment/api', '-n', 'd2']);
  assert.match(history, /^1\s/m);
  assert.match(history, /^2\s/m);

  await kubectlOK('1.33', kubeconfig, ['rollout', 'undo', 'deployment/api', '-n', 'd2']);
  assert.equal(imageOf(await getDeployment('d2', 'api')), 'busybox:1.36');
  const undo = await kubectl('1.33', kubeconfig, ['rollout', 'status', 'deployment/api', '-n', 'd2', '--timeout=90s']);
  assert.equal(undo.code, 0, undo.stderr);
  await waitFor('the old ReplicaSet is the new one again, at revision 3', async () => {
    const all = await replicaSets('d2');
    const back = all.find((x) => x.metadata!.uid === oldRS.metadata!.uid);
    return all.length === 2 && back?.spec?.replicas === 3 && back.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '3' && back.metadata.annotations['deployment.kubernetes.io/revision-history'] === '1';
  });
  await waitFor('pods run the old image', async () => {
    const pods = await listPods(client, 'd2');
    return pods.length === 3 && pods.every((p) => p.spec?.containers?.[0]?.image === 'busybox:1.36');
  });
});

test('pause holds a template change back; resume rolls it out; revisionHistoryLimit prunes old ReplicaSets', async (t) => {
  const { client, kubeconfig } = cluster;
  await createNamespace(client, 'd3');
  const kubelet = startFakeKubelet(client, 'd3');
  t.after(() => kubelet.stop());
  await client.create(resources.deployments, 'd3', deployment('svc', 2, 'busybox:1.36', { revisionHistoryLimit: 1 }));
  await waitFor('initial rollout', async () => (await getDeployment('d3', 'svc')).status?.availableReplicas === 2);
  await kubectlOK('1.33', kubeconfig, ['rollout', 'pause', 'deployment/svc', '-n', 'd3']);
  await kubectlOK('1.33', kubeconfig, ['set', 'image', 'deployment/svc', '-n', 'd3', 'c=busybox:1.37']);
  const paused = await waitFor('the Paused condition', async () => {
    const d = await getDeployment('d3', 'svc');
    const c = d.status?.conditions?.find((x) => x.type === 'Progressing');
    return c?.reason === 'DeploymentPaused' && (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) ? c : undefined;
  });
  assert.equal(paused.status, 'Unknown');
  assert.equal((await replicaSets('d3')).length, 1, 'no new ReplicaSet while paused');

  await kubectlOK('1.33', kubeconfig, ['rollout', 'resume', 'deployment/svc', '-n', 'd3']);
  const r = await kubectl('1.33', kubeconfig, ['rollout', 'status', 'deployment/svc', '-n', 'd3', '--timeout=90s']);
  assert.equal(r.code, 0, r.stderr);
  await kubectlOK('1.33', kubeconfig, ['set', 'image', 'deployment/svc', '-n', 'd3', 'c=busybox:1.38']);
  await waitFor('third rollout done with one old ReplicaSet kept', async () => {
    const all = await replicaSets('d3');
    const d = await getDeployment('d3', 'svc');
    return all.length === 2 && all.some((x) => imageOf(x) === 'busybox:1.38') && all.some((x) => imageOf(x) === 'busybox:1.37') && d.status?.updatedReplicas === 2 && d.status.replicas === 2;
  });
});

test('Recreate scales the old ReplicaSet to zero before the new one starts', async (t) => {
  const { client, kubeconfig } = cluster;
  await createNamespace(client, 'd4');
  const kubelet = startFakeKubelet(client, 'd4');
  t.after(() => kubelet.stop());
  await client.create(resources.deployments, 'd4', deployment('job', 2, 'busybox:1.36', { strategy: { type: 'Recreate' } }));
  await waitFor('initial rollout', async () => (await getDeployment('d4', 'job')).status?.availableReplicas === 2);
  let mixed = false;
  const watcher = watchPods(client, 'd4', (pods) => {
    const images = new Set(pods.map((p) => p.spec?.containers?.[0]?.image));
    if (images.size > 1) mixed = true;
  });
  t.after(() => watcher.stop());
  await new Promise((r) => setTimeout(r, 200));
  await kubectlOK('1.33', kubeconfig, ['set', 'image', 'deployment/job', '-n', 'd4', 'c=busybox:1.37']);
  await waitFor('new pods ready', async () => {
    const pods = await listPods(client, 'd4');
    const d = await getDeployment('d4', 'job');
    return pods.length === 2 && pods.every((p) => p.spec?.containers?.[0]?.image === 'busybox:1.37') && d.status?.availableReplicas === 2 && d.status.updatedReplicas === 2;
  });
  await watcher.stop();
  assert.equal(mixed, false, 'old and new pods never ran together');
});

test('no progress within progressDeadlineSeconds sets Progressing=False with ProgressDeadlineExceeded', async () => {
  const { client, kubeconfig } = cluster;
  await createNamespace(client, 'd5');
  await client.create(resources.deployments, 'd5', deployment('stuck', 1, 'busybox:1.36', { progressDeadlineSeconds: 2 }));
  const cond = await waitFor(
    'ProgressDeadlineExceeded',
    async () => (await getDeployment('d5', 'stuck')).status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded'),
    30_000,
    200,
  );
  assert.equal(cond.status, 'False');
  assert.match(cond.message!, /^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
  const r = await kubectl('1.33', kubeconfig, ['rollout', 'status', 'deployment/stuck', '-n', 'd5', '--timeout=20s']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /exceeded its progress deadline/);
});
