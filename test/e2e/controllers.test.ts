/**
 * The controller-manager's acceptance scenarios on a real launcher cluster: two simulated nodes
 * with real kubelets on containerd and CNI, so every pod really runs and Ready comes from real
 * containers and probes. Stock kubectl 1.33 drives what a user would type. The integration tests
 * (test/integration/controller-*.test.ts) cover the same ground with fake nodes and more edge cases.
 *
 * The scenarios run concurrently, one namespace each, to stay within the CI time budget. Two of
 * them disturb the cluster on purpose: the controller-manager failover kills the leading
 * kube-controller-manager (the standby it started leads from then on: the others only wait a
 * lease period), and the node loss kills node-2's kubelet, so it runs once every scenario that
 * may have pods on node-2 is done (the CronJob one keeps its pods on node-1), and starts it again
 * at the end.
 */
import { describe, test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { up, down, defaultClusterOptions, type ClusterOptions } from '../../pkg/launcher/cluster.js';
import { ProcessManager } from '../../pkg/launcher/process.js';
import { defaultHostNetwork, nodeNetwork } from '../../pkg/launcher/network.js';
import { loadKubeConfig } from '../../pkg/client/kubeconfig.js';
import { RestClient, isNotFound, resources, type GroupVersionResource } from '../../pkg/client/rest.js';
import type { Pod } from '../../pkg/api/types.js';
import { launcherClusterSkip, until as waitUntil } from '../harness/cluster.js';
import { kubectl, kubectlOK } from '../harness/kubectl.js';
import { RolloutBounds, isPodReady, livePods, watchNamespacePods } from '../harness/pod-watch.js';

const skip = launcherClusterSkip();
let opts: ClusterOptions;
let kubeconfig = '';
let client: RestClient;
const lines: string[] = [];

const gvr = (group: string, version: string, resource: string): GroupVersionResource => ({ group, version, resource });
const statefulSets = gvr('apps', 'v1', 'statefulsets');
const daemonSets = gvr('apps', 'v1', 'daemonsets');
const jobs = gvr('batch', 'v1', 'jobs');

const k = (args: string[], input?: string) => kubectlOK('1.33', kubeconfig, args, { timeoutMs: 240_000, input });
const apply = (ns: string, ...objs: object[]) => k(['apply', '-n', ns, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }));

const until = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 180_000, intervalMs = 1000): Promise<T> => waitUntil(what, fn, timeoutMs, intervalMs);

async function pods(ns: string, labelSelector?: string): Promise<Pod[]> {
  return (await client.list<Pod>(resources.pods, ns, labelSelector ? { labelSelector } : {})).items;
}

async function getOrUndefined<T>(g: GroupVersionResource, ns: string | undefined, name: string): Promise<T | undefined> {
  try {
    return (await client.get(g, ns, name)) as T;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Waits until exactly `n` pods match (terminating ones included) and every one is Ready. */
function readyPods(ns: string, selector: string, n: number, timeoutMs?: number): Promise<Pod[]> {
  return until(
    `${n} ready pods ${selector} in ${ns}`,
    async () => {
      const all = await pods(ns, selector);
      return all.length === n && all.every((p) => isPodReady(p) && !p.metadata?.deletionTimestamp) ? all : undefined;
    },
    timeoutMs,
  );
}

const envOf = (p: { spec?: { containers?: { env?: { name?: string; value?: string }[] }[] } } | undefined, name: string) => p?.spec?.containers?.[0]?.env?.find((e) => e.name === name)?.value;

/** A pod spec whose container ignores SIGTERM (sleep as pid 1): a short grace period keeps deletions quick. */
function podSpec(extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) {
  return { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], ...container }], ...extra };
}

