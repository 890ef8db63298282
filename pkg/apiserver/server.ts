/**
 * kube-apiserver: the REST API on etcd. `run` starts it and resolves once it has shut down
 * after `signal` aborts.
 */
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Etcd3 } from 'etcd3';
import type { Level } from 'pino';
import * as errors from '../api/errors.js';
import { newLogger } from '../log/logger.js';
import { newMetricsRegistry } from '../metrics/registry.js';
import { EtcdStore, type ValueTransformer } from '../storage/etcd-store.js';
import { Registry } from '../registry/registry.js';
import { RegistryStore } from '../registry/store.js';
import { builtinResources } from '../registry/resources.js';
import { ApiserverMetrics } from './metrics.js';
import { serveResource, sendJSON, sendStatusError, type HandlerContext, type Request } from './handlers.js';
import { apiVersions, apiGroupList, apiGroup, apiResourceList, aggregatedDiscovery, discoveryContentType } from './discovery.js';
import { negotiateDiscovery } from './negotiation.js';
import { versionInfo } from './version.js';
import { ensureSystemNamespaces, startKubernetesServiceReconciler, pickAdvertiseAddress } from './bootstrap.js';
import { ServiceAllocator } from '../registry/allocators/service-allocator.js';
import { authenticate, authorize, authorizationAttributes, type AuthConfig } from './filters.js';
import { alwaysAllow } from '../auth/types.js';
import type { AdmissionPlugin } from '../admission/types.js';
import { AdmissionChain } from '../admission/types.js';
import { withRequestDeadline, defaultRequestTimeoutMs, type InflightLimiter } from './limits.js';
import { lookupFromContext, handleNodeProxyUpgrade, closeNodeProxyStreams } from './node-proxy.js';

export interface ApiserverConfig {
  /** etcd client URLs (`--etcd-servers`), several members allowed. */
  etcdServers: string[];
  bindAddress: string;
  /** 0 picks a free port; `onListening` reports it. */
  port: number;
  /** Serve https with these (`--tls-cert-file`, `--tls-private-key-file`). Plain http when unset. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** `--kubelet-client-certificate`, `--kubelet-client-key`: kubelets are dialed with https and this client certificate. */
  kubeletClientCertFile?: string;
  kubeletClientKeyFile?: string;
  /** `--kubelet-certificate-authority`: verifies kubelets' serving certificates. */
  kubeletCAFile?: string;
  /** How often etcd is compacted (`--etcd-compaction-interval`); 0 turns compaction off. */
  etcdCompactionIntervalMs: number;
  /** Largest request body accepted (3 MiB upstream). */
  maxRequestBodyBytes: number;
  /** How often a watch that allows bookmarks gets one. */
  watchBookmarkIntervalMs: number;
  /** How much a watch may have queued for a slow client before it is closed (16 MiB when unset). */
  maxWatchBufferBytes?: number;
  logLevel: Level | 'silent';
  /** The address discovery reports in serverAddressByClientCIDRs. */
  advertiseAddress?: string;
  /** Called once the server listens, with its address. */
  onListening?: (addr: { host: string; port: number; url: string }) => void;
  /** `--service-cluster-ip-range`: where ClusterIPs come from. */
  serviceClusterIPRange: string;
  /** `--service-node-port-range`. */
  serviceNodePortRange: string;
  /** How often the `kubernetes` Service's endpoints are reconciled. */
  endpointReconcileIntervalMs: number;
  /** Authentication and authorization; everyone is allowed when unset. */
  auth?: AuthConfig;
  /** Admission plugins, in order; built after the store exists, so they can read through it. */
  admission?: (store: RegistryStore, registry: Registry) => AdmissionPlugin[];
  /** `--client-ca-file`: with https, client certificates are requested and this CA advertised (x509 authentication verifies them). */
  clientCAFile?: string;
  /** Encryption at rest (`--encryption-provider-config`): transforms values on their way to and from etcd. */
  storageTransformer?: ValueTransformer;
  /** Runs once the watch caches are filled, before serving (bootstrap RBAC and the like); `signal` aborts at shutdown. */
  afterStoreStart?: (store: RegistryStore, registry: Registry, signal: AbortSignal) => Promise<void>;
  /** `--max-requests-inflight` / `--max-mutating-requests-inflight`: answers 429 past the limits. */
  inflightLimiter?: InflightLimiter;
  /** `--request-timeout`: non-long-running requests answer 504 after this (`?timeout=` may shorten it); 0 turns it off. */
  requestTimeoutMs: number;
}

