/**
 * The CronJob controller against a real etcd and apiserver on an injected fake clock: Jobs start
 * at the scheduled minutes, and Forbid and Replace are honoured.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreEvent, CronJob, Job } from '../../pkg/api/types.js';
import { nowRFC3339 } from '../../pkg/api/meta.js';
import { isConflict, resources, type GroupVersionResource } from '../../pkg/client/rest.js';
import { FakeClock } from '../../pkg/controller/framework/clock.js';
import { workloadResources } from '../../pkg/controller/history/resources.js';
import { createNamespace, names, podTemplate, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

let cluster: Cluster;
let kcm: RunningControllerManager;
// A minute boundary ahead of the real time, so CronJobs created now are older than the fake now.
const minute0 = Math.ceil(Date.now() / 60_000) * 60_000 + 60_000;
const clock = new FakeClock(minute0 + 10_000);

before(async () => {
  cluster = await startCluster();
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['cronjob'], clock });
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

function cronJob(name: string, spec: Record<string, unknown>): CronJob {
  const t = podTemplate({ app: name });
  t.spec.restartPolicy = 'Never';
  return { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name }, spec: { schedule: '* * * * *', jobTemplate: { metadata: { labels: { cron: name } }, spec: { template: t } }, ...spec } } as CronJob;
}

const jobsOf = async (ns: string) => (await cluster.client.list<Job>(workloadResources.jobs, ns)).items.filter((j) => !j.metadata?.deletionTimestamp);
const minuteName = (cj: string, t: number) => `${cj}-${t / 60_000}`;

/** Steps the fake clock to `t` (a little past it) and lets the controller act. */
async function stepTo(t: number): Promise<void> {
  clock.setTime(t + 1_000);
  await new Promise((r) => setTimeout(r, 50));
}

test('a CronJob starts a Job at each scheduled minute, named after it and annotated; Forbid skips while one is active', async () => {
  const { client } = cluster;
  await createNamespace(client, 'cj1');
  await client.create(workloadResources.cronJobs, 'cj1', cronJob('tick', { concurrencyPolicy: 'Forbid' }));
  const first = await waitFor('the first job', async () => (await jobsOf('cj1'))[0]);
  assert.equal(first.metadata!.name, minuteName('tick', minute0));
  assert.equal(first.metadata!.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], nowRFC3339(new Date(minute0)));
  assert.equal(first.metadata!.labels!.cron, 'tick');
  assert.equal(first.metadata!.ownerReferences![0]!.kind, 'CronJob');
  const cj = await waitFor('status', async () => {
    const x = await client.get<CronJob>(workloadResources.cronJobs, 'cj1', 'tick');
    return x.status?.active?.length === 1 ? x : undefined;
  });
  assert.equal(cj.status!.lastScheduleTime, nowRFC3339(new Date(minute0)));

  // Next minute: the first Job is still active, so Forbid starts nothing.
  await stepTo(minute0 + 60_000);
  await waitFor('JobAlreadyActive event', async () => (await client.list<CoreEvent>(resources.events, 'cj1')).items.some((e) => e.reason === 'JobAlreadyActive'));
  assert.equal((await jobsOf('cj1')).length, 1);

  // The Job completes: the start time skipped under Forbid is still due (no startingDeadlineSeconds), so it starts now.
  const now = nowRFC3339(new Date(clock.now()));
  await client.updateStatus(workloadResources.jobs, { ...first, status: { startTime: now, completionTime: now, succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: now }] } });
  await waitFor('the second job', async () => names(await jobsOf('cj1')).includes(minuteName('tick', minute0 + 60_000)));
  await waitFor('SawCompletedJob event', async () => (await client.list<CoreEvent>(resources.events, 'cj1')).items.some((e) => e.reason === 'SawCompletedJob'));
  const final = await waitFor('lastSuccessfulTime', async () => {
    const x = await client.get<CronJob>(workloadResources.cronJobs, 'cj1', 'tick');
    return x.status?.lastSuccessfulTime && x.status.active?.length === 1 ? x : undefined;
  });
  assert.equal(final.status!.lastSuccessfulTime, now);
  assert.equal(final.status!.lastScheduleTime, nowRFC3339(new Date(minute0 + 60_000)));
});

test('Replace deletes the running Job and starts the new one; suspend stops new starts', async () => {
  const { client } = cluster;
  await createNamespace(client, 'cj2');
  const base = Math.floor(clock.now() / 60_000) * 60_000;
  await client.create(workloadResources.cronJobs, 'cj2', cronJob('swap', { concurrencyPolicy: 'Replace' }));
  await waitFor('first job', async () => names(await jobsOf('cj2')).join() === minuteName('swap', base));
  await stepTo(base + 60_000);
  await waitFor('replaced', async () => names(await jobsOf('cj2')).join() === minuteName('swap', base + 60_000));
  await patchMerge(workloadResources.cronJobs, 'cj2', 'swap', { spec: { suspend: true } });
  await new Promise((r) => setTimeout(r, 300));
  await stepTo(base + 120_000);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(names(await jobsOf('cj2')), [minuteName('swap', base + 60_000)]);
});
