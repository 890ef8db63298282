/**
 * Pod startup on real containerd: real etcd, an in-process kube-apiserver, a private containerd
 * with its own registry and images (test/harness/containerd.ts) and keelson's kubelet in-process.
 *
 * The busybox image is pulled once before timing (a warm-up pod is run and deleted). Then N pods
 * (`busybox sleep 3600`; 50, QUICK: 10) are created with at most 10 requests in flight; each is
 * bound to the node with pods/binding right after its create (there is no scheduler here). The
 * time of a pod is from the start of its create request to the watch event in which its
 * status.phase is Running. Reported: p50 and p99 in ms, and the count.
 *
 * Run standalone: `node dist/bench/pod-startup.js` (QUICK mode; prints the figures as JSON).
 */
import { pathToFileURL } from 'node:url';
import { startEtcd, type EtcdHandle } from '../test/harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../test/harness/apiserver.js';
import { nodeTestsSupported, startNodeRuntime, type NodeRuntime } from '../test/harness/containerd.js';
import { bindPod, kubeletConfigFor, nodeNameFor, startKubelet, type KubeletHandle } from '../test/harness/kubelet.js';
import { req } from '../test/harness/client.js';
import { percentile, runConcurrent } from './stats.js';

export interface PodStartupOptions {
  quick?: boolean;
  log?: (line: string) => void;
}

export interface PodStartupResult {
  figures: Record<string, number | null>;
  notes: string[];
}

const NS = 'default';
const LABEL = 'keelson-bench=pod-startup';
const CONCURRENCY = 10;

function podObject(name: string, image: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { 'keelson-bench': 'pod-startup' } },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image, command: ['sleep', '3600'] }] },
  };
}

/** A watch on the benchmark's pods that calls `onRunning(name, t)` once per pod, when phase is Running. */
function watchRunning(apiUrl: string, resourceVersion: string, onRunning: (name: string, t: number) => void): { stop(): void; failed: Promise<never> } {
  const ac = new AbortController();
  const seen = new Set<string>();
  const failed = (async (): Promise<never> => {
    const url = `${apiUrl}/api/v1/namespaces/${NS}/pods?watch=true&allowWatchBookmarks=false&labelSelector=${encodeURIComponent(LABEL)}&resourceVersion=${resourceVersion}`;
    const r = await fetch(url, { signal: ac.signal });
    if (r.status !== 200) throw new Error(`pod watch failed: ${r.status} ${await r.text()}`);
    const reader = r.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the pod watch ended early');
      const now = performance.now();
      buf += decoder.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.trim()) continue;
        const ev = JSON.parse(line) as { type: string; object: { metadata?: { name?: string }; status?: { phase?: string } } };
        if (ev.type === 'ERROR') throw new Error(`pod watch error: ${line}`);
        const name = ev.object?.metadata?.name;
        if (name && ev.object.status?.phase === 'Running' && !seen.has(name)) {
          seen.add(name);
          onRunning(name, now);
        }
      }
    }
  })();
  // Aborting on stop rejects `failed`; nobody needs that rejection then.
  failed.catch(() => undefined);
  return { stop: () => ac.abort(), failed };
}

