/**
 * API benchmarks against the physical limit: pod creates through the apiserver versus
 * transactional puts of the same JSON straight into etcd, at the same concurrency, plus GET,
 * LIST and watch-delivery latencies.
 */
import { Etcd3 } from 'etcd3';
import { Agent, request } from 'undici';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { summarize, runConcurrent } from './stats.js';

/** CPU time (user + system) a process has used, in ms, from /proc; NaN when unreadable. */
function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

export interface ApiBenchResult {
  /**
   * Creates per second, and, when the process ids were given, CPU ms per create: the apiserver's
   * for its creates, etcd's for the raw ones. CPU per create varies far less than throughput
   * when other work shares the machine.
   */
  creates: { concurrency: number; apiPerSec: number; etcdPerSec: number; ratio: number; apiCpuMsPerCreate?: number; etcdCpuMsPerCreate?: number }[];
  get: { p50: number; p99: number };
  /** rv0Gzip: RV=0 asking for gzip (as kubectl does), decompressed by the client. */
  list10k: { rv0: { p50: number; p99: number }; consistent: { p50: number; p99: number }; rv0Gzip?: { p50: number; p99: number } };
  watch: { watchers: number; p50: number; p99: number }[];
}

function podJSON(ns: string, name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'bench', tier: 'x' } },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  });
}

export type ApiSection = 'creates' | 'list' | 'watch';

export interface ApiBenchOptions {
  creates: number;
  concurrencies: number[];
  listSize: number;
  listRuns: number;
  watcherCounts: number[];
  watchEvents: number;
  /** Pause between the watch benchmark's writes (default 50 ms). */
  watchIntervalMs?: number;
  pids?: { apiserver?: number; etcd?: number };
  /** Which parts to run (default all; GET latency goes with the creates). */
  sections?: ApiSection[];
}

/** Watch clients per thread: a thread reads at most this many streams. */
const WATCHES_PER_THREAD = 250;

/**
 * Opens `n` watches on `path`, spread over client threads (bench/watch-worker.ts), then makes
 * `events` writes through `write(name)` with names w-0… and returns the delivery latency: from
 * just before each write was sent to each watch's receipt of its event.
 */
