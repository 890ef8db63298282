/**
 * Density: N hollow nodes and P pods through a real etcd, kube-apiserver, kube-controller-manager
 * and kube-scheduler, each in its own process so its RSS and CPU are its own.
 *
 * Pods come from Deployments (deployment → ReplicaSet → pods, as users make them), the scheduler
 * binds them, the hollow nodes run them. Reported:
 * - the time from the first Deployment to every pod Running, and pods/s over it;
 * - the scheduler's throughput from the binding timestamps (PodScheduled lastTransitionTime);
 * - create → Running per pod (p50/p99; the timestamps have whole seconds);
 * - RSS (now and peak) and CPU seconds of each process, from /proc.
 *
 * Full mode: 1,000 nodes and 30,000 pods. QUICK=1: 100 nodes and 1,000 pods.
 * Run standalone: `node dist/bench/density.js` (prints the report and the figures as JSON);
 * DENSITY_NODES and DENSITY_PODS override the counts.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Watch } from '@kubernetes/client-node';
import type { Deployment, Pod } from '../pkg/api/types.js';
import { loadKubeConfig } from '../pkg/client/kubeconfig.js';
import { isAlreadyExists, resources, RestClient } from '../pkg/client/rest.js';
import { controllerDescriptors } from '../pkg/controller-manager/controllers.js';
import { freePort, startEtcd, type EtcdHandle } from '../test/harness/etcd.js';
import { spawnApiserver, writeKubeconfig, type ApiserverProcess } from '../test/harness/apiserver.js';
import { percentile } from './stats.js';

export interface DensityOptions {
  quick?: boolean;
  /** Override the node and pod counts of the mode. */
  nodes?: number;
  pods?: number;
  log?: (line: string) => void;
}

export interface DensityResult {
  figures: Record<string, number | null>;
  notes: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const cmdJs = (name: string) => path.resolve(here, '../cmd', name, 'main.js');
const namespace = 'density';

/** Clock ticks per second, for /proc/<pid>/stat. */
let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

interface ProcSample {
  rssMiB: number;
  peakRssMiB: number;
  cpuSeconds: number;
}

/** RSS, peak RSS (VmHWM) and user+system CPU of a process, from /proc. */
export function procSample(pid: number): ProcSample {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(rest[11]) + Number(rest[12])) / ticksPerSecond();
    return { rssMiB: kb('VmRSS') / 1024, peakRssMiB: kb('VmHWM') / 1024, cpuSeconds: cpu };
  } catch {
    return { rssMiB: NaN, peakRssMiB: NaN, cpuSeconds: NaN };
  }
}

export interface Child {
  name: string;
  process: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

export function spawnComponent(name: string, args: string[], killAfterMs = 5000): Child {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  return {
    name,
    process: proc,
    stderr: () => stderr,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const killed = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      await new Promise((r) => proc.once('exit', r));
      clearTimeout(killed);
    },
  };
}

export async function waitHTTP(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited: ${child.stderr()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name} not ready at ${url}: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function scrape(url: string, metric: string): Promise<number> {
  try {
    const text = await (await fetch(url)).text();
    const m = new RegExp(`^${metric} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

function deployment(name: string, replicas: number): Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      },
    },
  };
}

/**
 * Binds pending pods round-robin: only used when no kube-scheduler binary is built, so the rest
 * of the pipeline can still be measured. Never reported as the scheduler's figures.
 */
function startFallbackBinder(client: RestClient, kubeconfigPath: string, nodeNames: string[]): () => void {
  const kc = loadKubeConfig(kubeconfigPath);
  const pending: string[] = [];
  let next = 0;
  let inflight = 0;
  let stopped = false;
  let controller: AbortController | undefined;
  const pump = () => {
    while (!stopped && inflight < 32 && pending.length) {
      const name = pending.shift()!;
      const node = nodeNames[next++ % nodeNames.length]!;
      inflight++;
      void client
        .request('POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`, { body: { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: node } } })
        .catch(() => undefined)
        .finally(() => {
          inflight--;
          pump();
        });
    }
  };
  const watchOnce = () => {
    if (stopped) return;
    void new Watch(kc)
      .watch(`/api/v1/namespaces/${namespace}/pods`, { fieldSelector: 'spec.nodeName=' }, (type, obj: Pod) => {
        if (type === 'ADDED') {
          pending.push(obj.metadata!.name!);
          pump();
        }
      }, () => setTimeout(watchOnce, 100))
      .then((c) => (controller = c));
  };
  watchOnce();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

