/**
 * The Job and TTL-after-finished controllers against a real etcd and apiserver, with test code
 * playing the kubelet by finishing pods.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreEvent, Job, Pod } from '../../pkg/api/types.js';
import { nowRFC3339 } from '../../pkg/api/meta.js';
import { isConflict, isNotFound, resources, type RestClient } from '../../pkg/client/rest.js';
import { workloadResources } from '../../pkg/controller/history/resources.js';
import { createNamespace, listPods, podTemplate, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['job', 'ttl-after-finished', 'garbagecollector'] });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});

function job(name: string, spec: Record<string, unknown>): Job {
  const t = podTemplate({ app: name });
  t.spec.restartPolicy = 'Never';
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { template: t, ...spec } } as Job;
}

/** Plays the kubelet: the pod ran to the end with this exit code. */
async function finishPod(client: RestClient, pod: Pod, exitCode: number): Promise<void> {
  for (let i = 0; i < 10; i++) {
    try {
      const cur = await client.get<Pod>(resources.pods, pod.metadata!.namespace, pod.metadata!.name!);
      const now = nowRFC3339();
      const terminated = { exitCode, reason: exitCode ? 'Error' : 'Completed', startedAt: now, finishedAt: now };
      await client.updateStatus<Pod>(resources.pods, { ...cur, status: { phase: exitCode ? 'Failed' : 'Succeeded', startTime: now, containerStatuses: [{ name: 'c', image: 'busybox:1.36', imageID: '', ready: false, restartCount: 0, state: { terminated } }] } });
      return;
    } catch (e) {
      if (isNotFound(e)) return;
      if (!isConflict(e)) throw e;
    }
  }
}

const running = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
const getJob = (ns: string, name: string) => cluster.client.get<Job>(workloadResources.jobs, ns, name);

test('completions=3 parallelism=2: never more than 2 pods at once, then Complete', async () => {
  const { client } = cluster;
  await createNamespace(client, 'job1');
  await client.create(workloadResources.jobs, 'job1', job('pi', { completions: 3, parallelism: 2 }));
  for (let done = 0; done < 3; done++) {
    const active = await waitFor(`active pods after ${done} done`, async () => {
      const p = (await listPods(client, 'job1')).filter(running);
      return p.length === Math.min(2, 3 - done) ? p : undefined;
    });
    assert.ok(active.every((p) => p.metadata!.finalizers?.includes('batch.kubernetes.io/job-tracking')));
    await finishPod(client, active[0]!, 0);
    await waitFor(`succeeded=${done + 1}`, async () => ((await getJob('job1', 'pi')).status?.succeeded ?? 0) === done + 1);
  }
  const j = await waitFor('Complete', async () => {
    const x = await getJob('job1', 'pi');
    return x.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? x : undefined;
  });
  assert.equal(j.status!.succeeded, 3);
  assert.ok(j.status!.completionTime);
  assert.ok(j.status!.startTime);
  assert.equal(j.status!.active ?? 0, 0);
  assert.ok(j.status!.conditions!.some((c) => c.type === 'SuccessCriteriaMet' && c.status === 'True'));
  // Finalizers are gone from every finished pod.
  await waitFor('finalizers removed', async () => (await listPods(client, 'job1')).every((p) => !p.metadata!.finalizers?.length));
  const reasons = (await client.list<CoreEvent>(resources.events, 'job1')).items.map((e) => e.reason);
  assert.ok(reasons.includes('SuccessfulCreate'));
  await waitFor('Completed event', async () => (await client.list<CoreEvent>(resources.events, 'job1')).items.some((e) => e.reason === 'Completed'));
});

test('a failing pod over backoffLimit fails the Job with BackoffLimitExceeded', async () => {
  const { client } = cluster;
  await createNamespace(client, 'job2');
  await client.create(workloadResources.jobs, 'job2', job('bad', { backoffLimit: 0 }));
  const pod = await waitFor('a pod', async () => (await listPods(client, 'job2'))[0]);
  await finishPod(client, pod, 1);
  const j = await waitFor('Failed', async () => {
    const x = await getJob('job2', 'bad');
    return x.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') ? x : undefined;
  });
  const failed = j.status!.conditions!.find((c) => c.type === 'Failed')!;
  assert.equal(failed.reason, 'BackoffLimitExceeded');
  assert.equal(j.status!.failed, 1);
  assert.ok(j.status!.conditions!.some((c) => c.type === 'FailureTarget'));
  await waitFor('BackoffLimitExceeded event', async () => (await client.list<CoreEvent>(resources.events, 'job2')).items.some((e) => e.reason === 'BackoffLimitExceeded'));
  // No replacement pod.
  assert.equal((await listPods(client, 'job2')).length, 1);
});

