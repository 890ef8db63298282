/**
 * exec, attach and port-forward on the kubelet server (upstream pkg/kubelet/server's
 * getExec/getAttach/getPortForward with the CRI streaming server behind them). The kubelet asks
 * the runtime for a streaming URL (CRI Exec, Attach, PortForward) and proxies the client's upgrade
 * request to it byte for byte, so whatever protocol the client speaks and the runtime's streaming
 * server accepts (SPDY/3.1 with the channel.k8s.io protocols, or websockets) works end to end. A
 * handshake the runtime refuses comes back to the client as an ordinary non-101 answer, which is
 * what makes kubectl fall back from websockets to SPDY.
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Pod } from './types.js';
import type { CriClient } from '../cri/index.js';
import { criErrorMessage } from '../cri/index.js';
import type { Logger } from '../log/logger.js';
import { getRuntimePod, readySandbox } from './runtime-state.js';

export interface StreamingDeps {
  cri: CriClient;
  log: Logger;
  findPod(namespace: string, name: string): Pod | undefined;
}

/** Writes a plain HTTP error on a socket whose request was an upgrade, then closes it. */
export function refuseUpgrade(socket: Duplex, code: number, message: string): void {
  const body = Buffer.from(message);
  socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Sends the client's request line and headers to `target` with a new path and pipes the two
 * connections together. Used by the kubelet (to the runtime) and by the apiserver (to the kubelet).
 */
export function proxyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, target: URL, log?: Logger): void {
  const upstream = net.connect({ host: target.hostname, port: Number(target.port || 80) });
  const lines = [`${req.method} ${target.pathname}${target.search} HTTP/1.1`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.toLowerCase() === 'host') continue;
    lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  lines.push(`Host: ${target.host}`);
  upstream.once('connect', () => {
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = (e?: Error) => {
    if (e) log?.debug({ err: e.message, target: target.host }, 'stream proxy connection closed');
    upstream.destroy();
    socket.destroy();
  };
  upstream.on('error', (e) => {
    if (!upstream.readyState || upstream.connecting) refuseUpgrade(socket, 502, `error dialing backend: ${e.message}`);
    else close(e);
  });
  socket.on('error', close);
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
}

function bool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

/**
 * Handles an upgrade request for /exec/{ns}/{pod}/{container}, /attach/{ns}/{pod}/{container} or
 * /portForward/{ns}/{pod}. Answers false when the path is none of these.
 */
export async function handleStreamingUpgrade(d: StreamingDeps, req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://kubelet');
  const m = /^\/(exec|attach|portForward)\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
  if (!m) return false;
  const [kind, ns, podName, container] = [m[1]!, decodeURIComponent(m[2]!), decodeURIComponent(m[3]!), m[4] ? decodeURIComponent(m[4]) : undefined];
  try {
    const pod = d.findPod(ns, podName);
    if (!pod) return (refuseUpgrade(socket, 404, `pod "${podName}" not found`), true);
    const rp = await getRuntimePod(d.cri, pod.metadata!.uid!);
    const q = url.searchParams;
    let streamURL: string;
    if (kind === 'portForward') {
      const sandbox = readySandbox(rp);
      if (!sandbox) return (refuseUpgrade(socket, 400, `pod ${podName} has no running sandbox`), true);
      const ports = q.getAll('port').map(Number).filter((p) => Number.isInteger(p) && p > 0);
      streamURL = await d.cri.portForward(sandbox.id, ports);
    } else {
      if (!container) return (refuseUpgrade(socket, 400, 'container name is required'), true);
      const running = rp.containers.find((c) => c.name === container && c.state === 'CONTAINER_RUNNING');
      if (!running) return (refuseUpgrade(socket, 400, `container ${container} is not running in pod ${podName}`), true);
      const tty = bool(q, 'tty');
      const opts = { container_id: running.id, tty, stdin: bool(q, 'stdin') || bool(q, 'input'), stdout: bool(q, 'stdout') || bool(q, 'output'), stderr: (bool(q, 'stderr') || bool(q, 'error')) && !tty };
      if (kind === 'exec') {
        const cmd = q.getAll('command');
        if (cmd.length === 0) return (refuseUpgrade(socket, 400, 'you must specify at least 1 command'), true);
        streamURL = await d.cri.exec({ ...opts, cmd });
      } else {
        streamURL = await d.cri.attach(opts);
      }
    }
    proxyUpgrade(req, socket, head, new URL(streamURL), d.log);
  } catch (e) {
    d.log.warn({ err: criErrorMessage(e), path: url.pathname }, 'streaming request failed');
    refuseUpgrade(socket, 500, criErrorMessage(e));
  }
  return true;
}
