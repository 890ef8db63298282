/**
 * The StatefulSet controller against a real etcd and apiserver, with test code playing the
 * kubelet: ordered creation, reverse-order scale-down, claims, revisions and rolling updates.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, PersistentVolumeClaim, Pod, StatefulSet } from '../../pkg/api/types.js';
import { isConflict, resources, type GroupVersionResource } from '../../pkg/client/rest.js';
import { workloadResources } from '../../pkg/controller/history/resources.js';
import { createNamespace, listPods, names, podTemplate, setPodReady, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['statefulset'] });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});


/** A merge patch, retried on a Conflict (the apiserver can answer one while status writes race). */
async function patchMerge(gvr: GroupVersionResource, ns: string | undefined, name: string, body: unknown): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await cluster.client.patch(gvr, ns, name, 'merge', body);
      return;
    } catch (e) {
      if (i >= 5 || !isConflict(e)) throw e;
    }
  }
}

function sts(name: string, replicas: number, extra: Record<string, unknown> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: { replicas, serviceName: `${name}-svc`, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }), ...extra },
  } as StatefulSet;
}

const getSet = (ns: string, name: string) => cluster.client.get<StatefulSet>(workloadResources.statefulSets, ns, name);

test('OrderedReady: pods are created one by one, each once the previous is Ready, and removed in reverse', async () => {
  const { client } = cluster;
  await createNamespace(client, 'sts1');
  const claim = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
  await client.create(workloadResources.statefulSets, 'sts1', sts('web', 3, { volumeClaimTemplates: [claim] }));
  for (let i = 0; i < 3; i++) {
    const pod = await waitFor(`web-${i}`, async () => (await listPods(client, 'sts1')).find((p) => p.metadata!.name === `web-${i}`));
    // Nothing further until this one is Ready.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(names(await listPods(client, 'sts1')), Array.from({ length: i + 1 }, (_, k) => `web-${k}`));
    assert.equal(pod.spec!.hostname, `web-${i}`);
    assert.equal(pod.spec!.subdomain, 'web-svc');
    assert.equal(pod.metadata!.labels!['statefulset.kubernetes.io/pod-name'], `web-${i}`);
    assert.equal(pod.metadata!.labels!['apps.kubernetes.io/pod-index'], String(i));
    assert.equal(pod.spec!.volumes!.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName, `data-web-${i}`);
    await setPodReady(client, pod);
  }
  const st = await waitFor('status ready 3', async () => {
    const s = await getSet('sts1', 'web');
    return s.status?.readyReplicas === 3 && s.status.availableReplicas === 3 ? s.status : undefined;
  });
  assert.equal(st.replicas, 3);
  assert.equal(st.currentReplicas, 3);
  assert.equal(st.updatedReplicas, 3);
  assert.equal(st.currentRevision, st.updateRevision);
  assert.match(st.currentRevision!, /^web-[a-z0-9]+$/);
  const pvcs = (await client.list<PersistentVolumeClaim>(workloadResources.persistentVolumeClaims, 'sts1')).items;
  assert.deepEqual(names(pvcs), ['data-web-0', 'data-web-1', 'data-web-2']);

  // Scale down to 1: web-2 goes first, and web-1 only after web-2 is gone.
  const seen: string[][] = [];
  await patchMerge(workloadResources.statefulSets, 'sts1', 'web', { spec: { replicas: 1 } });
  await waitFor('one pod left', async () => {
    const n = names(await listPods(client, 'sts1'));
    if (seen.length === 0 || seen[seen.length - 1]!.join() !== n.join()) seen.push(n);
    return n.length === 1 ? n : undefined;
  });
  for (const n of seen) assert.ok(n[0] === 'web-0' && (n.length < 3 || n[2] === 'web-2') && (n.length < 2 || n[1] === 'web-1'), `ordered: ${JSON.stringify(seen)}`);
  assert.ok(!seen.some((n) => n.join() === 'web-0,web-2'), 'web-1 never went before web-2');
  // Claims stay (whenScaled Retain).
  assert.equal((await client.list<PersistentVolumeClaim>(workloadResources.persistentVolumeClaims, 'sts1')).items.length, 3);
});

