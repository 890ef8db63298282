/**
 * Container probes (upstream pkg/kubelet/prober): one worker per container and probe kind, run
 * every periodSeconds after initialDelaySeconds, with timeoutSeconds, successThreshold and
 * failureThreshold. Liveness and readiness wait until the startup probe (if any) has succeeded.
 * Handlers: exec (CRI ExecSync), httpGet, tcpSocket and grpc (grpc.health.v1).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Container, Pod, Probe } from './types.js';
import type { CriClient } from '../cri/index.js';
import { criErrorMessage } from '../cri/index.js';
import type { Logger } from '../log/logger.js';
import type { EventRecorder } from './events.js';
import { kubernetesVersion } from '../apiserver/version.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeOutcome {
  ok: boolean;
  /** What went wrong, for the Unhealthy event. */
  output: string;
}

/** Resolves a probe/handler port: a number, or the name of one of the container's ports. */
export function resolvePort(port: number | string | undefined, c: Container): number {
  if (typeof port === 'number') return port;
  if (port === undefined) throw new Error('no port');
  if (/^\d+$/.test(port)) return Number(port);
  const p = (c.ports ?? []).find((x) => x.name === port);
  if (!p) throw new Error(`couldn't find port ${port} in container ${c.name}`);
  return p.containerPort;
}

const USER_AGENT = `kube-probe/${kubernetesVersion.major}.${kubernetesVersion.minor}`;

/** An HTTP GET with upstream's success rule (200 ≤ code < 400). Redirects are not followed. */
export function httpGetProbe(h: NonNullable<Probe['httpGet']>, host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  const scheme = (h.scheme ?? 'HTTP').toUpperCase();
  const mod = scheme === 'HTTPS' ? https : http;
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: '*/*' };
  for (const hd of h.httpHeaders ?? []) headers[hd.name] = hd.value;
  const target = h.host || host;
  const path = h.path ? (h.path.startsWith('/') ? h.path : `/${h.path}`) : '/';
  return new Promise((resolve) => {
    const req = mod.request({ host: target, port, path, method: 'GET', headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      const code = res.statusCode ?? 0;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 10_240) body += d;
      });
      res.on('end', () => resolve(code >= 200 && code < 400 ? { ok: true, output: '' } : { ok: false, output: `HTTP probe failed with statuscode: ${code}` }));
      res.on('error', (e) => resolve({ ok: false, output: `Get "${scheme.toLowerCase()}://${target}:${port}${path}": ${e.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded (Client.Timeout exceeded while awaiting headers)')));
    req.on('error', (e) => resolve({ ok: false, output: `Get "${scheme.toLowerCase()}://${target}:${port}${path}": ${e.message}` }));
    req.end();
  });
}

export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (o: ProbeOutcome) => {
      s.destroy();
      resolve(o);
    };
    s.setTimeout(timeoutMs, () => done({ ok: false, output: `dial tcp ${host}:${port}: i/o timeout` }));
    s.once('connect', () => done({ ok: true, output: '' }));
    s.once('error', (e) => done({ ok: false, output: `dial tcp ${host}:${port}: ${e.message}` }));
  });
}

/** grpc.health.v1.Health/Check with a hand-encoded request (one string field) and reply (one enum). */
export function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const encode = (req: { service: string }) => {
    const s = Buffer.from(req.service, 'utf8');
    return s.length ? Buffer.concat([Buffer.from([0x0a, s.length]), s]) : Buffer.alloc(0);
  };
  const decode = (b: Buffer) => {
    let status = 0;
    for (let i = 0; i < b.length; ) {
      const tag = b[i++]!;
      let v = 0;
      let shift = 0;
      while (i < b.length) {
        const byte = b[i++]!;
        v |= (byte & 0x7f) << shift;
        shift += 7;
        if (!(byte & 0x80)) break;
      }
      if (tag === 0x08) status = v;
    }
    return { status };
  };
  const client = new grpc.Client(`${host}:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', encode, decode, { service }, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      client.close();
      if (err) return resolve({ ok: false, output: `timeout: failed to connect service "${host}:${port}" within ${timeoutMs / 1000}s: ${err.details || err.message}` });
      resolve(res?.status === 1 ? { ok: true, output: '' } : { ok: false, output: `service unhealthy (responded with "${['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][res?.status ?? 0] ?? res?.status}")` });
    });
  });
}

/** Runs one probe (or lifecycle handler) against a container. */
export async function runHandler(cri: CriClient, h: Probe, c: Container, containerId: string, podIP: string, timeoutSeconds: number): Promise<ProbeOutcome> {
  const timeoutMs = Math.max(1, timeoutSeconds) * 1000;
  if (h.exec) {
    try {
      const r = await cri.execSync(containerId, h.exec.command ?? [], Math.max(1, timeoutSeconds));
      const out = Buffer.concat([r.stdout ?? Buffer.alloc(0), r.stderr ?? Buffer.alloc(0)]).toString('utf8');
      return r.exit_code === 0 ? { ok: true, output: out } : { ok: false, output: out || `command ${JSON.stringify(h.exec.command)} exited with ${r.exit_code}` };
    } catch (e) {
      return { ok: false, output: criErrorMessage(e) };
    }
  }
  if (h.httpGet) return httpGetProbe(h.httpGet, podIP, resolvePort(h.httpGet.port as number | string, c), timeoutMs);
  if (h.tcpSocket) return tcpProbe(h.tcpSocket.host || podIP, resolvePort(h.tcpSocket.port as number | string, c), timeoutMs);
  if (h.grpc) return grpcProbe(podIP, h.grpc.port, h.grpc.service ?? '', timeoutMs);
  return { ok: false, output: 'probe has no handler' };
}