export async function benchDensity(opts: DensityOptions = {}): Promise<DensityResult> {
  const quick = opts.quick ?? process.env.QUICK === '1';
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const nodeCount = opts.nodes ?? (quick ? 100 : 1000);
  const podCount = opts.pods ?? (quick ? 1000 : 30_000);
  const figures: Record<string, number | null> = { apiserver_rss_mb_1k_nodes_30k_pods: null };
  const notes: string[] = [];
  const round = (v: number, d = 1) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : null);
  const full = nodeCount === 1000 && podCount === 30_000;

  log(`## Density: ${nodeCount} hollow nodes, ${podCount} pods${quick ? ' (QUICK)' : ''}`);
  const hasNodeLifecycle = controllerDescriptors.some((d) => d.name === 'node-lifecycle-controller');
  const apiArgs = ['--etcd-compaction-interval=0'];
  if (!hasNodeLifecycle) {
    // Without the node lifecycle controller nothing lifts the not-ready taint the admission puts
    // on new Nodes, and nothing could be scheduled.
    apiArgs.push('--disable-admission-plugins=TaintNodesByCondition');
    notes.push('kube-controller-manager has no node-lifecycle-controller yet: the apiserver ran without TaintNodesByCondition.');
  }
  const schedulerJs = cmdJs('kube-scheduler');
  const haveScheduler = fs.existsSync(schedulerJs);
  if (!haveScheduler) notes.push(`no kube-scheduler binary at ${schedulerJs}: pods were bound round-robin by the benchmark, and no scheduler figure is reported.`);

  let etcd: EtcdHandle | undefined;
  let api: ApiserverProcess | undefined;
  let kubeconfig: string | undefined;
  const children: Child[] = [];
  let client: RestClient | undefined;
  let stopBinder: (() => void) | undefined;
  try {
    etcd = await startEtcd();
    api = await spawnApiserver(etcd.endpoint, undefined, apiArgs);
    kubeconfig = writeKubeconfig(api.url);
    client = new RestClient(loadKubeConfig(kubeconfig), 'density-bench');

    const kcmPort = await freePort();
    const kcm = spawnComponent('kube-controller-manager', [cmdJs('kube-controller-manager'), `--kubeconfig=${kubeconfig}`, '--leader-elect=false', `--secure-port=${kcmPort}`, '--bind-address=127.0.0.1', '--log-level=warn']);
    children.push(kcm);
    await waitHTTP(`http://127.0.0.1:${kcmPort}/healthz`, kcm, 30_000);
    let scheduler: Child | undefined;
    if (haveScheduler) {
      const schedPort = await freePort();
      scheduler = spawnComponent('kube-scheduler', [schedulerJs, `--kubeconfig=${kubeconfig}`, '--leader-elect=false', `--secure-port=${schedPort}`, '--bind-address=127.0.0.1', '--log-level=warn']);
      children.push(scheduler);
      await waitHTTP(`http://127.0.0.1:${schedPort}/healthz`, scheduler, 30_000);
    }

    const hollowPort = await freePort();
    const registerStart = Date.now();
    const hollow = spawnComponent('keelson-hollow', [cmdJs('keelson-hollow'), `--kubeconfig=${kubeconfig}`, `--count=${nodeCount}`, '--name-prefix=hollow-node-', '--zones=zone-a,zone-b,zone-c', `--healthz-port=${hollowPort}`, '--healthz-bind-address=127.0.0.1', '--log-level=warn']);
    children.push(hollow);
    const hollowURL = `http://127.0.0.1:${hollowPort}`;
    await waitHTTP(`${hollowURL}/readyz`, hollow, 10 * 60_000);
    const registerSecs = (Date.now() - registerStart) / 1000;
    figures.density_hollow_registration_s = round(registerSecs, 2);
    log(`  ${nodeCount} hollow nodes registered and ready in ${registerSecs.toFixed(1)} s`);

    await client.create(resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    // No serviceaccount controller may run yet; the ServiceAccount admission needs `default`.
    await client.create(resources.serviceAccounts, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } }).catch((e: unknown) => {
      if (!isAlreadyExists(e)) throw e;
    });
    if (!haveScheduler) stopBinder = startFallbackBinder(client, kubeconfig, Array.from({ length: nodeCount }, (_, i) => `hollow-node-${i}`));

    const components: [string, number][] = [
      ['etcd', etcd.process.pid!],
      ['apiserver', api.process.pid!],
      ['controller_manager', kcm.process.pid!],
      ...(scheduler ? ([['scheduler', scheduler.process.pid!]] as [string, number][]) : []),
      ['hollow', hollow.process.pid!],
    ];
    const before = new Map(components.map(([n, pid]) => [n, procSample(pid)]));

    const perDeployment = Math.min(1000, Math.max(1, Math.ceil(podCount / 10)));
    const deployments = Math.ceil(podCount / perDeployment);
    const t0 = Date.now();
    for (let d = 0; d < deployments; d++) {
      const replicas = Math.min(perDeployment, podCount - d * perDeployment);
      await client.create(resources.deployments, namespace, deployment(`density-${d}`, replicas));
    }
    log(`  created ${deployments} Deployments of up to ${perDeployment} replicas`);

    // Progress comes from the hollow nodes' own count: no extra pod watch on the apiserver.
    const stallMs = 180_000;
    let last = 0;
    let lastChange = Date.now();
    let lastLog = Date.now();
    let running = 0;
    for (;;) {
      running = await scrape(`${hollowURL}/metrics`, 'hollow_pods_running');
      const now = Date.now();
      if (running >= podCount) break;
      if (running !== last) {
        last = running;
        lastChange = now;
      }
      for (const c of children) if (c.process.exitCode !== null) throw new Error(`${c.name} exited during the run: ${c.stderr()}`);
      if (now - lastChange > stallMs) {
        notes.push(`stopped waiting: ${Number.isFinite(running) ? running : 0}/${podCount} pods Running and no progress for ${stallMs / 1000} s.`);
        break;
      }
      if (now - lastLog > 15_000) {
        lastLog = now;
        log(`    ${running}/${podCount} Running after ${((now - t0) / 1000).toFixed(0)} s`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const allRunning = running >= podCount;
    // Where the hollow nodes' time went: waiting in their queue, and the status write itself.
    const hm = await fetch(`${hollowURL}/metrics`).then((r) => r.text(), () => '');
    const mean = (name: string, labels: string) => {
      const sum = Number(new RegExp(`^${name}_sum\\{${labels}\\} (\\S+)$`, 'm').exec(hm)?.[1]);
      const count = Number(new RegExp(`^${name}_count\\{${labels}\\} (\\S+)$`, 'm').exec(hm)?.[1]);
      return count > 0 ? (sum / count) * 1000 : NaN;
    };
    const queueWait = mean('workqueue_queue_duration_seconds', 'name="hollow_pods"');
    const patchLatency = mean('hollow_request_duration_seconds', 'verb="PATCH",resource="pods/status"');
    figures.density_hollow_queue_wait_mean_ms = round(queueWait, 1);
    figures.density_hollow_status_patch_mean_ms = round(patchLatency, 1);
    const retries = [...hm.matchAll(/^hollow_requests_total\{verb="([^"]+)",resource="([^"]+)",code="(409|429|5\d\d|0)"\} (\S+)$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}: ${m[4]}`);
    log(`  hollow nodes: queue wait mean ${queueWait.toFixed(1)} ms, status PATCH mean ${patchLatency.toFixed(1)} ms${retries.length ? `; failed writes ${retries.join(', ')}` : ''}`);
    const elapsed = (Date.now() - t0) / 1000;
    const after = new Map(components.map(([n, pid]) => [n, procSample(pid)]));
    if (allRunning) {
      figures.density_time_to_all_running_s = round(elapsed, 2);
      figures.density_pods_per_s = round(podCount / elapsed, 1);
      log(`  all ${podCount} pods Running ${elapsed.toFixed(1)} s after the first Deployment: ${(podCount / elapsed).toFixed(0)} pods/s`);
    } else {
      figures.density_time_to_all_running_s = null;
      figures.density_pods_per_s = null;
      log(`  NOT all pods Running: ${running}/${podCount} after ${elapsed.toFixed(0)} s`);
    }
    figures.density_pods_running = Number.isFinite(running) ? running : null;

    // Timestamps from the pods themselves.
    const bindSecs: number[] = [];
    const startup: number[] = [];
    const bindToRunning: number[] = [];
    let cont: string | undefined;
    let listed = 0;
    do {
      const page = await client.list<Pod>(resources.pods, namespace, { limit: 250, continue: cont });
      listed += page.items.length;
      for (const p of page.items) {
        const created = Date.parse(p.metadata?.creationTimestamp ?? '');
        const bound = Date.parse(p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True')?.lastTransitionTime ?? '');
        const started = Date.parse(p.status?.startTime ?? '');
        if (Number.isFinite(bound)) bindSecs.push(bound / 1000);
        if (p.status?.phase === 'Running' && Number.isFinite(created) && Number.isFinite(started)) startup.push(started - created);
        if (p.status?.phase === 'Running' && Number.isFinite(bound) && Number.isFinite(started)) bindToRunning.push(started - bound);
      }
      cont = page.metadata?.continue || undefined;
    } while (cont);
    if (listed !== podCount) notes.push(`the final paged LIST returned ${listed} pods, not ${podCount}.`);
    if (bindSecs.length !== listed) notes.push(`${listed - bindSecs.length} of ${listed} listed pods had no PodScheduled=True condition.`);
    if (bindSecs.length) {
      bindSecs.sort((a, b) => a - b);
      const span = bindSecs.at(-1)! - bindSecs[0]! + 1;
      const perSecond = new Map<number, number>();
      for (const s of bindSecs) perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
      const peak = Math.max(...perSecond.values());
      const key = haveScheduler ? 'density_scheduler' : 'density_fallback_binder';
      figures[`${key}_pods_per_s`] = round(bindSecs.length / span, 1);
      figures[`${key}_peak_pods_per_s`] = peak;
      log(`  ${haveScheduler ? 'scheduler' : 'fallback binder'}: ${bindSecs.length} bindings over ${span} s (binding timestamps have whole seconds): ${(bindSecs.length / span).toFixed(0)} pods/s, peak ${peak} in one second`);
    }
    if (startup.length) {
      startup.sort((a, b) => a - b);
      figures.density_pod_startup_p50_ms = percentile(startup, 50);
      figures.density_pod_startup_p99_ms = percentile(startup, 99);
      log(`  create → Running: p50 ${percentile(startup, 50)} ms, p99 ${percentile(startup, 99)} ms (whole-second timestamps)`);
    }
    if (bindToRunning.length) {
      // The hollow nodes' own share: from the binding to the Running status they wrote.
      bindToRunning.sort((a, b) => a - b);
      figures.density_bind_to_running_p50_ms = percentile(bindToRunning, 50);
      figures.density_bind_to_running_p99_ms = percentile(bindToRunning, 99);
      log(`  bound → Running (the hollow nodes' part): p50 ${percentile(bindToRunning, 50)} ms, p99 ${percentile(bindToRunning, 99)} ms (whole-second timestamps)`);
    }

    log(`  process            RSS MiB   peak MiB   CPU s during the run`);
    for (const [name] of components) {
      const a = after.get(name)!;
      const cpu = a.cpuSeconds - before.get(name)!.cpuSeconds;
      figures[`density_${name}_rss_mb`] = round(a.rssMiB, 0);
      figures[`density_${name}_peak_rss_mb`] = round(a.peakRssMiB, 0);
      figures[`density_${name}_cpu_s`] = round(cpu, 1);
      log(`  ${name.padEnd(18)} ${a.rssMiB.toFixed(0).padStart(7)} ${a.peakRssMiB.toFixed(0).padStart(10)}   ${cpu.toFixed(1).padStart(8)}`);
    }
    if (full && allRunning) figures.apiserver_rss_mb_1k_nodes_30k_pods = figures.density_apiserver_rss_mb ?? null;
    else notes.push('apiserver_rss_mb_1k_nodes_30k_pods is only reported by a full run (1,000 nodes, 30,000 pods) in which every pod ran.');
  } finally {
    stopBinder?.();
    for (const c of children.reverse()) await c.stop();
    await client?.close();
    await api?.kill();
    await etcd?.stop();
    if (kubeconfig) fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
  }
  for (const n of notes) log(`  note: ${n}`);
  return { figures, notes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const envInt = (k: string) => (process.env[k] ? Number(process.env[k]) : undefined);
  benchDensity({ nodes: envInt('DENSITY_NODES'), pods: envInt('DENSITY_PODS') }).then(
    (r) => process.stdout.write(JSON.stringify(r.figures, null, 2) + '\n'),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
