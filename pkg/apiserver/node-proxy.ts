/**
 * The pods/log, pods/exec, pods/attach and pods/portforward subresources: the apiserver finds the
 * pod's node and proxies to that node's kubelet (upstream pkg/registry/core/pod/rest's LogREST and
 * the streaming REST objects, with the UpgradeAwareHandler).
 *
 * - log is an ordinary GET, streamed from the kubelet's /containerLogs/{ns}/{pod}/{container}.
 * - exec, attach and portforward are upgrade requests (websocket or SPDY/3.1). They are proxied
 *   byte for byte to the kubelet's /exec, /attach and /portForward, which proxy them on to the
 *   container runtime's streaming server. A refused handshake travels back as a plain non-101
 *   answer, which is how kubectl falls back from websockets to SPDY.
 *
 * Two entry points are exported for the server to call: `serveNodeProxy` from the resource
 * handler (pods/<subresource> requests that are not upgrades) and `handleNodeProxyUpgrade` from
 * the HTTP server's 'upgrade' event; `closeNodeProxyStreams` ends open streams at shutdown
 * (upgraded sockets no longer belong to the HTTP server, so its close would wait for them).
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import * as errors from '../api/errors.js';
import type { Node, Pod } from '../api/types.js';
import type { HandlerContext } from './handlers.js';
import { proxyUpgrade } from '../kubelet/streaming.js';

/** The subresources of pods this module serves. */
export const NODE_PROXY_SUBRESOURCES = ['log', 'exec', 'attach', 'portforward'] as const;

/**
 * How the apiserver dials kubelets (--kubelet-client-certificate, --kubelet-client-key,
 * --kubelet-certificate-authority): https with this client certificate, verifying the kubelet's
 * serving certificate against `ca` when given (upstream skips verification without it).
 */