function deployment(name: string, replicas: number, spec: Record<string, unknown> = {}, podExtra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: name } }, spec: podSpec(podExtra, container) },
      ...spec,
    },
  };
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  if (skip) return;
  opts = { ...defaultClusterOptions(fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-cluster-'))), nodes: 2, log: (l) => lines.push(l) };
  kubeconfig = await up(opts);
  process.stderr.write(`# ${lines.at(-1)}\n`);
  client = new RestClient(loadKubeConfig(kubeconfig), 'e2e-controllers');
});

after(async () => {
  if (skip || !opts) return;
  await client?.close();
  await down({ ...opts, reset: true });
});

/** Scenarios that may have pods on node-2: the node loss waits for all of them. */
const mayUseNode2: Promise<void>[] = [];

function scenario(name: string, fn: (t: TestContext) => Promise<void>, { usesNode2 = true } = {}): void {
  let done!: () => void;
  if (usesNode2) mayUseNode2.push(new Promise<void>((r) => (done = r)));
  test(name, { skip }, async (t) => {
    try {
      await fn(t);
    } finally {
      done?.();
    }
  });
}

describe('controllers on real kubelets', { concurrency: true }, () => {
  scenario('Deployment: ReplicaSet and pods, scale up and down, a bounded rolling update, rollout status and undo', async () => {
    const ns = 'e2e-deploy';
    await k(['create', 'namespace', ns]);
    await apply(ns, deployment('web', 2));
    await readyPods(ns, 'app=web', 2);
    const rs1 = (await client.list<any>(resources.replicaSets, ns)).items;
    assert.equal(rs1.length, 1);
    assert.equal(rs1[0].metadata.ownerReferences?.[0]?.name, 'web');

    await k(['scale', 'deployment/web', '-n', ns, '--replicas=5']);
    await readyPods(ns, 'app=web', 5);
    await k(['scale', 'deployment/web', '-n', ns, '--replicas=3']);
    await readyPods(ns, 'app=web', 3);
    const rs2 = (await client.list<any>(resources.replicaSets, ns)).items;
    assert.deepEqual(
      rs2.map((r: any) => [r.metadata.uid, r.spec.replicas]),
      [[rs1[0].metadata.uid, 3]],
      'scaling keeps the one ReplicaSet',
    );

    // A rolling update, watched throughout: never more than replicas+1 pods nor fewer than replicas ready.
    const bounds = new RolloutBounds();
    const watch = await watchNamespacePods(client, ns, (_ev, all) => bounds.observe(all));
    try {
      bounds.observe(watch.pods());
      await k(['set', 'env', 'deployment/web', '-n', ns, 'VERSION=2']);
      const status = await kubectl('1.33', kubeconfig, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=200s'], { timeoutMs: 220_000 });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /deployment "web" successfully rolled out/);
      // rollout status returned: the new pods are the live ones and they are Ready.
      const live = livePods(await pods(ns, 'app=web'));
      assert.equal(live.length, 3);
      assert.ok(live.every((p) => isPodReady(p) && envOf(p, 'VERSION') === '2'), 'every live pod runs the new template and is Ready');
    } finally {
      await watch.stop();
    }
    assert.equal(bounds.violation(3, 1, 0), undefined, bounds.violation(3, 1, 0));
    const rs3 = (await client.list<any>(resources.replicaSets, ns)).items;
    assert.equal(rs3.length, 2);
    const newRS = rs3.find((r: any) => envOf(r.spec.template, 'VERSION') === '2');
    assert.equal(newRS.metadata.annotations['deployment.kubernetes.io/revision'], '2');
    assert.equal(rs3.find((r: any) => r !== newRS).spec.replicas, 0);

    // rollout undo brings back the first template, in the first ReplicaSet, as revision 3.
    await k(['rollout', 'undo', 'deployment/web', '-n', ns]);
    const d = JSON.parse(await k(['get', 'deployment/web', '-n', ns, '-o', 'json']));
    assert.equal(envOf(d.spec.template, 'VERSION'), undefined);
    const undo = await kubectl('1.33', kubeconfig, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=200s'], { timeoutMs: 220_000 });
    assert.equal(undo.code, 0, undo.stderr);
    const back = await until('the first ReplicaSet back at revision 3 with every pod', async () => {
      const r = (await client.list<any>(resources.replicaSets, ns)).items.find((x: any) => x.metadata.uid === rs1[0].metadata.uid);
      const live = livePods(await pods(ns, 'app=web'));
      return r?.spec.replicas === 3 && live.length === 3 && live.every((p) => isPodReady(p) && envOf(p, 'VERSION') === undefined) ? r : undefined;
    });
    assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision'], '3');
  });

  scenario('deletion: background removes ReplicaSets and pods, --cascade=orphan strips ownerReferences, foreground waits for the children', async () => {
    const ns = 'e2e-delete';
    await k(['create', 'namespace', ns]);
    // sleep as pid 1 ignores SIGTERM: the foreground pods take their whole 5s grace period.
    await apply(ns, deployment('bg', 2), deployment('orphan', 2), deployment('fg', 2, {}, { terminationGracePeriodSeconds: 5 }));
    await Promise.all(['bg', 'orphan', 'fg'].map((a) => readyPods(ns, `app=${a}`, 2)));
    const rsOf = async (app: string) => (await client.list<any>(resources.replicaSets, ns, { labelSelector: `app=${app}` })).items;

    await k(['delete', 'deployment/bg', '-n', ns]);
    await until('bg ReplicaSets and pods gone', async () => (await rsOf('bg')).length === 0 && (await pods(ns, 'app=bg')).length === 0);

    const orphanRS = (await rsOf('orphan'))[0];
    await k(['delete', 'deployment/orphan', '-n', ns, '--cascade=orphan']);
    // kubectl waited for the Deployment to go, which the orphan finalizer held until the owner references went.
    const [left] = await rsOf('orphan');
    assert.equal(left?.metadata.uid, orphanRS.metadata.uid, 'the ReplicaSet stays');
    assert.deepEqual(left.metadata.ownerReferences ?? [], [], 'without an owner');
    const orphans = await pods(ns, 'app=orphan');
    assert.equal(livePods(orphans).length, 2, 'its pods stay');
    assert.ok(orphans.every((p) => p.metadata?.ownerReferences?.[0]?.uid === orphanRS.metadata.uid));

    await k(['delete', 'deployment/fg', '-n', ns, '--cascade=foreground', '--wait=false']);
    let sawWaiting = false;
    await until(
      'the foreground deletion',
      async () => {
        const d = await getOrUndefined<any>(resources.deployments, ns, 'fg');
        const children = (await pods(ns, 'app=fg')).length + (await rsOf('fg')).length;
        if (d) {
          if (d.metadata.deletionTimestamp && d.metadata.finalizers?.includes('foregroundDeletion') && children > 0) sawWaiting = true;
          return false;
        }
        // The Deployment went only after every child: read after it, the children are gone too.
        assert.equal(children, 0, 'the Deployment went before its children');
        return true;
      },
      180_000,
      250,
    );
    assert.ok(sawWaiting, 'the Deployment was seen waiting with foregroundDeletion while its children went');
  });

  scenario('StatefulSet: pods created in order, each once the previous is Ready; removed in reverse on scale-down', async () => {
    const ns = 'e2e-sts';
    await k(['create', 'namespace', ns]);
    const created: { name: string; previousReady: boolean }[] = [];
    const log: string[] = [];
    const startedDeleting = new Set<string>();
    const watch = await watchNamespacePods(client, ns, (ev, all) => {
      const name = ev.pod.metadata!.name!;
      if (ev.type === 'ADDED') {
        const ord = Number(name.slice(name.lastIndexOf('-') + 1));
        const prev = all.find((p) => p.metadata?.name === `web-${ord - 1}`);
        created.push({ name, previousReady: ord === 0 || (!!prev && isPodReady(prev) && !prev.metadata?.deletionTimestamp) });
      }
      if ((ev.pod.metadata?.deletionTimestamp || ev.type === 'DELETED') && !startedDeleting.has(name)) {
        startedDeleting.add(name);
        log.push(`delete ${name}`);
      }
      if (ev.type === 'DELETED') log.push(`gone ${name}`);
    });
    try {
      const labels = { app: 'web' };
      await apply(
        ns,
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: 'None', selector: labels, ports: [{ port: 8080 }] } },
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: { name: 'web' },
          spec: {
            replicas: 3,
            serviceName: 'web',
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: podSpec({}, {
                // Ready only once httpd listens, two seconds after the container starts.
                command: ['sh', '-c', 'sleep 2; exec httpd -f -p 8080 -h /etc'],
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              }),
            },
          },
        },
      );
      await until('3 ready replicas', async () => (await client.get<any>(statefulSets, ns, 'web')).status?.readyReplicas === 3);
      assert.deepEqual(
        created.map((c) => c.name),
        ['web-0', 'web-1', 'web-2'],
      );
      assert.deepEqual(
        created.filter((c) => !c.previousReady).map((c) => c.name),
        [],
        'each pod was created only once the previous one was Ready',
      );
      const running = await pods(ns, 'app=web');
      assert.ok(running.every((p) => p.spec?.hostname === p.metadata?.name && p.spec?.subdomain === 'web'));

      await k(['scale', 'statefulset/web', '-n', ns, '--replicas=1']);
      await until('only web-0 left', async () => {
        const all = await pods(ns, 'app=web');
        return all.length === 1 && all[0]!.metadata?.name === 'web-0';
      });
    } finally {
      await watch.stop();
    }
    assert.deepEqual(log, ['delete web-2', 'gone web-2', 'delete web-1', 'gone web-1'], 'web-2 first, and web-1 only once web-2 is gone');
  });

  scenario('DaemonSet: one Ready pod on each node', async () => {
    const ns = 'e2e-ds';
    await k(['create', 'namespace', ns]);
    const labels = { app: 'agent' };
    await apply(ns, { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec() } } });
    const ds = await until('both daemon pods ready', async () => {
      const d = await client.get<any>(daemonSets, ns, 'agent');
      return d.status?.numberReady === 2 ? d : undefined;
    });
    assert.equal(ds.status.desiredNumberScheduled, 2);
    const nodes = (await client.list<any>(resources.nodes)).items.map((n: any) => n.metadata.name).sort();
    const placed = livePods(await pods(ns, 'app=agent'));
    assert.deepEqual(placed.map((p) => p.spec?.nodeName).sort(), nodes, 'one pod per node');
    assert.ok(placed.every(isPodReady));
  });

  scenario('Jobs: completions=3 parallelism=2 completes; failing pods stop at backoffLimit; an Indexed job finishes every index', async () => {
    const ns = 'e2e-jobs';
    await k(['create', 'namespace', ns]);
    const job = (name: string, spec: Record<string, unknown>, command: string) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: { ...spec, template: { spec: podSpec({ restartPolicy: 'Never' }, { command: ['sh', '-c', command] }) } },
    });
    let maxActive = 0;
    const watch = await watchNamespacePods(client, ns, (_ev, all) => {
      const active = livePods(all).filter((p) => p.metadata?.ownerReferences?.[0]?.name === 'three' && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
      maxActive = Math.max(maxActive, active.length);
    });
    try {
      await apply(
        ns,
        job('three', { completions: 3, parallelism: 2 }, 'sleep 2'),
        job('fails', { backoffLimit: 1 }, 'exit 1'),
        job('indexed', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, 'test -n "$JOB_COMPLETION_INDEX"'),
      );
      const wait = (name: string, cond: string) => k(['wait', '-n', ns, `--for=condition=${cond}`, `job/${name}`, '--timeout=200s']);
      await Promise.all([wait('three', 'complete'), wait('fails', 'failed'), wait('indexed', 'complete')]);
    } finally {
      await watch.stop();
    }
    const three = await client.get<any>(jobs, ns, 'three');
    assert.equal(three.status.succeeded, 3);
    assert.ok(maxActive >= 1 && maxActive <= 2, `at most parallelism=2 pods at once, saw ${maxActive}`);
    assert.equal((await pods(ns, 'job-name=three')).filter((p) => p.status?.phase === 'Succeeded').length, 3);

    const fails = await client.get<any>(jobs, ns, 'fails');
    const failed = fails.status.conditions.find((c: any) => c.type === 'Failed');
    assert.equal(failed?.status, 'True');
    assert.equal(failed?.reason, 'BackoffLimitExceeded');
    assert.equal(fails.status.failed, 2, 'backoffLimit=1: one retry, then no more pods');
    assert.equal((await pods(ns, 'job-name=fails')).length, 2);

    const indexed = await client.get<any>(jobs, ns, 'indexed');
    assert.equal(indexed.status.completedIndexes, '0-2');
    const indexes = (await pods(ns, 'job-name=indexed')).filter((p) => p.status?.phase === 'Succeeded').map((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index']);
    assert.deepEqual(indexes.sort(), ['0', '1', '2']);
  });

  scenario('namespace deletion empties the namespace (pods, ConfigMap, Secret, Service) and then removes it', async () => {
    const ns = 'e2e-ns';
    await k(['create', 'namespace', ns]);
    await apply(
      ns,
      deployment('app', 2),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: 'b' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token' }, stringData: { t: 'x' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app' }, spec: { selector: { app: 'app' }, ports: [{ port: 80, targetPort: 8080 }] } },
    );
    await readyPods(ns, 'app=app', 2);
    await k(['delete', 'namespace', ns, '--wait=false']);
    const terminating = JSON.parse(await k(['get', 'namespace', ns, '-o', 'json']));
    assert.equal(terminating.status.phase, 'Terminating');
    assert.ok(terminating.spec.finalizers.includes('kubernetes'));
    await until('the namespace gone', async () => !(await getOrUndefined(resources.namespaces, undefined, ns)));
    // Gone means emptied first: nothing is left behind under its name.
    for (const kind of ['pods', 'configmaps', 'secrets', 'services', 'deployments', 'replicasets']) {
      assert.equal((await k(['get', kind, '-n', ns, '-o', 'name'])).trim(), '', `${kind} left in ${ns}`);
    }
  });

  scenario('controller-manager failover: the standby takes the Lease after the leader is killed mid-rollout; the rollout finishes with no extra pods', async () => {
    const ns = 'e2e-failover';
    const pm = new ProcessManager(opts.stateDir);
    await k(['create', 'namespace', ns]);
    // Each new pod is Ready 3s after it starts: the rollout takes long enough to be caught midway.
    await apply(ns, deployment('api', 3, {}, {}, { command: ['httpd', '-f', '-p', '8080', '-h', '/etc'], readinessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 3, periodSeconds: 1 } }));
    await readyPods(ns, 'app=api', 3);

    const leaderPid = pm.running('kube-controller-manager');
    assert.ok(leaderPid, 'the launcher started a controller-manager');
    const argv = fs.readFileSync(`/proc/${leaderPid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    assert.ok(argv.some((a) => a.includes('kube-controller-manager')), argv.join(' '));
    const lease = () => client.get<any>(resources.leases, 'kube-system', 'kube-controller-manager');
    const leader = (await lease()).spec.holderIdentity as string;

    // The standby: the launcher's command line, on another health port.
    const port = await freeLoopbackPort();
    pm.start({ name: 'kube-controller-manager-standby', command: argv[0]!, args: [...argv.slice(1).filter((a) => !a.startsWith('--secure-port')), `--secure-port=${port}`] });
    const masterStatus = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /^leader_election_master_status\{name="kube-controller-manager"\} (\d)/m.exec(text)?.[1];
    };
    await until('the standby up and waiting', async () => (await masterStatus()) === '0', 120_000);
    assert.equal((await lease()).spec.holderIdentity, leader, 'the launcher\'s controller-manager still leads');

    const bounds = new RolloutBounds();
    const newPods = new Set<string>();
    const watch = await watchNamespacePods(client, ns, (ev, all) => {
      bounds.observe(all);
      if (envOf(ev.pod, 'VERSION') === '2') newPods.add(ev.pod.metadata!.name!);
    });
    let updatedAtKill: number;
    try {
      bounds.observe(watch.pods());
      await k(['set', 'env', 'deployment/api', '-n', ns, 'VERSION=2']);
      await until('the first new pod', async () => newPods.size > 0, 120_000, 100);
      process.kill(leaderPid, 'SIGKILL');
      updatedAtKill = livePods(watch.pods()).filter((p) => envOf(p, 'VERSION') === '2' && isPodReady(p)).length;
      const holder = await until('another controller-manager holding the Lease', async () => {
        const h = (await lease()).spec.holderIdentity;
        return h && h !== leader ? h : undefined;
      });
      assert.notEqual(holder, leader);
      // The standby reports leading once its controllers start, just after it wrote the Lease.
      await until('the standby reporting it leads', async () => (await masterStatus()) === '1', 30_000, 200);
      const status = await kubectl('1.33', kubeconfig, ['rollout', 'status', 'deployment/api', '-n', ns, '--timeout=200s'], { timeoutMs: 220_000 });
      assert.equal(status.code, 0, status.stderr);
      await until('only the 3 new pods left', async () => {
        const all = await pods(ns, 'app=api');
        return all.length === 3 && all.every((p) => envOf(p, 'VERSION') === '2' && isPodReady(p));
      });
    } finally {
      await watch.stop();
    }
    assert.ok(updatedAtKill < 3, `the leader was killed mid-rollout (${updatedAtKill} new pods ready then)`);
    assert.equal(bounds.violation(3, 1, 0), undefined, bounds.violation(3, 1, 0));
    assert.equal(newPods.size, 3, `the new ReplicaSet made exactly 3 pods: ${[...newPods].join(', ')}`);
  });

  scenario(
    'CronJob on the real clock: */1 creates a Job that completes; Forbid skips a run while one is active',
    async () => {
      const ns = 'e2e-cron';
      await k(['create', 'namespace', ns]);
      // On node-1 only: the node loss scenario may take node-2 away meanwhile.
      const cron = (name: string, policy: string, command: string) => ({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name },
        spec: {
          schedule: '*/1 * * * *',
          concurrencyPolicy: policy,
          jobTemplate: { spec: { template: { spec: podSpec({ restartPolicy: 'Never', nodeSelector: { 'kubernetes.io/hostname': 'node-1' } }, { command: ['sh', '-c', command] }) } } },
        },
      });
      await apply(ns, cron('tick', 'Allow', 'echo tick'), cron('solo', 'Forbid', 'sleep 3600'));
      const jobsOf = async (cj: string) => (await client.list<any>(jobs, ns)).items.filter((j: any) => j.metadata.ownerReferences?.[0]?.name === cj);
      const [done] = await Promise.all([
        until('a completed Job from tick', async () => (await jobsOf('tick')).find((j: any) => j.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True')), 200_000, 2000),
        until(
          'JobAlreadyActive on solo',
          async () => (await k(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=solo,reason=JobAlreadyActive', '-o', 'name'])).trim(),
          200_000,
          2000,
        ),
      ]);
      assert.match(done.metadata.name, /^tick-\d+$/);
      assert.equal((await jobsOf('solo')).length, 1, 'Forbid: no second Job while the first runs');
      const tick = JSON.parse(await k(['get', 'cronjob/tick', '-n', ns, '-o', 'json']));
      assert.ok(tick.status.lastScheduleTime && tick.status.lastSuccessfulTime, JSON.stringify(tick.status));
      await k(['delete', 'cronjobs', '--all', '-n', ns]);
    },
    { usesNode2: false },
  );

  scenario(
    'node loss: a node whose kubelet dies goes Unknown and tainted, its pods are evicted and replaced on the healthy node; back, it is Ready and untainted',
    async (t) => {
      // Last of the node-2 users: everything else that could have pods there is done.
      await Promise.allSettled(mayUseNode2);
      const ns = 'e2e-nodeloss';
      await k(['create', 'namespace', ns]);
      const tolerations = ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }));
      const spread = [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'evict' } } }];
      await apply(ns, deployment('evict', 4, {}, { tolerations, topologySpreadConstraints: spread }));
      const before = await readyPods(ns, 'app=evict', 4);
      const [lost, healthy] = ['node-2', 'node-1'];
      const victims = before.filter((p) => p.spec?.nodeName === lost).map((p) => p.metadata!.name!);
      assert.ok(victims.length > 0, `some pods on ${lost}: ${before.map((p) => p.spec?.nodeName).join(', ')}`);

      const pm = new ProcessManager(opts.stateDir);
      const pid = pm.running(`kubelet-${lost}`);
      assert.ok(pid, `kubelet-${lost} runs`);
      const kubeletArgv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      assert.ok(kubeletArgv.some((a) => a.includes('kubelet')), kubeletArgv.join(' '));
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');

      const node = await until(
        `${lost} Unknown and tainted`,
        async () => {
          const n = await client.get<any>(resources.nodes, undefined, lost);
          const ready = n.status.conditions.find((c: any) => c.type === 'Ready');
          const taints = (n.spec.taints ?? []).map((t: any) => `${t.key}:${t.effect}`);
          return ready?.status === 'Unknown' && taints.includes('node.kubernetes.io/unreachable:NoExecute') ? n : undefined;
        },
        180_000,
      );
      // No timing assertion (the machine may be loaded); the grace period is --node-monitor-grace-period (40s by default).
      t.diagnostic(`${lost} Unknown and tainted ${((Date.now() - killedAt) / 1000).toFixed(0)}s after its kubelet was killed`);
      assert.equal(node.status.conditions.find((c: any) => c.type === 'Ready').reason, 'NodeStatusUnknown');
      assert.ok(node.spec.taints.some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule'));

      const after = await until('4 ready replacements on the healthy node', async () => {
        const live = livePods(await pods(ns, 'app=evict'));
        return live.length === 4 && live.every((p) => p.spec?.nodeName === healthy && isPodReady(p)) ? live : undefined;
      });
      assert.ok(after.every((p) => !victims.includes(p.metadata!.name!)));
      // The evicted pods were deleted; their kubelet is gone, so they wait in Terminating.
      for (const v of victims) {
        const p = await getOrUndefined<Pod>(resources.pods, ns, v);
        assert.ok(!p || p.metadata?.deletionTimestamp, `${v} was evicted`);
      }

      // The kubelet comes back (same command line, same network namespace): the node is Ready
      // again without the unreachable taints, and the kubelet finishes off the evicted pods.
      pm.start({ name: `kubelet-${lost}`, command: kubeletArgv[0]!, args: kubeletArgv.slice(1), netns: nodeNetwork(defaultHostNetwork, 1, lost).netnsPath });
      await until(`${lost} Ready and untainted`, async () => {
        const n = await client.get<any>(resources.nodes, undefined, lost);
        const ready = n.status.conditions.find((c: any) => c.type === 'Ready');
        return ready?.status === 'True' && !(n.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unreachable');
      });
      await until('the evicted pods gone', async () => {
        const left = (await pods(ns, 'app=evict')).map((p) => p.metadata!.name!);
        return victims.every((v) => !left.includes(v));
      });
      assert.equal(livePods(await pods(ns, 'app=evict')).length, 4, 'the ReplicaSet keeps its 4 pods');
    },
    { usesNode2: false },
  );
});