interface Worker {
  uid: string;
  containerId: string;
  kind: ProbeKind;
  timer?: NodeJS.Timeout;
  successes: number;
  failures: number;
  stopped: boolean;
}

/**
 * Probe workers and their results. Results are read by the pod sync: readiness for the status,
 * startup for `started` and for gating the other probes, liveness and startup failures to restart.
 */
export class ProbeManager {
  private readonly workers = new Map<string, Worker>();
  /** containerId/kind → current result. */
  private readonly results = new Map<string, boolean>();

  constructor(
    private readonly cri: CriClient,
    private readonly events: EventRecorder,
    private readonly log: Logger,
    private readonly onChange: (uid: string) => void,
  ) {}

  private key(containerId: string, kind: ProbeKind): string {
    return `${containerId}/${kind}`;
  }

  /** True when the readiness probe passes (or there is none and the container has started). */
  ready(c: Container, containerId: string): boolean {
    if (!this.started(c, containerId)) return false;
    if (!c.readinessProbe) return true;
    return this.results.get(this.key(containerId, 'readiness')) === true;
  }

  started(c: Container, containerId: string): boolean {
    if (!c.startupProbe) return true;
    return this.results.get(this.key(containerId, 'startup')) === true;
  }

  /** True when liveness or startup has failed and the container must be restarted. */
  failed(containerId: string): ProbeKind | undefined {
    if (this.results.get(this.key(containerId, 'liveness')) === false) return 'liveness';
    if (this.results.get(this.key(containerId, 'startup')) === false) return 'startup';
    return undefined;
  }

  /**
   * Makes the running containers of a pod have exactly the workers their probes need, and stops
   * the workers of containers that are gone.
   */
  reconcile(pod: Pod, running: { c: Container; id: string; startedAt: number }[], podIP: string): void {
    const uid = pod.metadata!.uid!;
    const want = new Set<string>();
    for (const { c, id, startedAt } of running) {
      for (const kind of ['startup', 'liveness', 'readiness'] as ProbeKind[]) {
        const probe = kind === 'startup' ? c.startupProbe : kind === 'liveness' ? c.livenessProbe : c.readinessProbe;
        if (!probe) continue;
        const k = this.key(id, kind);
        want.add(k);
        if (this.workers.has(k)) continue;
        const w: Worker = { uid, containerId: id, kind, successes: 0, failures: 0, stopped: false };
        this.workers.set(k, w);
        const initialDelay = Math.max(0, (probe.initialDelaySeconds ?? 0) * 1000 - (Date.now() - startedAt));
        w.timer = setTimeout(() => void this.tick(w, pod, c, probe, podIP), initialDelay);
      }
    }
    for (const [k, w] of this.workers) {
      if (w.uid === uid && !want.has(k)) this.stopWorker(k, w);
    }
  }

  private stopWorker(k: string, w: Worker): void {
    w.stopped = true;
    if (w.timer) clearTimeout(w.timer);
    this.workers.delete(k);
    this.results.delete(k);
  }

  removePod(uid: string): void {
    for (const [k, w] of this.workers) if (w.uid === uid) this.stopWorker(k, w);
  }

  stopAll(): void {
    for (const [k, w] of this.workers) this.stopWorker(k, w);
  }

  private async tick(w: Worker, pod: Pod, c: Container, probe: Probe, podIP: string): Promise<void> {
    if (w.stopped) return;
    const period = Math.max(1, probe.periodSeconds ?? 10) * 1000;
    const k = this.key(w.containerId, w.kind);
    const gated = w.kind !== 'startup' && c.startupProbe && this.results.get(this.key(w.containerId, 'startup')) !== true;
    const startupDone = w.kind === 'startup' && this.results.get(k) === true;
    if (!gated && !startupDone) {
      let outcome: ProbeOutcome;
      try {
        outcome = await runHandler(this.cri, probe, c, w.containerId, podIP, probe.timeoutSeconds ?? 1);
      } catch (e) {
        outcome = { ok: false, output: (e as Error).message };
      }
      if (w.stopped) return;
      const prev = this.results.get(k);
      let next = prev;
      if (outcome.ok) {
        w.failures = 0;
        w.successes++;
        const threshold = w.kind === 'readiness' ? Math.max(1, probe.successThreshold ?? 1) : 1;
        if (w.successes >= threshold) next = true;
      } else {
        w.successes = 0;
        w.failures++;
        const label = w.kind === 'liveness' ? 'Liveness' : w.kind === 'readiness' ? 'Readiness' : 'Startup';
        this.events.pod(pod, 'Warning', 'Unhealthy', `${label} probe failed: ${outcome.output.trim()}`.slice(0, 1024), `spec.containers{${c.name}}`);
        if (w.failures >= Math.max(1, probe.failureThreshold ?? 3)) next = false;
      }
      if (next !== prev && next !== undefined) {
        this.results.set(k, next);
        this.log.debug({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, container: c.name, kind: w.kind, result: next }, 'probe result changed');
        this.onChange(w.uid);
      }
      // A failed liveness or startup probe ends this worker: the container is restarted with a
      // new ID and new workers.
      if (next === false && w.kind !== 'readiness') return;
    }
    if (!w.stopped) w.timer = setTimeout(() => void this.tick(w, pod, c, probe, podIP), period);
  }
}