/** Waits until `done()` holds, failing on the watch's failure or after `timeoutMs`. */
async function waitFor(done: () => boolean, failed: Promise<never>, timeoutMs: number, what: string): Promise<void> {
  let error: unknown;
  let hasError = false;
  failed.catch((e: unknown) => {
    error = e;
    hasError = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (hasError) throw error;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function createAndBind(apiUrl: string, name: string, image: string, nodeName: string): Promise<void> {
  const r = await req(apiUrl, 'POST', `/api/v1/namespaces/${NS}/pods`, podObject(name, image));
  if (r.status !== 201) throw new Error(`creating pod ${name} failed: ${r.status} ${r.text}`);
  await bindPod(apiUrl, NS, name, nodeName);
}

async function listRV(apiUrl: string): Promise<string> {
  const r = await req(apiUrl, 'GET', `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(LABEL)}`);
  if (r.status !== 200) throw new Error(`listing pods failed: ${r.status} ${r.text}`);
  return String(r.body.metadata.resourceVersion);
}

export async function benchPodStartup(opts: PodStartupOptions = {}): Promise<PodStartupResult> {
  const quick = opts.quick ?? process.env.QUICK === '1';
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const count = quick ? 10 : 50;
  const figures: Record<string, number | null> = { pod_startup_p50_ms: null, pod_startup_p99_ms: null, pod_startup_count: null };
  const notes: string[] = [];

  const support = nodeTestsSupported();
  if (!support.ok) {
    notes.push(`pod_startup_p50_ms and pod_startup_p99_ms are null: the pod-startup benchmark needs a real node runtime and was skipped (${support.why}).`);
    log(`  skipped: ${support.why}`);
    return { figures, notes };
  }

  log(`## Pod startup: ${count} busybox pods on real containerd${quick ? ' (QUICK)' : ''}`);
  let etcd: EtcdHandle | undefined;
  let api: ApiserverHandle | undefined;
  let node: NodeRuntime | undefined;
  let kubelet: KubeletHandle | undefined;
  let watch: { stop(): void; failed: Promise<never> } | undefined;
  try {
    etcd = await startEtcd();
    api = await startApiserver(etcd.endpoint);
    node = await startNodeRuntime({ name: 'pstart' });
    const nodeName = nodeNameFor('bench-node');
    kubelet = await startKubelet(kubeletConfigFor(node, api.kubeconfig, nodeName));
    const image = node.images.busybox;
    const apiUrl = api.url;

    // Warm-up: pull the image once, then remove the pod so the timed pods start from a clean node.
    const running = new Map<string, number>();
    watch = watchRunning(apiUrl, await listRV(apiUrl), (name, t) => running.set(name, t));
    const w0 = performance.now();
    await createAndBind(apiUrl, 'warmup', image, nodeName);
    await waitFor(() => running.has('warmup'), watch.failed, 180_000, 'the warm-up pod to run');
    log(`  warm-up pod (pulls the image if needed) Running after ${(running.get('warmup')! - w0).toFixed(0)} ms`);
    await req(apiUrl, 'DELETE', `/api/v1/namespaces/${NS}/pods/warmup`);
    const gone = Date.now() + 60_000;
    while ((await req(apiUrl, 'GET', `/api/v1/namespaces/${NS}/pods/warmup`)).status !== 404) {
      if (Date.now() > gone) {
        notes.push('pod startup: the warm-up pod was still terminating when timing began.');
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }

    const started = new Map<string, number>();
    const names = Array.from({ length: count }, (_, i) => `pstart-${i}`);
    const wall = await runConcurrent(count, CONCURRENCY, async (i) => {
      const name = names[i]!;
      started.set(name, performance.now());
      await createAndBind(apiUrl, name, image, nodeName);
    });
    log(`  ${count} pods created and bound in ${(wall * 1000).toFixed(0)} ms (${CONCURRENCY} in flight)`);
    await waitFor(() => names.every((n) => running.has(n)), watch.failed, 300_000, `${count} pods to be Running`);

    const samples = names.map((n) => running.get(n)! - started.get(n)!).sort((a, b) => a - b);
    const p50 = percentile(samples, 50);
    const p99 = percentile(samples, 99);
    figures.pod_startup_p50_ms = Math.round(p50);
    figures.pod_startup_p99_ms = Math.round(p99);
    figures.pod_startup_count = count;
    log(`  create → Running: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${samples.at(-1)!.toFixed(0)} ms (n=${count})`);
    notes.push(
      `pod_startup_*: ${count} busybox pods on one keelson kubelet with a private containerd, image already present; the benchmark binds each pod itself with pods/binding right after its create (no scheduler), so the figures are create request start → the watch event with phase Running, without scheduling.`,
    );
    if (quick) notes.push(`pod_startup_* in QUICK mode come from ${count} pods (the full run uses 50).`);
  } finally {
    watch?.stop();
    await kubelet?.stop().catch(() => undefined);
    await node?.stop().catch(() => undefined);
    await api?.stop().catch(() => undefined);
    await etcd?.stop().catch(() => undefined);
  }
  return { figures, notes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchPodStartup({ quick: true }).then(
    (r) => {
      process.stdout.write(JSON.stringify(r.figures, null, 2) + '\n');
      for (const n of r.notes) process.stdout.write(`- ${n}\n`);
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
