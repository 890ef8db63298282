/**
 * Footprint: the resident memory of every keelson process of an idle one-node cluster brought up
 * by the launcher (pkg/launcher/cluster.ts `up()`), as `keelson up` gives it to a user.
 *
 * After every node is Ready the cluster is left alone for FOOTPRINT_IDLE_S seconds (default 20);
 * then VmRSS is read from /proc/<pid>/status of each process the launcher started. etcd and
 * containerd are excluded (they are not keelson). Reported in MiB:
 *   idle_rss_mb_<component>  for apiserver, controller_manager, scheduler, kubelet, kube_proxy,
 *                            cluster_dns and route_controller (the host-gw route keepers the
 *                            launcher also runs, summed over their processes);
 *   idle_rss_mb_sum          the sum of all of them: every keelson process of the cluster.
 * With `allInOne` the cluster runs in the all-in-one mode (pkg/launcher/all-in-one.ts) and the
 * keys are idle_rss_mb_all_in_one_<process> and idle_rss_mb_all_in_one_sum.
 *
 * Needs root, containerd, runc, CNI plugins (as test/e2e/cluster.test.ts), and no other keelson
 * cluster on the machine; otherwise it skips with a note. Run it alone:
 *   flock /tmp/keelson-cluster.lock node .build/<out>/bench/footprint.js [--all-in-one|--both]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { up, down, status, defaultClusterOptions, type ClusterOptions } from '../pkg/launcher/cluster.js';
import { nodeTestsSupported } from '../test/harness/containerd.js';
import { rssMiB } from './stats.js';

export interface FootprintOptions {
  allInOne?: boolean;
  idleMs?: number;
  log?: (line: string) => void;
}

export interface FootprintResult {
  figures: Record<string, number | null>;
  notes: string[];
}

/** The component a launcher process name belongs to, or undefined for etcd and containerd. */
export function componentOf(processName: string): string | undefined {
  const base = processName.replace(/-node-\d+$/, '').replace(/-host$/, '');
  switch (base) {
    case 'kube-apiserver':
      return 'apiserver';
    case 'kube-controller-manager':
      return 'controller_manager';
    case 'kube-scheduler':
      return 'scheduler';
    case 'kubelet':
      return 'kubelet';
    case 'kube-proxy':
      return 'kube_proxy';
    case 'cluster-dns':
      return 'cluster_dns';
    case 'route-controller':
      return 'route_controller';
    case 'keelson-server':
      return 'server';
    case 'keelson-agent':
      return 'agent';
    default:
      return undefined;
  }
}

/** Sums RSS per component over distinct pids (in all-in-one mode several names share one pid). */
export function footprintOf(rows: { name: string; pid?: number }[], rss: (pid: number) => number): { perComponent: Record<string, number>; sum: number } {
  const perComponent: Record<string, number> = {};
  const seen = new Set<number>();
  let sum = 0;
  // Group processes first (all-in-one mode): their pid is also recorded under each member's name.
  const rank = (n: string) => (n.startsWith('keelson-') ? 0 : 1);
  for (const r of [...rows].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name))) {
    const c = componentOf(r.name);
    if (!c || !r.pid || seen.has(r.pid)) continue;
    seen.add(r.pid);
    const v = rss(r.pid);
    if (!Number.isFinite(v)) continue;
    perComponent[c] = (perComponent[c] ?? 0) + v;
    sum += v;
  }
  return { perComponent, sum };
}

const round1 = (v: number) => Math.round(v * 10) / 10;

export async function benchFootprint(o: FootprintOptions = {}): Promise<FootprintResult> {
  const log = o.log ?? (() => undefined);
  const support = nodeTestsSupported();
  const skip = !support.ok ? support.why : fs.existsSync('/sys/class/net/keelson0') ? 'a keelson cluster already runs on this machine' : undefined;
  const prefix = o.allInOne ? 'idle_rss_mb_all_in_one' : 'idle_rss_mb';
  if (skip) return { figures: { [`${prefix}_sum`]: null }, notes: [`the footprint benchmark${o.allInOne ? ' (all-in-one)' : ''} was skipped: ${skip}`] };
  const idleMs = o.idleMs ?? Number(process.env.FOOTPRINT_IDLE_S ?? 20) * 1000;
  const opts: ClusterOptions = { ...defaultClusterOptions(fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-footprint-'))), nodes: 1, log: (l) => log(`  ${l}`) };
  if (o.allInOne) opts.allInOne = true;
  const figures: Record<string, number | null> = {};
  try {
    await up(opts);
    log(`  idle for ${(idleMs / 1000).toFixed(0)} s`);
    await new Promise((r) => setTimeout(r, idleMs));
    const { perComponent, sum } = footprintOf(status(opts), rssMiB);
    for (const [c, v] of Object.entries(perComponent)) {
      figures[`${prefix}_${c}`] = round1(v);
      log(`  ${c.padEnd(20)} ${v.toFixed(1)} MiB`);
    }
    figures[`${prefix}_sum`] = round1(sum);
    log(`  ${'sum'.padEnd(20)} ${sum.toFixed(1)} MiB (etcd and containerd excluded)`);
  } finally {
    await down({ ...opts, log: () => undefined, reset: true }).catch((e) => log(`  down failed: ${e instanceof Error ? e.message : String(e)}`));
  }
  return { figures, notes: [] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const modes = process.argv.includes('--both') ? [false, true] : [process.argv.includes('--all-in-one')];
  (async () => {
    const out: FootprintResult = { figures: {}, notes: [] };
    for (const allInOne of modes) {
      const r = await benchFootprint({ allInOne, log: (l) => process.stdout.write(l + '\n') });
      Object.assign(out.figures, r.figures);
      out.notes.push(...r.notes);
    }
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  })().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