export interface KubeletClientTLS {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** The TLS options for a kubelet connection. */
export function kubeletTLSOptions(t: KubeletClientTLS): { cert: Buffer; key: Buffer; ca?: Buffer; rejectUnauthorized: boolean } {
  return { cert: t.cert, key: t.key, ...(t.ca ? { ca: t.ca } : {}), rejectUnauthorized: !!t.ca };
}

export interface NodeProxyLookup {
  /** Set when kubelets are dialed with https. */
  kubeletTLS?: KubeletClientTLS;
  /** The pod, or a NotFound StatusError. */
  getPod(namespace: string, name: string): Promise<Pod>;
  /** The node, or a NotFound StatusError. */
  getNode(name: string): Promise<Node>;
}

/** Looks pods and nodes up in the apiserver's own store. */
export function lookupFromContext(ctx: Pick<HandlerContext, 'registry' | 'store' | 'kubeletTLS'>): NodeProxyLookup {
  const def = (plural: string) => {
    const d = ctx.registry.lookup('', 'v1', plural);
    if (!d) throw errors.internalError(new Error(`no ${plural} resource registered`));
    return d;
  };
  return {
    ...(ctx.kubeletTLS ? { kubeletTLS: ctx.kubeletTLS } : {}),
    getPod: async (namespace, name) => (await ctx.store.get(def('pods'), namespace, name)) as Pod,
    getNode: async (name) => (await ctx.store.get(def('nodes'), undefined, name)) as Node,
  };
}

const LOG_PARAMS = ['follow', 'previous', 'timestamps', 'sinceSeconds', 'sinceTime', 'tailLines', 'limitBytes'];
const STREAM_PARAMS = ['command', 'stdin', 'stdout', 'stderr', 'tty', 'input', 'output', 'error'];

function containerNames(pod: Pod): { regular: string[]; init: string[]; ephemeral: string[] } {
  return {
    regular: (pod.spec?.containers ?? []).map((c) => c.name),
    init: (pod.spec?.initContainers ?? []).map((c) => c.name),
    ephemeral: (pod.spec?.ephemeralContainers ?? []).map((c) => c.name),
  };
}

/** The container a request names, defaulted as upstream does when the pod has only one. */
function pickContainer(pod: Pod, requested: string | null): string {
  const name = pod.metadata?.name ?? '';
  const { regular, init, ephemeral } = containerNames(pod);
  if (requested) {
    if (![...regular, ...init, ...ephemeral].includes(requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  if (regular.length === 1) return regular[0]!;
  const defaulted = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (defaulted && regular.includes(defaulted)) return defaulted;
  let msg = `a container name must be specified for pod ${name}, choose one of: [${regular.join(' ')}]`;
  if (init.length) msg += ` or one of the init containers: [${init.join(' ')}]`;
  if (ephemeral.length) msg += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
  throw errors.badRequest(msg);
}

/** Where on the pod's kubelet a pods/<subresource> request goes. */
export async function kubeletLocation(lookup: NodeProxyLookup, namespace: string, name: string, subresource: string, query: URLSearchParams): Promise<URL> {
  const pod = await lookup.getPod(namespace, name);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  const node = await lookup.getNode(nodeName);
  const addrs = node.status?.addresses ?? [];
  const host = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'ExternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!host || !port) throw errors.badRequest(`node ${nodeName} has no kubelet address`);
  const base = `${lookup.kubeletTLS ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const ns = encodeURIComponent(namespace);
  const pn = encodeURIComponent(name);
  const out = new URLSearchParams();
  const copy = (keys: string[]) => {
    for (const k of keys) for (const v of query.getAll(k)) out.append(k, v);
  };
  let path: string;
  switch (subresource) {
    case 'log': {
      const c = pickContainer(pod, query.get('container'));
      path = `/containerLogs/${ns}/${pn}/${encodeURIComponent(c)}`;
      copy(LOG_PARAMS);
      break;
    }
    case 'exec':
    case 'attach': {
      const c = pickContainer(pod, query.get('container'));
      path = `/${subresource}/${ns}/${pn}/${encodeURIComponent(c)}`;
      copy(STREAM_PARAMS);
      break;
    }
    case 'portforward':
      path = `/portForward/${ns}/${pn}`;
      copy(['port']);
      break;
    default:
      throw errors.pathNotFound();
  }
  const qs = out.toString();
  return new URL(`${base}${path}${qs ? `?${qs}` : ''}`);
}

function sendStatus(res: ServerResponse, e: unknown): number {
  const se = errors.toStatusError(e);
  const body = JSON.stringify(se.status);
  if (!res.headersSent) res.writeHead(se.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
  return se.code;
}

/**
 * Serves a pods/<subresource> request that is not an upgrade: log is streamed from the kubelet;
 * exec, attach and portforward need an upgrade. Answers the HTTP status code sent.
 */
export async function serveNodeProxy(lookup: NodeProxyLookup, req: { method: string; query: URLSearchParams; headers: IncomingMessage['headers'] }, res: ServerResponse, namespace: string, name: string, subresource: string): Promise<number> {
  try {
    if (subresource !== 'log') throw errors.badRequest('Upgrade request required');
    if (req.method !== 'GET') throw errors.methodNotSupported({ group: '', resource: 'pods/log' }, req.method.toLowerCase());
    const target = await kubeletLocation(lookup, namespace, name, subresource, req.query);
    return await new Promise<number>((resolve) => {
      const onResponse = (kres: IncomingMessage) => {
        const code = kres.statusCode ?? 500;
        if (code !== 200) {
          let text = '';
          kres.setEncoding('utf8');
          kres.on('data', (d: string) => (text += d));
          kres.on('end', () => {
            const msg = text.trim() || `kubelet answered ${code}`;
            resolve(sendStatus(res, code === 404 ? errors.notFound({ group: '', resource: 'pods' }, name) : code >= 500 ? errors.internalError(new Error(msg)) : errors.badRequest(msg)));
          });
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
        kres.pipe(res);
        kres.on('end', () => resolve(200));
        kres.on('error', () => {
          res.destroy();
          resolve(200);
        });
      };
      const upstream = lookup.kubeletTLS ? https.get(target, kubeletTLSOptions(lookup.kubeletTLS), onResponse) : http.get(target, onResponse);
      upstream.on('error', (e) => resolve(sendStatus(res, errors.internalError(new Error(`error dialing backend: ${e.message}`)))));
      // The client going away (kubectl logs -f interrupted) ends the kubelet request too.
      res.on('close', () => upstream.destroy());
    });
  } catch (e) {
    return sendStatus(res, e);
  }
}

function writeStatusOnSocket(socket: Duplex, e: unknown): void {
  const se = errors.toStatusError(e);
  const body = Buffer.from(JSON.stringify(se.status));
  socket.end(`HTTP/1.1 ${se.code} ${http.STATUS_CODES[se.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
}

/** Connections proxied by handleNodeProxyUpgrade, so a stopping server can close them. */
const activeStreams = new Set<Duplex>();

/** Closes every exec/attach/port-forward connection still open (for server shutdown). */
export function closeNodeProxyStreams(): void {
  for (const s of activeStreams) s.destroy();
  activeStreams.clear();
}

const UPGRADE_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)\/?$/;

/** True when an upgrade request is for pods/exec, pods/attach or pods/portforward. */
export function isNodeProxyUpgrade(req: IncomingMessage): boolean {
  return UPGRADE_PATH.test(new URL(req.url ?? '/', 'http://x').pathname);
}

/**
 * Handles an upgrade request ('upgrade' event) for pods/exec, pods/attach or pods/portforward.
 * `gate` authenticates and authorizes the request (throwing a StatusError to refuse it). Answers
 * false, touching nothing, when the path is not one of these.
 */
export async function handleNodeProxyUpgrade(lookup: NodeProxyLookup, req: IncomingMessage, socket: Duplex, head: Buffer, gate?: (req: IncomingMessage, path: string, query: URLSearchParams) => Promise<void>): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://x');
  const m = UPGRADE_PATH.exec(url.pathname);
  if (!m) return false;
  activeStreams.add(socket);
  socket.once('close', () => activeStreams.delete(socket));
  try {
    if (gate) await gate(req, url.pathname, url.searchParams);
    const target = await kubeletLocation(lookup, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), m[3]!, url.searchParams);
    proxyUpgrade(req, socket, head, target, undefined, lookup.kubeletTLS ? kubeletTLSOptions(lookup.kubeletTLS) : undefined);
  } catch (e) {
    writeStatusOnSocket(socket, e);
  }
  return true;
}
