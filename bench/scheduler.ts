/**
 * Scheduler throughput and latency: P pods onto N nodes through a real etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler, each its own process. The nodes are hollow nodes
 * (`keelson-hollow`: Node objects with Leases and status, and pods "run" by writing their status),
 * or, with `fakeNodes` (SCHED_BENCH_FAKE_NODES=1), bare Node objects the benchmark creates.
 *
 * Two phases on the same cluster:
 * 1. Backlog (the throughput figure): the P pods are created while no scheduler runs, then
 *    kube-scheduler starts. pods/s is P divided by the time from the scheduler reporting ready
 *    (informers synced) to the last binding the watch sees: how fast it drains a backlog,
 *    without the apiserver's create rate as a ceiling (upstream's scheduler_perf creates pods
 *    with the scheduler running, but its apiserver takes creates far faster than this one).
 *    The attempt latency (algorithm + binding) p50/p99 comes from the scheduler's
 *    scheduler_scheduling_attempt_duration_seconds histogram (bucket upper bounds).
 * 2. Streaming (the latency figure): once the hollow nodes report the backlog Running, S more
 *    pods are created at concurrency 32 while the scheduler runs; create → bound per pod
 *    (p50/p99), from the create call returning to the watch event that shows spec.nodeName.
 *    This rate is bounded by how fast the apiserver takes creates, so it is reported apart.
 *
 * Full mode: 1,000 nodes, 5,000 pods (+1,000 streaming). QUICK=1: 100 nodes, 500 pods (+200).
 * SCHED_BENCH_NODES, SCHED_BENCH_PODS and SCHED_BENCH_STREAM_PODS override the counts;
 * SCHED_BENCH_CPU_PROF=<dir> runs kube-scheduler and kube-apiserver with --cpu-prof into it.
 * Run standalone: `node dist/bench/scheduler.js` (prints the report and the figures as JSON).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { freePort, startEtcd, type EtcdHandle } from '../test/harness/etcd.js';
import { spawnApiserver, writeKubeconfig, type ApiserverProcess } from '../test/harness/apiserver.js';
import { procSample, spawnComponent, waitHTTP, type Child } from './density.js';
import { percentile, runConcurrent } from './stats.js';

export interface SchedulerBenchOptions {
  quick?: boolean;
  nodes?: number;
  pods?: number;
  /** Pods created while the scheduler runs, for create → bound latency. */
  streamingPods?: number;
  /** Bare Node objects instead of hollow nodes. */
  fakeNodes?: boolean;
  /** Folder for kube-scheduler's --cpu-prof output. */
  cpuProfDir?: string;
  log?: (line: string) => void;
}

export interface SchedulerBenchResult {
  figures: Record<string, number | null>;
  notes: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const cmdJs = (name: string) => path.resolve(here, '../cmd', name, 'main.js');
const ns = 'sched-bench';
const zones = 10;
const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';

function round(v: number, digits = 0): number | null {
  if (!Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function envInt(name: string, zeroOK = false): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (zeroOK ? 0 : 1)) throw new Error(`${name}=${v}: want a ${zeroOK ? 'non-negative' : 'positive'} integer`);
  return n;
}

/** The smallest bucket bound under which a share `q` of the scheduled attempts fall. */
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

function podBody(name: string, i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: `app-${i % 50}` } },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

