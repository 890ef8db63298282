/**
 * cluster-dns: an authoritative server for the cluster domain (and in-addr.arpa) fed by informers
 * on Services, EndpointSlices, Namespaces and Pods, in the manner of CoreDNS with the kubernetes
 * plugin. Serves DNS on UDP and TCP at `listen`, and /metrics, /health, /ready (CoreDNS's paths)
 * plus /healthz, /livez, /readyz on the metrics address. `run` resolves after `signal` aborts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EndpointSlice, Namespace, Pod, Service } from '../api/types.js';
import { loadKubeConfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { RealClock } from '../controller/framework/clock.js';
import { informerResources, SharedInformerFactory, waitForCacheSync, type InformerResource, type SharedInformer } from '../controller/framework/informer.js';
import { newLogger } from '../log/logger.js';
import { newMetricsRegistry, type prom } from '../metrics/registry.js';
import { splitHostPort, type DnsConfig } from './config.js';
import { Forwarder, parseUpstream } from './forwarder.js';
import { newDnsMetrics } from './metrics.js';
import { buildIndex, serviceKey, type ClusterIndex } from './records.js';
import type { ResolverOptions } from './resolver.js';
import { DnsServer } from './server.js';

const servicesResource: InformerResource = { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true };
const endpointSlicesResource: InformerResource = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true };

export async function run(config: DnsConfig, signal: AbortSignal): Promise<void> {
  const logger = newLogger('cluster-dns', config.logLevel);
  const { kubeConfig: _kc, clock: _c, onListening: _o, ...loggable } = config;
  logger.info({ config: loggable }, 'starting cluster-dns');
  const zone = config.clusterDomain.replace(/\.$/, '').toLowerCase();
  if (!zone) throw new Error('--cluster-domain must not be empty');
  if (!['disabled', 'insecure', 'verified'].includes(config.pods)) throw new Error(`--pods must be disabled, insecure or verified, not ${JSON.stringify(config.pods)}`);
  const ttl = Math.min(3600, Math.max(5, config.ttl));
  const forwarder = new Forwarder(config.upstream.map(parseUpstream));

  const clock = config.clock ?? new RealClock();
  const kubeConfig = config.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const client = new RestClient(kubeConfig, 'cluster-dns');
  const registry = newMetricsRegistry('cluster-dns');
  const metrics = newDnsMetrics(registry, '1.11.1-keelson');
  const informers = new SharedInformerFactory(kubeConfig, client, logger.child({ component: 'informers' }), clock);
  const services = informers.informerFor<Service>(servicesResource);
  const slices = informers.informerFor<EndpointSlice>(endpointSlicesResource);
  const namespaces = informers.informerFor<Namespace>(informerResources.namespaces);
  const pods = config.pods === 'disabled' ? undefined : informers.informerFor<Pod>(informerResources.pods);
  const all: SharedInformer<any>[] = [services, slices, namespaces, ...(pods ? [pods] : [])];

  // The index is rebuilt on the first query after a change; the serial is the time of that change.
  let index: ClusterIndex | undefined;
  let serial = Math.floor(clock.now() / 1000);
  const changed = () => {
    index = undefined;
    serial = Math.floor(clock.now() / 1000);
  };
  for (const inf of all) inf.addEventHandler({ add: changed, update: changed, delete: changed });
  const getIndex = (): ClusterIndex =>
    (index ??= buildIndex({ services: services.list(), endpointSlices: slices.list(), namespaces: namespaces.list(), pods: pods?.list() ?? [], zone }));
  const [dnsNs = '', dnsName = ''] = config.dnsService.split('/');
  const options = (): ResolverOptions => ({
    zone,
    ttl,
    podMode: config.pods,
    serial,
    nameserverIPs: getIndex().services.get(serviceKey(dnsNs, dnsName))?.clusterIPs ?? [],
  });
  const dns = new DnsServer({ index: getIndex, options, forwarder, metrics, logger, loadBalance: config.loadBalance });
  const synced = () => all.every((i) => i.hasSynced());

  let httpServer: http.Server | undefined;
  try {
    informers.start();
    // As CoreDNS: wait for the caches (a while), so the first answers are not wrong NXDOMAINs.
    const waitAbort = new AbortController();
    const onAbort = () => waitAbort.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = clock.setTimeout(() => waitAbort.abort(), config.syncTimeoutMs);
    const ok = await waitForCacheSync(all, waitAbort.signal, clock);
    timer.cancel();
    signal.removeEventListener('abort', onAbort);
    if (signal.aborted) return;
    if (!ok) logger.warn('starting server with unsynced Kubernetes API');

    let metricsURL: string | undefined;
    if (config.metricsBindAddress) {
      const { host, port } = splitHostPort(config.metricsBindAddress, 9153);
      const server = http.createServer((req, res) => void serveHTTP(req, res, registry, synced));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      httpServer = server;
      const a = server.address() as AddressInfo;
      metricsURL = `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
    }
    const { host, port } = splitHostPort(config.listen, 53);
    const dnsPort = await dns.listen(host, port);
    logger.info({ dns: `${host}:${dnsPort}`, metrics: metricsURL, zone, upstream: config.upstream }, 'serving DNS');
    config.onListening?.({ dns: { host, port: dnsPort }, metrics: metricsURL });
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
  } finally {
    await dns.close();
    if (httpServer) {
      httpServer.closeAllConnections();
      await new Promise<void>((r) => httpServer!.close(() => r()));
    }
    await informers.stop();
    await client.close();
    logger.info('cluster-dns stopped');
  }
}

async function serveHTTP(req: http.IncomingMessage, res: http.ServerResponse, registry: prom.Registry, synced: () => boolean): Promise<void> {
  const p = new URL(req.url ?? '/', 'http://localhost').pathname;
  const plain = (code: number, body: string) => {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  };
  try {
    if (p === '/metrics') {
      const body = await registry.metrics();
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(body);
    } else if (p === '/health') plain(200, 'OK');
    else if (p === '/healthz' || p === '/livez') plain(200, 'ok');
    else if (p === '/ready') plain(synced() ? 200 : 503, synced() ? 'OK' : 'kubernetes');
    else if (p === '/readyz') plain(synced() ? 200 : 503, synced() ? 'ok' : 'informers not synced');
    else plain(404, '404 page not found\n');
  } catch (e) {
    plain(500, String(e));
  }
}