test('Parallel creates every pod at once; a rolling update with a partition replaces from the top, one at a time', async () => {
  const { client } = cluster;
  await createNamespace(client, 'sts2');
  await client.create(workloadResources.statefulSets, 'sts2', sts('db', 3, { podManagementPolicy: 'Parallel' }));
  const pods = await waitFor('3 pods at once', async () => {
    const p = await listPods(client, 'sts2');
    return p.length === 3 ? p : undefined;
  });
  await Promise.all(pods.map((p) => setPodReady(client, p)));
  const before = await waitFor('ready', async () => {
    const s = await getSet('sts2', 'db');
    return s.status?.readyReplicas === 3 ? s : undefined;
  });
  const rev1 = before.status!.updateRevision!;

  // A new template with partition 1: db-2 then db-1 are replaced, db-0 stays.
  await patchMerge(workloadResources.statefulSets, 'sts2', 'db', {
    spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }, template: { metadata: { labels: { app: 'db', v: '2' } } } },
  });
  const rev2 = await waitFor('updateRevision changes', async () => {
    const s = await getSet('sts2', 'db');
    return s.status?.updateRevision && s.status.updateRevision !== rev1 ? s.status.updateRevision : undefined;
  });
  for (const name of ['db-2', 'db-1']) {
    const p = await waitFor(`${name} recreated at the new revision`, async () => {
      const x = (await listPods(client, 'sts2')).find((q) => q.metadata!.name === name);
      return x && x.metadata!.labels!['controller-revision-hash'] === rev2 && !x.metadata!.deletionTimestamp ? x : undefined;
    });
    // The next one is not touched before this one is Ready.
    const others = (await listPods(client, 'sts2')).filter((q) => q.metadata!.name !== name && q.metadata!.labels!['controller-revision-hash'] === rev2);
    assert.ok(others.every((q) => q.metadata!.name === 'db-2'), `one at a time: ${names(others)}`);
    await setPodReady(client, p);
  }
  const s = await waitFor('partitioned rollout done', async () => {
    const x = await getSet('sts2', 'db');
    return x.status?.updatedReplicas === 2 && x.status.readyReplicas === 3 ? x : undefined;
  });
  assert.equal(s.status!.currentRevision, rev1);
  const db0 = (await listPods(client, 'sts2')).find((q) => q.metadata!.name === 'db-0')!;
  assert.equal(db0.metadata!.labels!['controller-revision-hash'], rev1);

  const revs = (await client.list<ControllerRevision>(workloadResources.controllerRevisions, 'sts2')).items;
  assert.deepEqual(revs.map((r) => [r.metadata!.name, r.revision]).sort(), [[rev1, 1], [rev2, 2]].sort());

  // Partition 0 finishes the rollout; the update revision becomes current.
  await patchMerge(workloadResources.statefulSets, 'sts2', 'db', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
  const p0 = await waitFor('db-0 updated', async () => {
    const x = (await listPods(client, 'sts2')).find((q) => q.metadata!.name === 'db-0');
    return x && x.metadata!.labels!['controller-revision-hash'] === rev2 ? x : undefined;
  });
  await setPodReady(client, p0);
  await waitFor('currentRevision = updateRevision', async () => {
    const x = await getSet('sts2', 'db');
    return x.status?.currentRevision === rev2 && x.status.currentReplicas === 3 && x.status.observedGeneration === x.metadata!.generation;
  });
});

test('a failed pod is replaced under the same name', async () => {
  const { client } = cluster;
  await createNamespace(client, 'sts3');
  await client.create(workloadResources.statefulSets, 'sts3', sts('q', 1));
  const p = await waitFor('q-0', async () => (await listPods(client, 'sts3'))[0]);
  await client.updateStatus<Pod>(resources.pods, { ...p, status: { phase: 'Failed' } });
  await waitFor('q-0 replaced', async () => {
    const x = (await listPods(client, 'sts3'))[0];
    return x && x.metadata!.uid !== p.metadata!.uid;
  });
});
