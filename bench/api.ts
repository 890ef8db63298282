/**
 * API benchmarks against the physical limit: pod creates through the apiserver versus
 * transactional puts of the same JSON straight into etcd, at the same concurrency, plus GET,
 * LIST and watch-delivery latencies.
 */
import { Etcd3 } from 'etcd3';
import { Agent, request } from 'undici';
import { readFileSync } from 'node:fs';
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
  list10k: { rv0: { p50: number; p99: number }; consistent: { p50: number; p99: number } };
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

export async function benchApi(apiURL: string, etcdEndpoint: string, opts: { creates: number; concurrencies: number[]; listSize: number; listRuns: number; watcherCounts: number[]; watchEvents: number; pids?: { apiserver?: number; etcd?: number } }, log: (s: string) => void): Promise<ApiBenchResult> {
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
    for (const c of opts.concurrencies) {
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
    for (let i = 0; i < Math.min(1000, opts.creates); i++) {
      const t = process.hrtime.bigint();
      await call('GET', `/api/v1/namespaces/${ns0}/pods/p-${i}`);
      getSamples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    result.get = summarize(getSamples);
    log(`  GET p50 ${result.get.p50.toFixed(2)} ms, p99 ${result.get.p99.toFixed(2)} ms`);

    // 3. LIST of listSize pods, from the cache (RV=0) and consistent (RV unset).
    const listNs = 'bench-list';
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
    log(`  LIST ${opts.listSize} pods: RV=0 p50 ${result.list10k.rv0.p50.toFixed(0)} ms p99 ${result.list10k.rv0.p99.toFixed(0)} ms; consistent p50 ${result.list10k.consistent.p50.toFixed(0)} ms p99 ${result.list10k.consistent.p99.toFixed(0)} ms`);

    // 4. Watch delivery latency: time from a write's response to each watcher seeing it.
    for (const n of opts.watcherCounts) {
      const wns = `bench-watch-${n}`;
      await namespace(wns);
      const seen = new Map<string, number[]>();
      const writeDone = new Map<string, bigint>();
      const controllers: AbortController[] = [];
      let ready = 0;
      const watchAgent = new Agent({ connections: n + 8, keepAliveTimeout: 60_000 });
      const streams = Array.from({ length: n }, async () => {
        const ac = new AbortController();
        controllers.push(ac);
        const r = await request(`${apiURL}/api/v1/namespaces/${wns}/configmaps?watch=true&resourceVersion=0`, { signal: ac.signal, dispatcher: watchAgent });
        ready++;
        let buf = '';
        try {
          for await (const chunk of r.body) {
            const now = process.hrtime.bigint();
            buf += chunk.toString();
            let i;
            while ((i = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              const name = /"name":"([^"]+)"/.exec(line)?.[1];
              if (!name) continue;
              const list = seen.get(name) ?? [];
              list.push(Number(now));
              seen.set(name, list);
            }
          }
        } catch {
          // aborted
        }
      });
      while (ready < n) await new Promise((r) => setTimeout(r, 20));
      for (let e = 0; e < opts.watchEvents; e++) {
        const name = `w-${e}`;
        const t = process.hrtime.bigint();
        await call('POST', `/api/v1/namespaces/${wns}/configmaps`, JSON.stringify({ metadata: { name } }));
        writeDone.set(name, t);
        await new Promise((r) => setTimeout(r, 20));
      }
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && [...writeDone.keys()].some((k) => (seen.get(k)?.length ?? 0) < n)) await new Promise((r) => setTimeout(r, 50));
      for (const c of controllers) c.abort();
      await Promise.allSettled(streams);
      await watchAgent.close();
      const samples: number[] = [];
      for (const [name, t] of writeDone) for (const s of seen.get(name) ?? []) samples.push((s - Number(t)) / 1e6);
      const sum = summarize(samples);
      result.watch.push({ watchers: n, p50: sum.p50, p99: sum.p99 });
      log(`  watch delivery with ${n} watchers: p50 ${sum.p50.toFixed(1)} ms, p99 ${sum.p99.toFixed(1)} ms (${samples.length}/${n * writeDone.size} deliveries)`);
    }
  } finally {
    etcd.close();
    await agent.close();
  }
  return result;
}