export function defaultApiserverConfig(): ApiserverConfig {
  return {
    etcdServers: ['http://127.0.0.1:2379'],
    bindAddress: '127.0.0.1',
    port: 6443,
    etcdCompactionIntervalMs: 5 * 60 * 1000,
    maxRequestBodyBytes: 3 * 1024 * 1024,
    watchBookmarkIntervalMs: 60_000,
    logLevel: 'info',
    serviceClusterIPRange: '10.96.0.0/12',
    serviceNodePortRange: '30000-32767',
    endpointReconcileIntervalMs: 10_000,
    requestTimeoutMs: defaultRequestTimeoutMs,
  };
}

/** Reads a body up to the limit; a larger one is answered 413 without reading the rest. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(errors.requestEntityTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(errors.requestEntityTooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function run(config: ApiserverConfig, signal: AbortSignal): Promise<void> {
  const logger = newLogger('kube-apiserver', config.logLevel);
  logger.info({ config: { ...config, onListening: undefined } }, 'starting kube-apiserver');
  const promRegistry = newMetricsRegistry('kube-apiserver');
  const metrics = new ApiserverMetrics(promRegistry);
  const hosts = config.etcdServers.map((s) => s.replace(/^https?:\/\//, ''));
  // Lists of many objects exceed gRPC's 4 MiB default; upstream lifts the receive limit too.
  const etcdClient = new Etcd3({ hosts, grpcOptions: { 'grpc.keepalive_time_ms': 30_000, 'grpc.max_receive_message_length': 2 ** 31 - 1 } as never });
  const etcd = new EtcdStore(etcdClient, (operation, type, seconds) => metrics.etcdRequestDuration.observe({ operation, type }, seconds));
  if (config.storageTransformer) etcd.transformer = config.storageTransformer;
  const registry = new Registry(builtinResources);
  const namespaceDef = registry.lookup('', 'v1', 'namespaces')!;
  const store = new RegistryStore(etcd, logger, namespaceDef);
  if (config.admission) store.admission = new AdmissionChain(config.admission(store, registry));
  const auth: AuthConfig = config.auth ?? { authenticators: [], anonymous: true, authorizer: alwaysAllow };
  const serviceAllocator = new ServiceAllocator(etcd, config);
  store.hooks.set('services', serviceAllocator.hooks());
  const watchAbort = new AbortController();
  const ctx: HandlerContext = {
    registry,
    store,
    logger,
    metrics,
    bookmarkIntervalMs: config.watchBookmarkIntervalMs,
    maxRequestBodyBytes: config.maxRequestBodyBytes,
    watchAbort: watchAbort.signal,
    maxWatchBufferBytes: config.maxWatchBufferBytes ?? 16 * 1024 * 1024,
    ...(config.kubeletClientCertFile && config.kubeletClientKeyFile
      ? {
          kubeletTLS: {
            cert: fs.readFileSync(config.kubeletClientCertFile),
            key: fs.readFileSync(config.kubeletClientKeyFile),
            ...(config.kubeletCAFile ? { ca: fs.readFileSync(config.kubeletCAFile) } : {}),
          },
        }
      : {}),
  };

  // Wait for etcd and fill the watch caches before serving.
  for (let attempt = 0; ; attempt++) {
    try {
      await etcd.currentRevision();
      break;
    } catch (e) {
      if (signal.aborted) return;
      if (attempt % 10 === 0) logger.warn({ err: String(e) }, 'waiting for etcd');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  await store.startCaches(registry.storageDefs());
  metrics.storageObjects.reset();
  const refreshStorageObjects = () => {
    for (const [resource, n] of store.cacheSizes()) {
      const def = registry.storageDefs().find((d) => (d.storageResource ?? d.plural) === resource);
      const name = def ? (def.group ? `${def.plural}.${def.group}` : def.plural) : resource;
      metrics.storageObjects.set({ resource: name }, n);
    }
  };
  await ensureSystemNamespaces(store, registry, logger);
  await config.afterStoreStart?.(store, registry, watchAbort.signal);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((req, res, next) => withRequestDeadline(req, res, next, config.requestTimeoutMs));
  app.use(async (req, res) => {
    // Request logging costs a listener per request: only when it is on.
    if (logger.isLevelEnabled('info')) {
      const started = Date.now();
      res.on('finish', () => {
        logger.info({ verb: req.method, uri: req.originalUrl, code: res.statusCode, latencyMs: Date.now() - started, userAgent: req.headers['user-agent'] }, 'HTTP');
      });
    }
    const url = new URL(req.originalUrl, 'http://x');
    const path = url.pathname;
    try {
      const user = await authenticate(auth, req, path);
      await authorize(auth, authorizationAttributes(user, req.method, path, url.searchParams));
      const release = config.inflightLimiter?.acquire(req.method, path, url.searchParams, user);
      if (release) res.on('close', release);
      (req as unknown as { user: typeof user }).user = user;
      if (path === '/healthz' || path === '/livez' || path === '/readyz' || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) {
        return await serveHealth(path, url.searchParams.has('verbose'), res, etcd);
      }
      if (path === '/metrics') {
        refreshStorageObjects();
        const text = await promRegistry.metrics();
        res.writeHead(200, { 'Content-Type': promRegistry.contentType });
        res.end(text);
        return;
      }
      if (path === '/version' || path === '/version/') return sendJSON(res, 200, versionInfo());
      if (req.method === 'GET' && (path === '/api' || path === '/api/')) {
        const agg = negotiateDiscovery(req.headers.accept);
        if (agg) return sendJSON(res, 200, aggregatedDiscovery(registry, true, agg), discoveryContentType(agg));
        return sendJSON(res, 200, apiVersions(`${config.advertiseAddress ?? req.socket.localAddress}:${req.socket.localPort}`));
      }
      if (req.method === 'GET' && (path === '/apis' || path === '/apis/')) {
        const agg = negotiateDiscovery(req.headers.accept);
        if (agg) return sendJSON(res, 200, aggregatedDiscovery(registry, false, agg), discoveryContentType(agg));
        return sendJSON(res, 200, apiGroupList(registry));
      }
      const parts = path.split('/').filter(Boolean);
      if (req.method === 'GET' && parts[0] === 'api' && parts.length === 2) {
        if (!registry.hasGroupVersion('', parts[1]!)) throw errors.pathNotFound();
        return sendJSON(res, 200, apiResourceList(registry, '', parts[1]!));
      }
      if (req.method === 'GET' && parts[0] === 'apis' && parts.length === 2) {
        const g = apiGroup(registry, parts[1]!);
        if (!g) throw errors.pathNotFound();
        return sendJSON(res, 200, g);
      }
      if (req.method === 'GET' && parts[0] === 'apis' && parts.length === 3) {
        if (!registry.hasGroupVersion(parts[1]!, parts[2]!)) throw errors.pathNotFound();
        return sendJSON(res, 200, apiResourceList(registry, parts[1]!, parts[2]!));
      }
      if (parts[0] === 'api' || parts[0] === 'apis') {
        const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method) ? await readBody(req, config.maxRequestBodyBytes) : Buffer.alloc(0);
        const r: Request = { method: req.method, path, query: url.searchParams, headers: req.headers, body, user: (req as unknown as { user: Request['user'] }).user };
        return await serveResource(ctx, r, res);
      }
      if ((path === '/openapi/v2' || path.startsWith('/openapi/')) && (await (await import('../openapi/handler.js')).serveOpenAPI(path, url.searchParams, req.headers, res))) return;
      throw errors.pathNotFound();
    } catch (e) {
      if (!(e instanceof errors.StatusError)) logger.error({ err: e instanceof Error ? e.stack : String(e) }, 'internal error');
      if (e instanceof errors.StatusError && e.code === 413) res.setHeader('Connection', 'close');
      sendStatusError(res, e);
    }
  });

  const server = config.tlsCertFile && config.tlsPrivateKeyFile
    ? https.createServer({ cert: fs.readFileSync(config.tlsCertFile), key: fs.readFileSync(config.tlsPrivateKeyFile), ...(config.clientCAFile ? { ca: fs.readFileSync(config.clientCAFile), requestCert: true, rejectUnauthorized: false } : {}) }, app)
    : http.createServer(app);
  // pods/exec, attach and portforward arrive as upgrades (websocket or SPDY), outside express.
  const proxyLookup = lookupFromContext(ctx);
  server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => {
    void handleNodeProxyUpgrade(proxyLookup, req, socket, head, async (r, path, query) => {
      const user = await authenticate(auth, r, path);
      await authorize(auth, authorizationAttributes(user, r.method ?? 'GET', path, query));
    }).then(
      (handled) => {
        if (!handled) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      },
      () => socket.destroy(),
    );
  });
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.bindAddress, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const scheme = config.tlsCertFile ? 'https' : 'http';
  const url = `${scheme}://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  logger.info({ url }, 'serving');
  const stopEndpoints = await startKubernetesServiceReconciler(
    store,
    registry,
    etcdClient,
    {
      clusterIP: serviceAllocator.firstIP(),
      advertiseAddress: pickAdvertiseAddress(config.advertiseAddress, config.bindAddress),
      port: addr.port,
      leaseTTLSeconds: 15,
      reconcileIntervalMs: config.endpointReconcileIntervalMs,
    },
    logger,
  );
  config.onListening?.({ host: addr.address, port: addr.port, url });

  let compactTimer: NodeJS.Timeout | undefined;
  if (config.etcdCompactionIntervalMs > 0) {
    let lastRev = 0;
    compactTimer = setInterval(() => {
      void (async () => {
        try {
          const rev = await etcd.currentRevision();
          // Compact to the revision seen one interval ago, so recent history stays watchable.
          if (lastRev > 0) {
            await etcd.compact(lastRev);
            logger.info({ revision: lastRev }, 'compacted etcd');
          }
          lastRev = rev;
        } catch (e) {
          logger.warn({ err: String(e) }, 'compaction failed');
        }
      })();
    }, config.etcdCompactionIntervalMs);
  }

  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  logger.info('shutting down');
  clearInterval(compactTimer);
  await stopEndpoints();
  watchAbort.abort();
  // Upgraded exec/attach/port-forward sockets no longer belong to the HTTP server.
  closeNodeProxyStreams();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
    }, 2000).unref();
  });
  await store.stop();
  etcdClient.close();
}

async function serveHealth(path: string, verbose: boolean, res: express.Response, etcd: EtcdStore): Promise<void> {
  const checks: [string, () => Promise<void>][] = [['ping', async () => {}]];
  if (path.startsWith('/readyz') || path.startsWith('/healthz')) {
    checks.push([
      'etcd',
      async () => {
        await Promise.race([etcd.currentRevision(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 2000))]);
      },
    ]);
  }
  const only = path.split('/')[2];
  const results: string[] = [];
  let ok = true;
  for (const [name, fn] of checks) {
    if (only && only !== name) continue;
    try {
      await fn();
      results.push(`[+]${name} ok`);
    } catch {
      ok = false;
      results.push(`[-]${name} failed: reason withheld`);
    }
  }
  const what = path.split('/')[1];
  const text = verbose || !ok ? `${results.join('\n')}\n${what} check ${ok ? 'passed' : 'failed'}\n` : 'ok';
  res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}
