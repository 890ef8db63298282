/**
 * `make bench`: runs the benchmarks, prints a report, and writes bench/results/<date>.md and
 * bench/results/latest.json. `QUICK=1` runs a reduced version in a few minutes.
 *
 * Every figure comes from a measurement in this run; a key whose benchmark did not run here is
 * null, and the report says why.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEtcd } from '../test/harness/etcd.js';
import { spawnApiserver } from '../test/harness/apiserver.js';
import { benchApi } from './api.js';
import { benchScheduler } from './scheduler.js';
import { benchDensity } from './density.js';
import { benchPodStartup } from './pod-startup.js';
import { rssMiB } from './stats.js';
import { benchFootprint } from './footprint.js';

const quick = process.env.QUICK === '1';
/** The repository root: the nearest folder above this file with a package.json. */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('no package.json above the benchmark');
    dir = up;
  }
  return dir;
}
const root = repoRoot();
const resultsDir = path.join(root, 'bench', 'results');

const lines: string[] = [];
const log = (s: string) => {
  lines.push(s);
  process.stdout.write(s + '\n');
};

async function main(): Promise<void> {
  const latest: Record<string, number | null> = {
    api_create_ratio_vs_etcd: null,
    list_10k_pods_p99_ms: null,
    watch_p99_ms_1k_watchers: null,
    scheduler_pods_per_s_1k_nodes: null,
    pod_startup_p50_ms: null,
    pod_startup_p99_ms: null,
    apiserver_rss_mb_1k_nodes_30k_pods: null,
    idle_rss_mb: null,
  };
  const notes: string[] = [];
  log(`# keelson benchmark report (${new Date().toISOString()}${quick ? ', QUICK' : ''})`);
  log('');
  const etcd = await startEtcd();
  const api = await spawnApiserver(etcd.endpoint, undefined, ['--etcd-compaction-interval=0']);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssMiB(api.process.pid!);
    latest.idle_rss_mb_apiserver_alone = round(idle);
    log(`## Footprint of a lone kube-apiserver`);
    log(`  kube-apiserver idle RSS, empty etcd, no clients: ${idle.toFixed(0)} MiB (etcd excluded)`);
    log('');
    log(`## API against raw etcd`);
    const r = await benchApi(
      api.url,
      etcd.endpoint,
      quick
        ? { creates: 1000, concurrencies: [1, 16, 64], listSize: 2000, listRuns: 10, watcherCounts: [1, 100], watchEvents: 20 }
        : { creates: 5000, concurrencies: [1, 16, 64], listSize: 10000, listRuns: 30, watcherCounts: [1, 100, 1000], watchEvents: 50 },
      log,
    );
    const c64 = r.creates.find((c) => c.concurrency === 64) ?? r.creates.at(-1)!;
    latest.api_create_ratio_vs_etcd = round(c64.ratio, 3);
    for (const c of r.creates) {
      latest[`api_creates_per_s_c${c.concurrency}`] = round(c.apiPerSec);
      latest[`etcd_creates_per_s_c${c.concurrency}`] = round(c.etcdPerSec);
    }
    latest.get_p50_ms = round(r.get.p50, 2);
    latest.get_p99_ms = round(r.get.p99, 2);
    if (!quick) latest.list_10k_pods_p99_ms = round(Math.max(r.list10k.rv0.p99, r.list10k.consistent.p99), 1);
    else notes.push('list_10k_pods_p99_ms is null in QUICK mode (it lists 2,000 pods, reported as list_quick_*).');
    latest[quick ? 'list_quick_rv0_p99_ms' : 'list_10k_rv0_p99_ms'] = round(r.list10k.rv0.p99, 1);
    latest[quick ? 'list_quick_consistent_p99_ms' : 'list_10k_consistent_p99_ms'] = round(r.list10k.consistent.p99, 1);
    if (r.list10k.rv0Gzip) latest[quick ? 'list_quick_rv0_gzip_p99_ms' : 'list_10k_rv0_gzip_p99_ms'] = round(r.list10k.rv0Gzip.p99, 1);
    const w1k = r.watch.find((w) => w.watchers === 1000);
    latest.watch_p99_ms_1k_watchers = w1k ? round(w1k.p99, 1) : null;
    if (!w1k) notes.push('watch_p99_ms_1k_watchers is null in QUICK mode (1 and 100 watchers only).');
    for (const w of r.watch) {
      latest[`watch_p50_ms_${w.watchers}_watchers`] = round(w.p50, 1);
      latest[`watch_p99_ms_${w.watchers}_watchers`] = round(w.p99, 1);
    }
    notes.push('watch delivery latency runs from just before each ConfigMap create is sent to each watch reading its event, on one clock; the watches are raw sockets spread over up to 4 client threads (250 per thread), one create every 50 ms. LIST latency is with a client that does not ask for gzip, except list_*_rv0_gzip_p99_ms (Accept-Encoding: gzip, as kubectl sends; the apiserver gzips bodies over 128 KiB at level 1, as upstream, and the client gunzips).');
    latest.apiserver_rss_mb_after_api_bench = round(rssMiB(api.process.pid!));
    log('');
  } finally {
    await api.kill();
    await etcd.stop();
  }
  const merge = (r: { figures: Record<string, number | null>; notes: string[] }) => {
    for (const [k, v] of Object.entries(r.figures)) if (v !== null || !(k in latest) || latest[k] === null) latest[k] = v;
    notes.push(...r.notes);
  };
  log('## Scheduler: pods onto hollow nodes through the real apiserver, controller-manager and scheduler');
  try {
    merge(await benchScheduler({ quick, log }));
  } catch (e) {
    notes.push(`the scheduler benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (quick) notes.push('scheduler_pods_per_s_1k_nodes is null in QUICK mode (it schedules 500 pods onto 100 nodes, reported under its own key).');
  log('');
  log('## Density: hollow nodes, controller-manager, scheduler and apiserver');
  try {
    merge(await benchDensity({ quick, log }));
  } catch (e) {
    notes.push(`the density benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  log('');
  log('## Pod startup: busybox pods on real containerd, create → Running');
  try {
    merge(await benchPodStartup({ quick, log }));
  } catch (e) {
    notes.push(`the pod-startup benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  log('');
  log('## Footprint: an idle 1-node cluster from the launcher, per-process and all-in-one (etcd and containerd excluded)');
  for (const allInOne of [false, true]) {
    try {
      merge(await benchFootprint({ allInOne, log }));
    } catch (e) {
      notes.push(`the footprint benchmark${allInOne ? ' (all-in-one)' : ''} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  latest.idle_rss_mb = latest.idle_rss_mb_sum ?? null;
  notes.push('idle_rss_mb is the sum over every keelson process of an idle 1-node launcher cluster (one process per component); idle_rss_mb_all_in_one_sum is the same cluster with `keelson up --all-in-one`; idle_rss_mb_apiserver_alone is a lone apiserver with no clients.');
  log('');
  log('## Goals');
  log(`  create throughput >= 70% of raw etcd at concurrency 64: ${fmtGoal(latest.api_create_ratio_vs_etcd, (v) => v >= 0.7)}`);
  log(`  LIST of 10k pods p99 < 300 ms: ${fmtGoal(latest.list_10k_pods_p99_ms, (v) => v < 300)}`);
  log(`  watch p99 < 50 ms with 1,000 watchers: ${fmtGoal(latest.watch_p99_ms_1k_watchers, (v) => v < 50)}`);
  log(`  scheduler >= 800 pods/s with 1,000 nodes: ${fmtGoal(latest.scheduler_pods_per_s_1k_nodes, (v) => v >= 800)}`);
  log(`  1,000 nodes and 30,000 pods with the apiserver under 1.5 GB RSS: ${fmtGoal(latest.apiserver_rss_mb_1k_nodes_30k_pods, (v) => v < 1536)}`);
  log(`  pod startup p99 <= 2.5 s: ${fmtGoal(latest.pod_startup_p99_ms, (v) => v <= 2500)} (ms)`);
  log(`  all-in-one idle under 200 MB: ${fmtGoal(latest.idle_rss_mb_all_in_one_sum ?? null, (v) => v < 200)} (MiB, keelson up --all-in-one, 1 node; one process per component: ${latest.idle_rss_mb ?? 'not measured'})`);
  log('');
  log('## Notes');
  for (const n of notes) log(`- ${n}`);
  fs.mkdirSync(resultsDir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  fs.writeFileSync(path.join(resultsDir, `${date}${quick ? '-quick' : ''}.md`), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(resultsDir, 'latest.json'), JSON.stringify(latest, null, 2) + '\n');
  log(`\nwrote bench/results/${date}${quick ? '-quick' : ''}.md and bench/results/latest.json`);
}

function round(v: number, digits = 0): number | null {
  if (!Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function fmtGoal(v: number | null, ok: (v: number) => boolean): string {
  if (v === null) return 'not measured in this run';
  return `${v} — ${ok(v) ? 'met' : 'NOT met'}`;
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
