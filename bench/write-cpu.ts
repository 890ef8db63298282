/**
 * CPU per write in kube-apiserver: pod creates, pods/binding creates and pod status patches,
 * measured as the apiserver process's CPU time (from /proc) over N requests. Wall throughput is
 * too noisy on a shared machine to compare changes; CPU per request is far steadier.
 *
 *   npx node .build/<out>/bench/write-cpu.js [N] [concurrency]
 *
 * WRITE_CPU_PROF=<dir> runs the apiserver with --cpu-prof into that folder (one profile for the
 * whole run; the phases are logged so a profile can be read against them).
 * WRITE_CPU_PHASES=create,binding,status,event,apply picks phases (default: create,binding,status).
 */
import path from 'node:path';
import { Agent, request } from 'undici';
import { startEtcd } from '../test/harness/etcd.js';
import { spawnApiserver } from '../test/harness/apiserver.js';
import { readFileSync } from 'node:fs';
import { runConcurrent } from './stats.js';

/** CPU time (user + system) a process has used, in ms, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2000);
  const conc = Number(process.argv[3] ?? 32);
  const phases = (process.env.WRITE_CPU_PHASES ?? 'create,binding,status').split(',');
  const prof = process.env.WRITE_CPU_PROF;
  const etcd = await startEtcd();
  const saved = process.env.NODE_OPTIONS;
  if (prof) process.env.NODE_OPTIONS = `${saved ?? ''} --cpu-prof --cpu-prof-dir=${path.resolve(prof)}`.trim();
  const api = await spawnApiserver(etcd.endpoint, undefined, ['--etcd-compaction-interval=0']);
  if (saved === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = saved;
  const agent = new Agent({ connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
  const call = async (method: 'POST' | 'PATCH', p: string, body: unknown, contentType = 'application/json') => {
    const r = await request(api.url + p, { method, body: JSON.stringify(body), headers: { 'content-type': contentType }, dispatcher: agent });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${p}: ${r.statusCode} ${text.slice(0, 300)}`);
  };
  const pid = api.process.pid!;
  const measure = async (label: string, fn: (i: number) => Promise<void>) => {
    const c0 = cpuMs(pid);
    const secs = await runConcurrent(n, conc, fn);
    const c1 = cpuMs(pid);
    process.stdout.write(`${label}: ${((c1 - c0) / n).toFixed(3)} ms CPU each, ${(n / secs).toFixed(0)}/s (n=${n}, concurrency ${conc})\n`);
  };
  try {
    const ns = 'wcpu';
    await call('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await call('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } });
    await call('POST', '/api/v1/nodes', { metadata: { name: 'n1' } });
    // Warm-up: the first requests load models and compile code paths.
    for (let i = 0; i < 50; i++) await call('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, `warm-${i}`));
    if (phases.includes('create')) {
      await measure('pod create', (i) => call('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, `p-${i}`)));
    }
    if (phases.includes('binding')) {
      await measure('pods/binding', (i) =>
        call('POST', `/api/v1/namespaces/${ns}/pods/p-${i}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: `p-${i}` }, target: { kind: 'Node', name: 'n1' } }),
      );
    }
    if (phases.includes('status')) {
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      await measure('pod status patch', (i) =>
        call(
          'PATCH',
          `/api/v1/namespaces/${ns}/pods/p-${i}/status`,
          { status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }], containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'busybox:1.36', imageID: '', state: { running: { startedAt: now } } }] } },
          'application/strategic-merge-patch+json',
        ),
      );
    }
    if (phases.includes('event')) {
      const now = new Date().toISOString();
      await measure('event create', (i) =>
        call('POST', `/api/v1/namespaces/${ns}/events`, {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `p-${i}.${(1e6 + i).toString(16)}`, namespace: ns },
          involvedObject: { kind: 'Pod', namespace: ns, name: `p-${i}`, uid: `uid-${i}`, apiVersion: 'v1' },
          reason: 'Scheduled',
          message: `Successfully assigned ${ns}/p-${i} to n1`,
          source: { component: 'default-scheduler' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          type: 'Normal',
          reportingComponent: 'default-scheduler',
        }),
      );
    }
    if (phases.includes('apply')) {
      await measure('pod apply (label change)', (i) =>
        call('PATCH', `/api/v1/namespaces/${ns}/pods/p-${i}?fieldManager=bench&force=true`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, labels: { applied: 'yes' } } }, 'application/apply-patch+yaml'),
      );
    }
  } finally {
    await agent.close();
    if (prof) {
      api.process.kill('SIGTERM');
      await new Promise((r) => api.process.once('exit', r));
    } else await api.kill();
    await etcd.stop();
  }
}

function pod(ns: string, name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'bench', tier: 'x' } },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

await main();
