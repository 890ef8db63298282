/**
 * kube-proxy in iptables mode: informers on Services and EndpointSlices feed the Proxier; the
 * healthz server (/healthz, /livez, /readyz) and the metrics server (/metrics, /healthz,
 * /proxyMode) listen on their bind addresses. With `cleanup` it removes its rules and returns.
 * `run` resolves after `signal` aborts and everything stopped.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { EndpointSlice, Service } from '../api/types.js';
import { loadKubeConfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { RealClock } from '../controller/framework/clock.js';
import { SharedInformerFactory, waitForCacheSync, type InformerResource } from '../controller/framework/informer.js';
import { newLogger, type Logger } from '../log/logger.js';
import { newMetricsRegistry, type prom } from '../metrics/registry.js';
import { cleanupLeftovers } from './cleanup.js';
import { splitHostPort, type ProxyConfig } from './config.js';
import { Iptables } from './iptables.js';
import { newProxyMetrics } from './metrics.js';
import { Proxier } from './proxier.js';
import { nodePortAddressesContainLoopback } from './rules.js';

const servicesResource: InformerResource = { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true };
const endpointSlicesResource: InformerResource = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true };

export async function run(config: ProxyConfig, signal: AbortSignal): Promise<void> {
  const logger = newLogger('kube-proxy', config.logLevel);
  const { kubeConfig: _kc, clock: _c, exec: _e, onListening: _o, ...loggable } = config;
  logger.info({ config: loggable }, 'starting kube-proxy');
  if (config.proxyMode !== 'iptables' && config.proxyMode !== '') throw new Error(`unsupported proxy mode ${JSON.stringify(config.proxyMode)}: keelson's kube-proxy implements iptables only`);
  const iptables = new Iptables(config.exec);

  if (config.cleanup) {
    const failed = await cleanupLeftovers(iptables, logger);
    if (failed) throw new Error('cleanup failed; see the log');
    logger.info('removed kube-proxy iptables rules and chains');
    return;
  }

  const nodeName = (config.hostnameOverride || os.hostname()).trim().toLowerCase();
  const nodePortAddresses = config.nodePortAddresses.filter(Boolean);
  const localhostNodePorts = config.localhostNodePorts && nodePortAddressesContainLoopback(nodePortAddresses.filter((c) => c.includes('.')));
  if (localhostNodePorts) {
    logger.info('setting route_localnet=1 to allow NodePorts on localhost; set --iptables-localhost-nodeports=false or --nodeport-addresses without 127.0.0.0/8 to avoid it');
    ensureSysctl(config.sysctlDir ?? '/proc/sys', 'net/ipv4/conf/all/route_localnet', 1);
  }
  warnBridgeNetfilter(config.sysctlDir ?? '/proc/sys', logger);

  const clock = config.clock ?? new RealClock();
  const kubeConfig = config.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const client = new RestClient(kubeConfig, 'kube-proxy');
  const registry = newMetricsRegistry('kube-proxy');
  const metrics = newProxyMetrics(registry);
  const informers = new SharedInformerFactory(kubeConfig, client, logger.child({ component: 'informers' }), clock);
  const services = informers.informerFor<Service>(servicesResource);
  const slices = informers.informerFor<EndpointSlice>(endpointSlicesResource);
  const proxier = new Proxier({
    iptables,
    clock,
    logger,
    metrics,
    services,
    endpointSlices: slices,
    nodeName,
    clusterCIDR: config.clusterCIDR,
    masqueradeAll: config.masqueradeAll,
    masqueradeBit: config.masqueradeBit,
    nodePortAddresses,
    localhostNodePorts: config.localhostNodePorts,
    syncPeriodMs: config.syncPeriodMs,
    minSyncPeriodMs: config.minSyncPeriodMs,
  });
  services.addEventHandler({ add: () => proxier.onServiceChange(), update: () => proxier.onServiceChange(), delete: () => proxier.onServiceChange() });
  slices.addEventHandler({ add: (s) => proxier.onEndpointSliceChange(s), update: (_o, s) => proxier.onEndpointSliceChange(s), delete: (s) => proxier.onEndpointSliceChange(s) });

  const servers: http.Server[] = [];
  const listen = async (addr: string, defaultPort: number, handler: http.RequestListener): Promise<string> => {
    const { host, port } = splitHostPort(addr, defaultPort);
    const server = http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    servers.push(server);
    const a = server.address() as AddressInfo;
    return `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  };
  const synced = () => services.hasSynced() && slices.hasSynced();
  try {
    const metricsURL = await listen(config.metricsBindAddress, 10249, (req, res) => void serveMetrics(req, res, registry, proxier, synced));
    const healthzURL = config.healthzBindAddress ? await listen(config.healthzBindAddress, 10256, (req, res) => serveHealthz(req, res, proxier, synced, nodeName)) : undefined;
    logger.info({ metrics: metricsURL, healthz: healthzURL }, 'serving metrics and health');
    config.onListening?.({ metrics: metricsURL, healthz: healthzURL });

    informers.start();
    void waitForCacheSync([services], signal, clock).then((ok) => ok && proxier.onServicesSynced());
    void waitForCacheSync([slices], signal, clock).then((ok) => ok && proxier.onEndpointSlicesSynced());
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
  } finally {
    await proxier.stop();
    await informers.stop();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    await client.close();
    logger.info('kube-proxy stopped');
  }
}

/** Writes a sysctl when it differs (upstream's EnsureSysctl). */
export function ensureSysctl(dir: string, name: string, value: number): void {
  const file = path.join(dir, name);
  const current = Number(fs.readFileSync(file, 'utf8').trim());
  if (current !== value) fs.writeFileSync(file, `${value}\n`);
}

function warnBridgeNetfilter(dir: string, logger: Logger): void {
  let v: string | undefined;
  try {
    v = fs.readFileSync(path.join(dir, 'net/bridge/bridge-nf-call-iptables'), 'utf8').trim();
  } catch {
    v = undefined;
  }
  if (v !== '1') logger.info('missing br_netfilter module or unset sysctl bridge-nf-call-iptables; Services may not work between pods on one bridge');
}

async function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse, registry: prom.Registry, proxier: Proxier, synced: () => boolean): Promise<void> {
  const p = new URL(req.url ?? '/', 'http://localhost').pathname;
  try {
    if (p === '/metrics') {
      const body = await registry.metrics();
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(body);
    } else if (p === '/proxyMode') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('iptables');
    } else if (p === '/healthz' || p === '/livez') {
      plain(res, 200, 'ok');
    } else if (p === '/readyz') {
      plain(res, synced() && proxier.health().lastUpdated > 0 ? 200 : 503, synced() ? 'ok' : 'informers not synced');
    } else plain(res, 404, '404 page not found\n');
  } catch (e) {
    plain(res, 500, String(e));
  }
}

/** Upstream's healthz answer: JSON with lastUpdated and currentTime, 503 when a change waits too long. */
function serveHealthz(req: http.IncomingMessage, res: http.ServerResponse, proxier: Proxier, synced: () => boolean, _nodeName: string): void {
  const p = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (p !== '/healthz' && p !== '/livez' && p !== '/readyz') return plain(res, 404, '404 page not found\n');
  const h = proxier.health();
  const ok = p === '/readyz' ? h.healthy && synced() && h.lastUpdated > 0 : h.healthy;
  res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
  res.end(JSON.stringify({ lastUpdated: new Date(h.lastUpdated).toISOString(), currentTime: new Date(h.currentTime).toISOString(), nodeEligible: true }));
}

function plain(res: http.ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}
