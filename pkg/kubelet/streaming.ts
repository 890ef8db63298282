/**
 * exec, attach and port-forward on the kubelet server (upstream pkg/kubelet/server's
 * getExec/getAttach/getPortForward with the CRI streaming server behind them). The kubelet asks
 * the runtime for a streaming URL (CRI Exec, Attach, PortForward), then:
 *
 * - a websocket offering `v5.channel.k8s.io` (kubectl 1.30 and later) is terminated here and
 *   translated to the runtime's SPDY remote command protocol (v4.channel.k8s.io): channel 0 is
 *   stdin, 1 stdout, 2 stderr, 3 the final status, 4 resize, and 255 closes a channel (stdin EOF
 *   becomes a SPDY half-close). This is what upstream's apiserver StreamTranslator does;
 * - a websocket offering `SPDY/3.1+portforward.k8s.io` (kubectl 1.31 and later port-forward)
 *   carries SPDY frames in binary messages: the kubelet opens the SPDY port-forward connection to
 *   the runtime and passes the bytes through in both directions (upstream's tunneling handler);
 * - anything else (SPDY/3.1 from older kubectl) is proxied byte for byte to the runtime.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Pod } from './types.js';
import type { CriClient } from '../cri/index.js';
import { criErrorMessage } from '../cri/index.js';
import type { Logger } from '../log/logger.js';
import { getRuntimePod, readySandbox } from './runtime-state.js';
import { WebSocketServer, WebSocket } from 'ws';
import { dialSpdy, dialUpgrade, type SpdyStream } from './spdy.js';

const V5 = 'v5.channel.k8s.io';
const PORTFORWARD_TUNNEL = 'SPDY/3.1+portforward.k8s.io';
const SUCCESS = JSON.stringify({ metadata: {}, status: 'Success' });

function offeredProtocols(req: http.IncomingMessage): string[] {
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return [];
  return String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

function acceptWebSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer, protocol: string): Promise<WebSocket> {
  // `SPDY/3.1+portforward.k8s.io` is not an RFC 6455 token ('/' is a separator), which the ws
  // library refuses to parse; the offer was checked already, so it is replaced by a placeholder
  // and the real name is echoed back, as Kubernetes' own (lenient) server does.
  req.headers['sec-websocket-protocol'] = 'k8s-stream';
  const wss = new WebSocketServer({ noServer: true, handleProtocols: () => protocol, perMessageDeflate: false });
  return new Promise((resolve) => wss.handleUpgrade(req, socket, head, (ws) => resolve(ws)));
}

/** Serves a v5.channel.k8s.io websocket by driving the runtime's SPDY remote command protocol. */
async function serveRemoteCommandV5(req: http.IncomingMessage, socket: Duplex, head: Buffer, streamURL: string, opts: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }, log: Logger): Promise<void> {
  const { session } = await dialSpdy(new URL(streamURL), ['v4.channel.k8s.io']);
  const ws = await acceptWebSocket(req, socket, head, V5);
  const send = (channel: number, data: Buffer) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
  };
  const error = session.openStream({ streamtype: 'error' });
  const stdin = opts.stdin ? session.openStream({ streamtype: 'stdin' }) : undefined;
  const stdout = opts.stdout ? session.openStream({ streamtype: 'stdout' }) : undefined;
  const stderr = opts.stderr ? session.openStream({ streamtype: 'stderr' }) : undefined;
  const resize = opts.tty ? session.openStream({ streamtype: 'resize' }) : undefined;
  let status = '';
  let statusDone = false;
  let finished = false;
  const ended = (s: SpdyStream | undefined) => !s || s.remoteClosed;
  const finish = () => {
    if (finished) return;
    finished = true;
    send(3, Buffer.from(status.trim() || SUCCESS));
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    session.close();
  };
  const maybeFinish = () => {
    if (statusDone && ended(stdout) && ended(stderr)) finish();
  };
  stdout?.on('data', (d: Buffer) => send(1, d));
  stderr?.on('data', (d: Buffer) => send(2, d));
  stdout?.on('end', maybeFinish);
  stderr?.on('end', maybeFinish);
  error.on('data', (d: Buffer) => (status += d.toString('utf8')));
  error.on('end', () => {
    statusDone = true;
    maybeFinish();
    // Output streams normally end first; do not wait for them forever.
    setTimeout(finish, 1_000).unref();
  });
  ws.on('message', (data: Buffer) => {
    if (data.length === 0) return;
    const channel = data[0]!;
    const payload = data.subarray(1);
    if (channel === 0) stdin?.write(payload);
    else if (channel === 4) resize?.write(payload);
    else if (channel === 255 && payload[0] === 0) stdin?.end();
  });
  ws.on('close', () => session.close());
  ws.on('error', (e) => log.debug({ err: e.message }, 'exec websocket error'));
  session.on('close', () => {
    if (!finished) finish();
  });
}

