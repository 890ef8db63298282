/**
 * Scheduler throughput and latency: P pods onto N fake nodes (Node objects only, nobody runs the
 * pods) through a real etcd and kube-apiserver, with kube-scheduler as its own process.
 *
 * The pods are created as fast as the apiserver takes them (concurrency 32) while the scheduler
 * runs, so the figures include the queueing a burst causes. Reported:
 * - pods/s: P divided by the time from the first create to the last binding seen;
 * - create → bound latency per pod (p50/p99), from the create call returning to the watch
 *   event that shows spec.nodeName;
 * - the scheduler's own attempt latency (algorithm + binding), p50/p99 upper bounds from its
 *   scheduler_scheduling_attempt_duration_seconds histogram.
 *
 * Full mode: 1,000 nodes, 5,000 pods. QUICK=1: 100 nodes, 500 pods.
 * Run standalone: `node dist/bench/scheduler.js` (prints the report and the figures as JSON).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { freePort, startEtcd, type EtcdHandle } from '../test/harness/etcd.js';
import { spawnApiserver, writeKubeconfig, type ApiserverProcess } from '../test/harness/apiserver.js';
import { percentile, runConcurrent } from './stats.js';

export interface SchedulerBenchOptions {
  quick?: boolean;
  nodes?: number;
  pods?: number;
  log?: (line: string) => void;
}

export interface SchedulerBenchResult {
  figures: Record<string, number | null>;
  notes: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const schedulerJs = path.resolve(here, '../cmd/kube-scheduler/main.js');
const ns = 'sched-bench';
const zones = 10;

function round(v: number, digits = 0): number | null {
  if (!Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** The smallest bucket bound under which a share `q` of the observations fall. */
