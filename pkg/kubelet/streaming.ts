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
import { dialSpdy, dialUpgrade, type SpdySession, type SpdyStream } from './spdy.js';

const V5 = 'v5.channel.k8s.io';
const PORTFORWARD_TUNNEL = 'SPDY/3.1+portforward.k8s.io';

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

/**
 * The status sent when the runtime's error stream ended without one. The v4 protocol always writes
 * a Status there (Success included), so an empty stream means the connection was lost and the
 * command's exit code is unknown; answering Success would turn a failed command into exit 0.
 */
const STATUS_LOST = JSON.stringify({
  metadata: {},
  status: 'Failure',
  message: 'error reading from error stream: the container runtime closed the stream without an exit status',
  reason: 'InternalError',
  code: 500,
});

/** What serveRemoteCommandV5 needs from the websocket (a `ws` WebSocket). */
export interface V5Socket {
  readonly readyState: number;
  send(data: Buffer): void;
  close(code: number): void;
  on(event: 'message', cb: (data: Buffer) => void): unknown;
  on(event: 'close', cb: () => void): unknown;
  on(event: 'error', cb: (e: Error) => void): unknown;
}

/**
 * Relays one remote command between a v5.channel.k8s.io websocket and the runtime's SPDY session
 * (v4.channel.k8s.io). The final status goes out on channel 3 once the runtime's error stream has
 * ended and stdout and stderr are done, then the websocket is closed (its close frame comes after
 * the status on the same connection) and the runtime session ends.
 */
export function relayRemoteCommandV5(ws: V5Socket, session: SpdySession, opts: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }, log: Logger): void {
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
    const final = status.trim();
    if (!final) log.warn({}, 'exec: the runtime closed the stream without an exit status');
    send(3, Buffer.from(final || STATUS_LOST));
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
  if (ended(error)) error.emit('end');
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
  session.on('error', (e: Error) => log.debug({ err: e.message }, 'exec: runtime stream protocol error'));
  // Every frame the runtime sent before closing has been handled by now (frames are handled as
  // they are read), so the status, if it was sent, is in.
  session.on('close', () => {
    statusDone = true;
    finish();
  });
}

/** Serves a v5.channel.k8s.io websocket by driving the runtime's SPDY remote command protocol. */
async function serveRemoteCommandV5(req: http.IncomingMessage, socket: Duplex, head: Buffer, streamURL: string, opts: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }, log: Logger): Promise<void> {
  const { session } = await dialSpdy(new URL(streamURL), ['v4.channel.k8s.io']);
  const ws = await acceptWebSocket(req, socket, head, V5);
  relayRemoteCommandV5(ws, session, opts, log);
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
 * How long a proxied stream whose backend has finished waits for the client to close its side
 * before the proxy closes it (see proxyUpgrade).
 */
export const UPGRADE_LINGER_MS = 30_000;

/**
 * Sends the client's request line and headers to `target` with a new path and pipes the two
 * connections together. Used by the kubelet (to the runtime) and by the apiserver (to the kubelet).
 * An https target is dialed with TLS, with `tlsOptions` (client certificate, CA) when given.
 *
 * When the backend finishes first (the runtime closes its connection right after writing an exec's
 * exit status), the client's connection is not closed at once: everything is flushed to it and it is
 * left open until the client closes its side (or UPGRADE_LINGER_MS passes). A SPDY client such as
 * kubectl's spdystream hands received frames to worker goroutines and throws away those still
 * queued when its connection reaches EOF, so a close right behind the exit status could lose it
 * and make `kubectl exec` exit 0. The client closes the connection itself once it has its status.
 * An error on the backend connection counts as the backend finishing; it never tears the client's
 * connection down. Bytes from the client after the backend finished have nowhere to go and are
 * dropped.
 */
export function proxyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, target: URL, log?: Logger, tlsOptions?: tls.ConnectionOptions, lingerMs = UPGRADE_LINGER_MS): void {
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
  let backendDone = false;
  let clientDone = false;
  let lingerTimer: NodeJS.Timeout | undefined;

  /** Copies `from` into `to` with backpressure while `open()` holds; later bytes are dropped. */
  const forward = (from: Duplex, to: Duplex, open: () => boolean) => {
    from.on('data', (d: Buffer) => {
      if (!open() || to.destroyed || to.writableEnded) return;
      if (!to.write(d)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
  };
  /** Ends the client's side once the backend has finished and the client has closed, or lingered long enough. */
  const endClient = () => {
    if (lingerTimer) clearTimeout(lingerTimer);
    if (!socket.destroyed && !socket.writableEnded) socket.end();
    // A client that never finishes its half of the close is cut off eventually.
    setTimeout(() => socket.destroy(), lingerMs).unref();
  };
  const onBackendDone = (e?: Error) => {
    if (e) log?.debug({ err: e.message, target: target.host }, 'stream proxy backend connection closed');
    if (backendDone) return;
    backendDone = true;
    socket.resume();
    if (clientDone) endClient();
    else lingerTimer = setTimeout(endClient, lingerMs).unref();
  };
  const onClientDone = () => {
    if (clientDone) return;
    clientDone = true;
    // Pass the half-close on; the backend may still have something to send.
    if (!upstream.destroyed && !upstream.writableEnded) upstream.end();
    if (backendDone) endClient();
  };

  upstream.once(secure ? 'secureConnect' : 'connect', () => {
    connected = true;
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstream.write(head);
    forward(upstream, socket, () => true);
    forward(socket, upstream, () => !backendDone);
  });
  upstream.on('error', (e) => {
    if (!connected) {
      backendDone = true;
      refuseUpgrade(socket, 502, `error dialing backend: ${e.message}`);
      return;
    }
    onBackendDone(e);
  });
  upstream.on('end', () => onBackendDone());
  upstream.on('close', () => onBackendDone());
  socket.on('end', onClientDone);
  // The client is gone: nothing more can reach it, so the backend connection goes too.
  socket.on('error', (e) => {
    log?.debug({ err: e.message, target: target.host }, 'stream proxy client connection closed');
    upstream.destroy();
  });
  socket.on('close', () => {
    clientDone = true;
    if (lingerTimer) clearTimeout(lingerTimer);
    if (!upstream.destroyed) upstream.destroy();
  });
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