/** Serves kubectl's port-forward websocket tunnel over the runtime's SPDY port-forward endpoint. */
async function servePortForwardTunnel(req: http.IncomingMessage, socket: Duplex, head: Buffer, streamURL: string, log: Logger): Promise<void> {
  const upstream = await dialUpgrade(new URL(streamURL), ['portforward.k8s.io']);
  const ws = await acceptWebSocket(req, socket, head, PORTFORWARD_TUNNEL);
  if (upstream.rest.length) ws.send(upstream.rest);
  upstream.socket.on('data', (d: Buffer) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(d);
  });
  ws.on('message', (d: Buffer) => upstream.socket.write(d));
  ws.on('close', () => upstream.socket.destroy());
  ws.on('error', (e) => log.debug({ err: e.message }, 'port-forward websocket error'));
  upstream.socket.on('close', () => ws.close());
  upstream.socket.on('error', () => ws.close());
}

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
 * An https target is dialed with TLS, with `tlsOptions` (client certificate, CA) when given.
 */
export function proxyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, target: URL, log?: Logger, tlsOptions?: tls.ConnectionOptions): void {
  const secure = target.protocol === 'https:';
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const upstream: net.Socket = secure
    ? tls.connect({ host, port: Number(target.port || 443), ...(net.isIP(host) ? {} : { servername: host }), ...tlsOptions })
    : net.connect({ host, port: Number(target.port || 80) });
  const lines = [`${req.method} ${target.pathname}${target.search} HTTP/1.1`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.toLowerCase() === 'host') continue;
    lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  lines.push(`Host: ${target.host}`);
  let connected = false;
  upstream.once(secure ? 'secureConnect' : 'connect', () => {
    connected = true;
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
    if (!connected) refuseUpgrade(socket, 502, `error dialing backend: ${e.message}`);
    else close(e);
  });
  socket.on('error', close);
  // When one side goes away, the other is ended rather than destroyed: destroy() would drop what
  // is still buffered for it, such as the exit status at the very end of an exec stream.
  const wind = (s: Duplex) => {
    if (!s.destroyed && !s.writableEnded) s.end();
    setTimeout(() => s.destroy(), 5_000).unref();
  };
  upstream.on('close', () => wind(socket));
  socket.on('close', () => wind(upstream));
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
    let v5Opts: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } | undefined;
    const offered = offeredProtocols(req);
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
      v5Opts = { stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr, tty };
      if (kind === 'exec') {
        const cmd = q.getAll('command');
        if (cmd.length === 0) return (refuseUpgrade(socket, 400, 'you must specify at least 1 command'), true);
        streamURL = await d.cri.exec({ ...opts, cmd });
      } else {
        streamURL = await d.cri.attach(opts);
      }
    }
    if (v5Opts && offered.includes(V5)) await serveRemoteCommandV5(req, socket, head, streamURL, v5Opts, d.log);
    else if (kind === 'portForward' && offered.includes(PORTFORWARD_TUNNEL)) await servePortForwardTunnel(req, socket, head, streamURL, d.log);
    else proxyUpgrade(req, socket, head, new URL(streamURL), d.log);
  } catch (e) {
    d.log.warn({ err: criErrorMessage(e), path: url.pathname }, 'streaming request failed');
    refuseUpgrade(socket, 500, criErrorMessage(e));
  }
  return true;
}
