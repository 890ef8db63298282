/**
 * The kubelet's HTTP server (upstream pkg/kubelet/server): /healthz, /metrics, /stats/summary,
 * /pods, /containerLogs/{namespace}/{pod}/{container}, and /exec, /attach and /portForward (see
 * streaming.ts). https when a serving certificate is configured, with client certificates
 * verified against the client CA and requests authorized by auth.ts; plain http and no auth
 * otherwise.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Pod } from './types.js';
import type { CriClient } from '../cri/index.js';
import type { Logger } from '../log/logger.js';
import { getRuntimePod } from './runtime-state.js';
import { readLogs } from './logs.js';
import { summary } from './stats.js';
import { handleStreamingUpgrade, refuseUpgrade } from './streaming.js';
import type { KubeletAuthorizer } from './auth.js';

/** The kubelet server's TLS and authorization (--tls-cert-file, --client-ca-file, --authorization-mode). */
export interface ServerSecurity {
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  /** Without it no client certificate verifies, so every authenticated path answers 401. */
  clientCAFile?: string;
  authorizer: KubeletAuthorizer;
}

export interface ServerDeps {
  cri: CriClient;
  registry: Registry;
  log: Logger;
  nodeName: string;
  rootDir: string;
  startTime: number;
  findPod(namespace: string, name: string): Pod | undefined;
  pods(): Pod[];
  healthy(): boolean;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new HttpError(400, `invalid ${name}: ${JSON.stringify(v)}`);
  return n;
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

/** Resolves the log file for `kubectl logs` (the newest instance, or the one before it for previous). */
async function containerLogFile(cri: CriClient, pod: Pod, container: string, previous: boolean): Promise<{ file: string; id: string }> {
  const meta = pod.metadata!;
  const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
  if (!names.includes(container)) throw new HttpError(400, `container ${container} is not valid for pod ${meta.name}`);
  const rp = await getRuntimePod(cri, meta.uid!);
  const instances = rp.containers.filter((c) => c.name === container);
  if (previous) {
    const prev = instances[1];
    if (!prev) throw new HttpError(400, `previous terminated container "${container}" in pod "${meta.name}" not found`);
    return { file: prev.logPath, id: prev.id };
  }
  const latest = instances[0];
  if (!latest) {
    const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const reason = all.find((s) => s.name === container)?.state?.waiting?.reason ?? 'ContainerCreating';
    throw new HttpError(400, `container "${container}" in pod "${meta.name}" is waiting to start: ${reason}`);
  }
  return { file: latest.logPath, id: latest.id };
}

export function startKubeletServer(d: ServerDeps, address: string, port: number, signal: AbortSignal, security?: ServerSecurity): Promise<{ server: http.Server; port: number }> {
  const app = (req: http.IncomingMessage, res: http.ServerResponse) => {
    void (async () => {
      const denied = await security?.authorizer.check(req);
      if (denied) throw new HttpError(denied.code, denied.message);
      await handle(req, res);
    })().catch((e) => {
      const code = e instanceof HttpError ? e.code : 500;
      if (code === 500) d.log.warn({ err: (e as Error).message, url: req.url }, 'kubelet server error');
      if (!res.headersSent) {
        res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end((e as Error).message);
      } else res.end();
    });
  };
  const server: http.Server = security
    ? https.createServer(
        {
          cert: fs.readFileSync(security.tlsCertFile),
          key: fs.readFileSync(security.tlsPrivateKeyFile),
          ...(security.clientCAFile ? { ca: fs.readFileSync(security.clientCAFile) } : {}),
          requestCert: true,
          rejectUnauthorized: false,
        },
        app,
      )
    : http.createServer(app);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const p = url.pathname;
    if (/^\/(exec|attach|portForward)\//.test(p)) throw new HttpError(400, 'Upgrade request required');
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
    if (p === '/healthz' || p === '/livez' || p === '/readyz') {
      const ok = d.healthy();
      res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(ok ? 'ok' : 'unhealthy');
      return;
    }
    if (p === '/metrics') {
      res.writeHead(200, { 'Content-Type': d.registry.contentType });
      res.end(await d.registry.metrics());
      return;
    }
    if (p === '/stats/summary') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(await summary(d.cri, d.nodeName, d.rootDir, d.startTime)));
      return;
    }
    if (p === '/pods' || p === '/pods/') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: d.pods() }));
      return;
    }
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(p);
    if (m) {
      const [ns, podName, container] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), decodeURIComponent(m[3]!)];
      const pod = d.findPod(ns, podName);
      if (!pod) throw new HttpError(404, `pod "${podName}" not found in namespace "${ns}"`);
      const q = url.searchParams;
      const tailLines = intParam(q, 'tailLines');
      const limitBytes = intParam(q, 'limitBytes');
      const sinceSeconds = intParam(q, 'sinceSeconds');
      const sinceTime = q.get('sinceTime');
      if (tailLines !== undefined && tailLines < 0) throw new HttpError(400, 'tailLines must be non-negative');
      if (limitBytes !== undefined && limitBytes < 1) throw new HttpError(400, 'limitBytes must be a positive integer');
      if (sinceSeconds !== undefined && sinceSeconds < 1) throw new HttpError(400, 'sinceSeconds must be a positive integer');
      let sinceMs: number | undefined;
      if (sinceSeconds !== undefined) sinceMs = Date.now() - sinceSeconds * 1000;
      else if (sinceTime) {
        sinceMs = Date.parse(sinceTime);
        if (Number.isNaN(sinceMs)) throw new HttpError(400, `invalid sinceTime: ${sinceTime}`);
      }
      const previous = boolParam(q, 'previous');
      const follow = boolParam(q, 'follow') && !previous;
      const { file, id } = await containerLogFile(d.cri, pod, container, previous);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked' });
      let closed = false;
      res.on('close', () => (closed = true));
      const stillRunning = async () => {
        try {
          return (await d.cri.containerStatus(id)).status?.state === 'CONTAINER_RUNNING';
        } catch {
          return false;
        }
      };
      await readLogs(file, { follow, tailLines, sinceMs, timestamps: boolParam(q, 'timestamps'), limitBytes }, { write: (c) => res.write(c), closed: () => closed }, stillRunning, signal);
      res.end();
      return;
    }
    throw new HttpError(404, '404 page not found');
  }

  // exec, attach and port-forward arrive as upgrade requests (websocket or SPDY/3.1).
  const streams = new Set<import('node:stream').Duplex>();
  signal.addEventListener('abort', () => {
    for (const s of streams) s.destroy();
  });
  server.on('upgrade', (req, socket, head) => {
    streams.add(socket);
    socket.once('close', () => streams.delete(socket));
    const authorized = security ? security.authorizer.check(req) : Promise.resolve(undefined);
    authorized
      .then((denied) => {
        if (!denied) return handleStreamingUpgrade({ cri: d.cri, log: d.log, findPod: d.findPod }, req, socket, head);
        refuseUpgrade(socket, denied.code, denied.message);
        return true;
      })
      .then(
        (handled) => {
          if (!handled) refuseUpgrade(socket, 404, '404 page not found');
        },
        (e) => refuseUpgrade(socket, 500, (e as Error).message),
      );
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      const a = server.address() as AddressInfo;
      signal.addEventListener('abort', () => {
        server.close();
        server.closeAllConnections();
      });
      resolve({ server, port: a.port });
    });
  });
}