export async function benchWatch(apiURL: string, path: string, n: number, events: number, intervalMs: number, write: (name: string) => Promise<void>): Promise<{ p50: number; p99: number; deliveries: number; threads: number }> {
  const u = new URL(apiURL);
  const threads = Math.max(1, Math.min(4, Math.ceil(n / WATCHES_PER_THREAD)));
  const workers: Worker[] = [];
  const sendTimes = new Map<string, number>();
  const samples: number[] = [];
  try {
    const readies: Promise<void>[] = [];
    for (let i = 0; i < threads; i++) {
      const count = Math.floor(n / threads) + (i < n % threads ? 1 : 0);
      const w = new Worker(new URL('./watch-worker.js', import.meta.url), { workerData: { host: u.hostname, port: Number(u.port), path, count } });
      workers.push(w);
      readies.push(
        new Promise((resolve, reject) => {
          const onMessage = (m: { ready?: boolean; error?: string }) => {
            if (m.error) reject(new Error(`watch failed: ${m.error}`));
            else if (m.ready) {
              w.off('message', onMessage);
              resolve();
            }
          };
          w.on('message', onMessage);
          w.once('error', reject);
        }),
      );
    }
    await Promise.race([Promise.all(readies), new Promise((_, reject) => setTimeout(() => reject(new Error(`${n} watches not established in 60 s`)), 60_000))]);
    for (let e = 0; e < events; e++) {
      const name = `w-${e}`;
      sendTimes.set(name, performance.timeOrigin + performance.now());
      await write(name);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    // Give the last deliveries time to arrive, then collect every thread's receipts.
    await new Promise((r) => setTimeout(r, Math.max(1000, n * 2)));
    const all = await Promise.all(
      workers.map(
        (w) =>
          new Promise<[string, number[]][]>((resolve) => {
            w.on('message', (m: { receipts?: [string, number[]][] }) => m.receipts && resolve(m.receipts));
            w.postMessage({ stop: true });
          }),
      ),
    );
    for (const receipts of all) {
      for (const [name, times] of receipts) {
        const sent = sendTimes.get(name);
        if (sent !== undefined) for (const t of times) samples.push(t - sent);
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const sum = summarize(samples);
  return { p50: sum.p50, p99: sum.p99, deliveries: samples.length, threads };
}

export async function benchApi(apiURL: string, etcdEndpoint: string, opts: ApiBenchOptions, log: (s: string) => void): Promise<ApiBenchResult> {
  const want = (s: ApiSection) => !opts.sections || opts.sections.includes(s);
  const agent = new Agent({ connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: string, headers: Record<string, string> = {}) => {
    const r = await request(apiURL + path, { method, body, headers: { 'content-type': 'application/json', ...headers }, dispatcher: agent });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text.slice(0, 200)}`);
    return text;
  };
  // A namespace with its default ServiceAccount, which the ServiceAccount admission requires of
  // pods (no controller-manager runs in this benchmark to create it).
  const namespace = async (name: string) => {
    await call('POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name } }));
    await call('POST', `/api/v1/namespaces/${name}/serviceaccounts`, JSON.stringify({ metadata: { name: 'default' } }));
  };
  const etcd = new Etcd3({ hosts: etcdEndpoint.replace('http://', '') });
  const result: ApiBenchResult = { creates: [], get: { p50: NaN, p99: NaN }, list10k: { rv0: { p50: NaN, p99: NaN }, consistent: { p50: NaN, p99: NaN } }, watch: [] };
  try {
    // 1. Creates, apiserver versus raw etcd.
    for (const c of want('creates') ? opts.concurrencies : []) {
      const ns = `bench-c${c}`;
      await namespace(ns);
      const apiCpu0 = cpuMs(opts.pids?.apiserver);
      const apiSecs = await runConcurrent(opts.creates, c, async (i) => {
        await call('POST', `/api/v1/namespaces/${ns}/pods`, podJSON(ns, `p-${i}`));
      });
      const apiCpu = (cpuMs(opts.pids?.apiserver) - apiCpu0) / opts.creates;
      const etcdCpu0 = cpuMs(opts.pids?.etcd);
      const etcdSecs = await runConcurrent(opts.creates, c, async (i) => {
        const key = Buffer.from(`/bench-raw/c${c}/p-${i}`);
        const value = Buffer.from(podJSON(ns, `p-${i}`));
        const r = await etcd.kv.txn({ compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }], success: [{ request_put: { key, value } }], failure: [] });
        if (!r.succeeded) throw new Error('raw etcd create failed');
      });
      const etcdCpu = (cpuMs(opts.pids?.etcd) - etcdCpu0) / opts.creates;
      const apiPerSec = opts.creates / apiSecs;
      const etcdPerSec = opts.creates / etcdSecs;
      const row: ApiBenchResult['creates'][number] = { concurrency: c, apiPerSec, etcdPerSec, ratio: apiPerSec / etcdPerSec };
      if (Number.isFinite(apiCpu)) row.apiCpuMsPerCreate = apiCpu;
      if (Number.isFinite(etcdCpu)) row.etcdCpuMsPerCreate = etcdCpu;
      result.creates.push(row);
      const cpu = Number.isFinite(apiCpu) && Number.isFinite(etcdCpu) ? `; CPU per create: apiserver ${apiCpu.toFixed(2)} ms, etcd ${etcdCpu.toFixed(2)} ms` : '';
      log(`  creates at concurrency ${c}: apiserver ${apiPerSec.toFixed(0)}/s, raw etcd ${etcdPerSec.toFixed(0)}/s, ratio ${(apiPerSec / etcdPerSec).toFixed(2)}${cpu}`);
    }
    await etcd.delete().prefix('/bench-raw/');

    // 2. GET latency.
    const ns0 = `bench-c${opts.concurrencies[0]}`;
    const getSamples: number[] = [];
    for (let i = 0; want('creates') && i < Math.min(1000, opts.creates); i++) {
      const t = process.hrtime.bigint();
      await call('GET', `/api/v1/namespaces/${ns0}/pods/p-${i}`);
      getSamples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    result.get = summarize(getSamples);
    if (want('creates')) log(`  GET p50 ${result.get.p50.toFixed(2)} ms, p99 ${result.get.p99.toFixed(2)} ms`);

    // 3. LIST of listSize pods, from the cache (RV=0) and consistent (RV unset).
    const listNs = 'bench-list';
    if (want('list')) {
      await namespace(listNs);
      await runConcurrent(opts.listSize, 64, async (i) => {
        await call('POST', `/api/v1/namespaces/${listNs}/pods`, podJSON(listNs, `l-${i}`));
      });
      const last = `"l-${opts.listSize - 1}"`;
      // resourceVersion=0 may be served by a cache a moment behind the last create: wait for it.
      for (let i = 0; i < 100 && !(await call('GET', `/api/v1/namespaces/${listNs}/pods?resourceVersion=0`)).includes(last); i++) await new Promise((r) => setTimeout(r, 100));
      const listLatency = async (q: string) => {
        const s: number[] = [];
        for (let i = 0; i < opts.listRuns; i++) {
          const t = process.hrtime.bigint();
          const text = await call('GET', `/api/v1/namespaces/${listNs}/pods${q}`);
          s.push(Number(process.hrtime.bigint() - t) / 1e6);
          if (i === 0 && !text.includes(last)) throw new Error(`LIST${q} did not return every pod`);
        }
        return summarize(s);
      };
      result.list10k.rv0 = await listLatency('?resourceVersion=0');
      result.list10k.consistent = await listLatency('');
      const gz: number[] = [];
      for (let i = 0; i < opts.listRuns; i++) {
        const t = process.hrtime.bigint();
        const r = await request(`${apiURL}/api/v1/namespaces/${listNs}/pods?resourceVersion=0`, { headers: { 'accept-encoding': 'gzip' }, dispatcher: agent });
        const body = Buffer.from(await r.body.arrayBuffer());
        const text = (r.headers['content-encoding'] === 'gzip' ? await promisify(gunzip)(body) : body).toString('utf8');
        gz.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (i === 0 && !text.includes(last)) throw new Error('gzipped LIST did not return every pod');
      }
      const rv0Gzip = summarize(gz);
      result.list10k.rv0Gzip = rv0Gzip;
      log(`  LIST ${opts.listSize} pods: RV=0 p50 ${result.list10k.rv0.p50.toFixed(0)} ms p99 ${result.list10k.rv0.p99.toFixed(0)} ms; consistent p50 ${result.list10k.consistent.p50.toFixed(0)} ms p99 ${result.list10k.consistent.p99.toFixed(0)} ms; RV=0 gzipped p50 ${rv0Gzip.p50.toFixed(0)} ms p99 ${rv0Gzip.p99.toFixed(0)} ms`);
    }

    // 4. Watch delivery latency: from just before a write is sent to each watcher's receipt of
    // its event, on one clock shared by the client's threads.
    if (want('watch')) {
      for (const n of opts.watcherCounts) {
        const wns = `bench-watch-${n}`;
        await namespace(wns);
        const interval = opts.watchIntervalMs ?? 50;
        const w = await benchWatch(apiURL, `/api/v1/namespaces/${wns}/configmaps?watch=true&resourceVersion=0`, n, opts.watchEvents, interval, async (name) => {
          await call('POST', `/api/v1/namespaces/${wns}/configmaps`, JSON.stringify({ metadata: { name } }));
        });
        result.watch.push({ watchers: n, p50: w.p50, p99: w.p99 });
        log(`  watch delivery with ${n} watchers (${w.threads} client threads, a write every ${interval} ms): p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms (${w.deliveries}/${n * opts.watchEvents} deliveries)`);
      }
    }
  } finally {
    etcd.close();
    await agent.close();
  }
  return result;
}