export async function benchScheduler(opts: SchedulerBenchOptions = {}): Promise<SchedulerBenchResult> {
  const quick = opts.quick ?? process.env.QUICK === '1';
  const nodeCount = opts.nodes ?? envInt('SCHED_BENCH_NODES') ?? (quick ? 100 : 1000);
  const podCount = opts.pods ?? envInt('SCHED_BENCH_PODS') ?? (quick ? 500 : 5000);
  const streamingCount = opts.streamingPods ?? envInt('SCHED_BENCH_STREAM_PODS', true) ?? (quick ? 200 : 1000);
  const fakeNodes = opts.fakeNodes ?? process.env.SCHED_BENCH_FAKE_NODES === '1';
  const cpuProfDir = opts.cpuProfDir ?? process.env.SCHED_BENCH_CPU_PROF;
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const figures: Record<string, number | null> = {};
  const notes: string[] = [];
  let etcd: EtcdHandle | undefined;
  let api: ApiserverProcess | undefined;
  let kubeconfig: string | undefined;
  const children: Child[] = [];
  const agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
  const watchAbort = new AbortController();
  log(`## Scheduler: ${podCount} pods onto ${nodeCount} ${fakeNodes ? 'fake' : 'hollow'} nodes, then ${streamingCount} more while it runs${quick ? ' (QUICK)' : ''}`);
  try {
    etcd = await startEtcd();
    // With a profile folder the apiserver is profiled too (it inherits NODE_OPTIONS, and is
    // stopped with SIGTERM at the end so that it writes the profile).
    const nodeOptions = process.env.NODE_OPTIONS;
    if (cpuProfDir) process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --cpu-prof --cpu-prof-dir=${path.resolve(cpuProfDir)}`.trim();
    try {
      api = await spawnApiserver(etcd.endpoint, undefined, ['--etcd-compaction-interval=0']);
    } finally {
      if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = nodeOptions;
    }
    kubeconfig = writeKubeconfig(api.url);
    let throttled = 0;
    const call = async (method: string, p: string, body?: unknown, contentType = 'application/json'): Promise<string> => {
      for (;;) {
        const r = await request(api!.url + p, { method: method as 'POST', body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': contentType }, dispatcher: agent });
        const text = await r.body.text();
        if (r.statusCode === 429) {
          // The apiserver's max-in-flight limit: back off as clients do, and count it.
          throttled++;
          await new Promise((res) => setTimeout(res, 100));
          continue;
        }
        if (r.statusCode >= 300) throw new Error(`${method} ${p}: ${r.statusCode} ${text.slice(0, 200)}`);
        return text;
      }
    };

    await call('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    // ServiceAccount admission wants the namespace's default ServiceAccount; create it rather
    // than wait for the controller.
    await call('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default', namespace: ns } }).catch((e: unknown) => {
      if (!String(e).includes(' 409 ')) throw e;
    });

    const nodeStart = performance.now();
    let hollowMetrics: string | undefined;
    if (fakeNodes) {
      await runConcurrent(nodeCount, 32, async (i) => {
        const name = `node-${i}`;
        await call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % zones}` } } });
        const allocatable = { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '100Gi' };
        await call('PATCH', `/api/v1/nodes/${name}/status`, { status: { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } }, 'application/merge-patch+json');
        // TaintNodesByCondition taints new nodes not-ready; no node lifecycle controller runs
        // in this mode to lift it.
        await call('PATCH', `/api/v1/nodes/${name}`, { spec: { taints: null } }, 'application/merge-patch+json');
      });
    } else {
      const kcmPort = await freePort();
      const kcm = spawnComponent('kube-controller-manager', [cmdJs('kube-controller-manager'), `--kubeconfig=${kubeconfig}`, '--leader-elect=false', `--secure-port=${kcmPort}`, '--bind-address=127.0.0.1', '--log-level=warn']);
      children.push(kcm);
      await waitHTTP(`http://127.0.0.1:${kcmPort}/healthz`, kcm, 60_000);
      const hollowPort = await freePort();
      const zoneList = Array.from({ length: zones }, (_, i) => `zone-${i}`).join(',');
      const hollow = spawnComponent('keelson-hollow', [cmdJs('keelson-hollow'), `--kubeconfig=${kubeconfig}`, `--count=${nodeCount}`, '--name-prefix=node-', `--zones=${zoneList}`, '--cpu=32', '--memory=128Gi', `--healthz-port=${hollowPort}`, '--healthz-bind-address=127.0.0.1', '--log-level=warn']);
      children.push(hollow);
      await waitHTTP(`http://127.0.0.1:${hollowPort}/readyz`, hollow, 10 * 60_000);
      hollowMetrics = `http://127.0.0.1:${hollowPort}/metrics`;
      // The node lifecycle controller lifts the not-ready taint once each node reports Ready.
      const deadline = Date.now() + 5 * 60_000;
      for (;;) {
        const list = JSON.parse(await call('GET', '/api/v1/nodes')) as { items: { spec?: { taints?: { key: string }[] } }[] };
        const ready = list.items.filter((n) => !(n.spec?.taints ?? []).some((t) => t.key === NOT_READY_TAINT)).length;
        if (ready >= nodeCount) break;
        if (Date.now() > deadline) throw new Error(`only ${ready} of ${nodeCount} nodes lost the not-ready taint`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    log(`  ${nodeCount} nodes ready in ${((performance.now() - nodeStart) / 1000).toFixed(1)}s`);

    // Bindings as the watch reports them.
    const created = new Map<string, number>();
    const bound = new Map<string, number>();
    let waitFor = podCount;
    let reached!: () => void;
    let reachedP = new Promise<void>((r) => (reached = r));
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
            if (bound.size >= waitFor) reached();
          }
        }
      }
    })().catch((e: unknown) => {
      if (!watchAbort.signal.aborted) throw e;
    });
    const waitBound = async (timeoutMs: number): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([reachedP.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
      clearTimeout(timer);
      return ok;
    };

    // Phase 1: the backlog.
    const createSecs = await runConcurrent(podCount, 32, async (i) => {
      await call('POST', `/api/v1/namespaces/${ns}/pods`, podBody(`pod-${i}`, i));
    });
    log(`  ${podCount} pods created in ${createSecs.toFixed(1)}s (${(podCount / createSecs).toFixed(0)}/s) with no scheduler running`);

    const port = await freePort();
    const schedURL = `http://127.0.0.1:${port}`;
    const profArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProfDir)}`] : [];
    const schedStart = performance.now();
    const scheduler = spawnComponent('kube-scheduler', [...profArgs, cmdJs('kube-scheduler'), `--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${port}`, '--log-level=warn'], cpuProfDir ? 30_000 : 5000);
    children.push(scheduler);
    await waitHTTP(`${schedURL}/readyz`, scheduler, 120_000);
    const ready = performance.now();
    log(`  kube-scheduler ready (informers synced) ${((ready - schedStart) / 1000).toFixed(1)}s after start`);
    const cpuBefore = procSample(scheduler.process.pid!).cpuSeconds;
    const timeoutMs = quick ? 120_000 : 600_000;
    const finished = await waitBound(timeoutMs);
    if (!finished) notes.push(`only ${bound.size} of ${podCount} backlog pods were bound within ${timeoutMs / 1000}s`);
    const lastBound = Math.max(...bound.values());
    const firstBound = Math.min(...bound.values());
    const elapsed = (lastBound - ready) / 1000;
    const perSec = bound.size / elapsed;
    const schedCpu = procSample(scheduler.process.pid!).cpuSeconds - cpuBefore;
    const metrics = await (await fetch(`${schedURL}/metrics`)).text();
    const attemptP50 = histogramQuantile(metrics, 'scheduler_scheduling_attempt_duration_seconds', 0.5) * 1000;
    const attemptP99 = histogramQuantile(metrics, 'scheduler_scheduling_attempt_duration_seconds', 0.99) * 1000;
    log(`  backlog: bound ${bound.size}/${podCount} in ${elapsed.toFixed(1)}s from ready (first binding after ${((firstBound - ready) / 1000).toFixed(2)}s): ${perSec.toFixed(0)} pods/s; kube-scheduler used ${schedCpu.toFixed(1)} CPU s`);
    log(`  scheduling attempt (algorithm + binding): p50 ≤ ${attemptP50} ms, p99 ≤ ${attemptP99} ms (histogram bucket bounds)`);
    const key = nodeCount === 1000 && podCount === 5000 ? '1k_nodes' : `${nodeCount}_nodes`;
    figures[`scheduler_pods_per_s_${key}`] = finished ? round(perSec) : null;
    figures.scheduler_attempt_p50_ms_le = round(attemptP50, 1);
    figures.scheduler_attempt_p99_ms_le = round(attemptP99, 1);
    figures.scheduler_backlog_cpu_s = round(schedCpu, 1);

    // Phase 2: streaming creates while the scheduler runs, once the hollow nodes have run the
    // backlog (their status writes would otherwise be what the new pods wait behind).
    if (streamingCount > 0 && hollowMetrics) {
      const settleStart = performance.now();
      const deadline = Date.now() + timeoutMs;
      let running = 0;
      while (Date.now() < deadline) {
        const text = await fetch(hollowMetrics).then((r) => r.text(), () => '');
        running = Number(/^hollow_pods_running (\S+)$/m.exec(text)?.[1] ?? 0);
        if (running >= podCount) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      log(`  hollow nodes: ${running}/${podCount} backlog pods Running ${((performance.now() - settleStart) / 1000).toFixed(1)}s after the last binding`);
    }
    if (streamingCount > 0) {
      waitFor = podCount + streamingCount;
      reachedP = new Promise<void>((r) => (reached = r));
      if (bound.size >= waitFor) reached();
      const streamStart = performance.now();
      const secs = await runConcurrent(streamingCount, 32, async (i) => {
        const name = `stream-${i}`;
        await call('POST', `/api/v1/namespaces/${ns}/pods`, podBody(name, i));
        created.set(name, performance.now());
      });
      const ok = await waitBound(timeoutMs);
      if (!ok) notes.push(`only ${bound.size - podCount} of ${streamingCount} streaming pods were bound within ${timeoutMs / 1000}s`);
      const streamed = [...bound].filter(([n]) => created.has(n));
      const latencies = streamed.map(([n, t]) => Math.max(0, t - created.get(n)!)).sort((a, b) => a - b);
      const streamSecs = (Math.max(...streamed.map(([, t]) => t)) - streamStart) / 1000;
      log(`  streaming: ${streamingCount} pods created in ${secs.toFixed(1)}s (${(streamingCount / secs).toFixed(0)}/s), all bound ${streamSecs.toFixed(1)}s after the first create: ${(streamed.length / streamSecs).toFixed(0)} pods/s`);
      log(`  create → bound latency: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`);
      figures.scheduler_streaming_pods_per_s = ok ? round(streamed.length / streamSecs) : null;
      figures.scheduler_create_to_bound_p50_ms = round(percentile(latencies, 50));
      figures.scheduler_create_to_bound_p99_ms = round(percentile(latencies, 99));
    }
    if (throttled) notes.push(`the apiserver answered 429 to ${throttled} of the benchmark's own requests (retried after 100 ms)`);
    watchAbort.abort();
    await watchDone;
  } finally {
    watchAbort.abort();
    // The scheduler first (it writes its CPU profile on a clean exit), then the rest.
    for (const c of children.reverse()) await c.stop();
    await agent.close();
    if (cpuProfDir && api && api.process.exitCode === null) {
      const exited = new Promise((r) => api!.process.once('exit', r));
      api.process.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    }
    await api?.kill();
    await etcd?.stop();
    if (kubeconfig) fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
  }
  notes.push('scheduler pods/s is the backlog drain rate: pods created first, then kube-scheduler started; measured on a 2-core machine shared with etcd, the apiserver and the other components.');
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