function histogramQuantile(metrics: string, name: string, q: number): number {
  const buckets: [number, number][] = [];
  const re = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\d+(?:\\.\\d+)?)$`, 'gm');
  const sums = new Map<number, number>();
  for (const m of metrics.matchAll(re)) {
    if (!/result="scheduled"/.test(m[1]!)) continue;
    const le = /le="([^"]+)"/.exec(m[1]!)![1]!;
    const bound = le === '+Inf' ? Infinity : Number(le);
    sums.set(bound, (sums.get(bound) ?? 0) + Number(m[2]));
  }
  for (const [b, c] of sums) buckets.push([b, c]);
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return NaN;
  for (const [b, c] of buckets) if (c >= q * total) return b;
  return Infinity;
}

export async function benchScheduler(opts: SchedulerBenchOptions = {}): Promise<SchedulerBenchResult> {
  const quick = opts.quick ?? process.env.QUICK === '1';
  const nodeCount = opts.nodes ?? (quick ? 100 : 1000);
  const podCount = opts.pods ?? (quick ? 500 : 5000);
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const figures: Record<string, number | null> = {};
  const notes: string[] = [];
  let etcd: EtcdHandle | undefined;
  let api: ApiserverProcess | undefined;
  let scheduler: ChildProcess | undefined;
  let kubeconfig: string | undefined;
  const agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
  const watchAbort = new AbortController();
  log(`## Scheduler: ${podCount} pods onto ${nodeCount} fake nodes${quick ? ' (QUICK)' : ''}`);
  try {
    etcd = await startEtcd();
    api = await spawnApiserver(etcd.endpoint, undefined, ['--etcd-compaction-interval=0']);
    kubeconfig = writeKubeconfig(api.url);
    const call = async (method: string, p: string, body?: unknown, contentType = 'application/json') => {
      const r = await request(api!.url + p, { method: method as 'POST', body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': contentType }, dispatcher: agent });
      const text = await r.body.text();
      if (r.statusCode >= 300) throw new Error(`${method} ${p}: ${r.statusCode} ${text.slice(0, 200)}`);
      return text;
    };

    await call('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    // ServiceAccount admission wants the namespace's default ServiceAccount (no controller-manager runs here).
    await call('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default', namespace: ns } });
    const nodeSecs = await runConcurrent(nodeCount, 32, async (i) => {
      const name = `node-${i}`;
      await call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % zones}` } } });
      const allocatable = { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '100Gi' };
      await call('PATCH', `/api/v1/nodes/${name}/status`, { status: { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } }, 'application/merge-patch+json');
      // TaintNodesByCondition admission taints new nodes not-ready; the node lifecycle controller
      // (not running here) would lift it once the node reports Ready.
      await call('PATCH', `/api/v1/nodes/${name}`, { spec: { taints: null } }, 'application/merge-patch+json');
    });
    log(`  ${nodeCount} nodes created in ${nodeSecs.toFixed(1)}s`);

    const port = await freePort();
    const schedURL = `http://127.0.0.1:${port}`;
    scheduler = spawn(process.execPath, [schedulerJs, `--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${port}`, '--log-level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let schedErr = '';
    scheduler.stderr!.on('data', (d: Buffer) => (schedErr = (schedErr + d.toString()).slice(-5000)));
    for (let i = 0; ; i++) {
      if (scheduler.exitCode !== null) throw new Error(`kube-scheduler exited: ${schedErr}`);
      const ok = await fetch(`${schedURL}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 300) throw new Error(`kube-scheduler not ready: ${schedErr}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    // Bindings as the watch reports them.
    const created = new Map<string, number>();
    const bound = new Map<string, number>();
    let allBound!: () => void;
    const allBoundP = new Promise<void>((r) => (allBound = r));
    const watchDone = (async () => {
      const res = await fetch(`${api!.url}/api/v1/namespaces/${ns}/pods?watch=1`, { signal: watchAbort.signal });
      const reader = res.body!.getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += Buffer.from(value).toString('utf8');
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line);
          const name = ev.object?.metadata?.name;
          if (name && ev.object?.spec?.nodeName && !bound.has(name)) {
            bound.set(name, performance.now());
            if (bound.size === podCount) allBound();
          }
        }
      }
    })().catch((e: unknown) => {
      if (!watchAbort.signal.aborted) throw e;
    });

    const start = performance.now();
    const createSecs = await runConcurrent(podCount, 32, async (i) => {
      const name = `pod-${i}`;
      await call('POST', `/api/v1/namespaces/${ns}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns, labels: { app: `app-${i % 50}` } },
        spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
      });
      created.set(name, performance.now());
    });
    log(`  ${podCount} pods created in ${createSecs.toFixed(1)}s (${(podCount / createSecs).toFixed(0)}/s)`);
    const timeoutMs = quick ? 120_000 : 600_000;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([allBoundP.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    if (!finished) notes.push(`only ${bound.size} of ${podCount} pods were bound within ${timeoutMs / 1000}s`);
    const lastBound = Math.max(...bound.values());
    const elapsed = (lastBound - start) / 1000;
    const latencies = [...bound].filter(([n]) => created.has(n)).map(([n, t]) => Math.max(0, t - created.get(n)!)).sort((a, b) => a - b);
    const perSec = bound.size / elapsed;
    const metrics = await (await fetch(`${schedURL}/metrics`)).text();
    const attemptP50 = histogramQuantile(metrics, 'scheduler_scheduling_attempt_duration_seconds', 0.5) * 1000;
    const attemptP99 = histogramQuantile(metrics, 'scheduler_scheduling_attempt_duration_seconds', 0.99) * 1000;
    log(`  bound ${bound.size}/${podCount} in ${elapsed.toFixed(1)}s from the first create: ${perSec.toFixed(0)} pods/s`);
    log(`  create → bound latency: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`);
    log(`  scheduling attempt (algorithm + binding): p50 ≤ ${attemptP50} ms, p99 ≤ ${attemptP99} ms (histogram bucket bounds)`);
    const key = nodeCount === 1000 && podCount === 5000 ? '1k_nodes' : `${nodeCount}_nodes`;
    figures[`scheduler_pods_per_s_${key}`] = finished ? round(perSec) : null;
    figures.scheduler_create_to_bound_p50_ms = round(percentile(latencies, 50));
    figures.scheduler_create_to_bound_p99_ms = round(percentile(latencies, 99));
    figures.scheduler_attempt_p50_ms_le = round(attemptP50, 1);
    figures.scheduler_attempt_p99_ms_le = round(attemptP99, 1);
    watchAbort.abort();
    await watchDone;
  } finally {
    watchAbort.abort();
    if (scheduler && scheduler.exitCode === null) {
      scheduler.kill('SIGTERM');
      await new Promise((r) => scheduler!.once('exit', r));
    }
    await agent.close();
    await api?.kill();
    await etcd?.stop();
    if (kubeconfig) fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
  }
  for (const n of notes) log(`  note: ${n}`);
  return { figures, notes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchScheduler().then(
    (r) => process.stdout.write(JSON.stringify(r.figures, null, 2) + '\n'),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