test('an Indexed job runs every index with JOB_COMPLETION_INDEX and records completedIndexes', async () => {
  const { client } = cluster;
  await createNamespace(client, 'job3');
  await client.create(workloadResources.jobs, 'job3', job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
  const pods = await waitFor('3 pods', async () => {
    const p = (await listPods(client, 'job3')).filter(running);
    return p.length === 3 ? p : undefined;
  });
  const idx = pods.map((p) => p.metadata!.annotations!['batch.kubernetes.io/job-completion-index']).sort();
  assert.deepEqual(idx, ['0', '1', '2']);
  for (const p of pods) {
    const i = p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'];
    assert.equal(p.metadata!.labels!['batch.kubernetes.io/job-completion-index'], i);
    assert.equal(p.spec!.hostname, `idx-${i}`);
    assert.ok(p.spec!.containers[0]!.env!.some((e) => e.name === 'JOB_COMPLETION_INDEX'));
  }
  await finishPod(client, pods.find((p) => p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'] === '1')!, 0);
  await waitFor('completedIndexes=1', async () => (await getJob('job3', 'idx')).status?.completedIndexes === '1');
  for (const p of pods) await finishPod(client, p, 0);
  const j = await waitFor('Complete', async () => {
    const x = await getJob('job3', 'idx');
    return x.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? x : undefined;
  });
  assert.equal(j.status!.completedIndexes, '0-2');
  assert.equal(j.status!.succeeded, 3);
});

test('podFailurePolicy: Ignore does not count, FailJob fails the Job at once', async () => {
  const { client } = cluster;
  await createNamespace(client, 'job4');
  await client.create(
    workloadResources.jobs,
    'job4',
    job('pfp', {
      backoffLimit: 6,
      podFailurePolicy: {
        rules: [
          { action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } },
          { action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } },
        ],
      },
    }),
  );
  const first = await waitFor('a pod', async () => (await listPods(client, 'job4')).filter(running)[0]);
  await finishPod(client, first, 3);
  // Ignored: replaced at once (no backoff), and not counted.
  const second = await waitFor('a replacement', async () => (await listPods(client, 'job4')).filter(running).find((p) => p.metadata!.uid !== first.metadata!.uid));
  assert.equal((await getJob('job4', 'pfp')).status?.failed ?? 0, 0);
  await finishPod(client, second, 42);
  const j = await waitFor('Failed', async () => {
    const x = await getJob('job4', 'pfp');
    return x.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True') ? x : undefined;
  });
  const c = j.status!.conditions!.find((x) => x.type === 'Failed')!;
  assert.equal(c.reason, 'PodFailurePolicy');
  assert.match(c.message!, /Container c for pod job4\/pfp-\w+ failed with exit code 42 matching FailJob rule at index 1/);
});

test('suspend deletes the active pods; a finished Job with ttlSecondsAfterFinished=0 is deleted', async () => {
  const { client } = cluster;
  await createNamespace(client, 'job5');
  await client.create(workloadResources.jobs, 'job5', job('s', { parallelism: 2, completions: 2 }));
  await waitFor('2 pods', async () => (await listPods(client, 'job5')).filter(running).length === 2);
  // The apiserver can answer a merge patch with a Conflict while status writes race: retry.
  for (let i = 0; ; i++) {
    try {
      await client.patch(workloadResources.jobs, 'job5', 's', 'merge', { spec: { suspend: true } });
      break;
    } catch (e) {
      if (i >= 5 || !isConflict(e)) throw e;
    }
  }
  const j = await waitFor('Suspended, no active pods', async () => {
    const x = await getJob('job5', 's');
    return x.status?.conditions?.some((c) => c.type === 'Suspended' && c.status === 'True') && (await listPods(client, 'job5')).length === 0 ? x : undefined;
  });
  assert.equal(j.status!.active ?? 0, 0);

  await client.create(workloadResources.jobs, 'job5', job('ttl', { ttlSecondsAfterFinished: 0 }));
  const pod = await waitFor('ttl pod', async () => (await listPods(client, 'job5', 'app=ttl'))[0]);
  await finishPod(client, pod, 0);
  await waitFor('the job is deleted', async () => {
    try {
      await getJob('job5', 'ttl');
      return false;
    } catch (e) {
      return isNotFound(e);
    }
  });
});
