/**
 * keelson-hollow: runs `config.count` hollow nodes in this process and serves /healthz, /livez,
 * /readyz and /metrics. `run` resolves once `signal` aborted and everything stopped; the Nodes
 * stay registered (they turn NotReady as their Leases lapse, as when kubelets stop).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { newLogger } from '../log/logger.js';
import { newMetricsRegistry, type prom } from '../metrics/registry.js';
import { loadKubeConfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { RealClock } from '../controller/framework/clock.js';
import { WorkqueueMetricsProvider } from '../controller/framework/workqueue-metrics.js';
import type { HollowConfig } from './config.js';
import { HollowNodes } from './hollow-nodes.js';
import { HollowMetrics } from './metrics.js';

/** How often the process logs its counts and its own RSS. */
const reportIntervalMs = 60_000;

/** Checks what the flags or an embedder set; throws on values that cannot work. */
export function validateHollowConfig(c: HollowConfig): void {
  const posInt = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new Error(`invalid ${name} ${v}: must be an integer >= ${min}`);
  };
  posInt(c.count, 'count', 0);
  posInt(c.pods, 'pods', 1);
  posInt(c.concurrency, 'concurrency', 1);
  posInt(c.leaseConcurrency, 'lease concurrency', 1);
  posInt(c.leaseDurationSeconds, 'node lease duration', 1);
  if (!(c.leaseRenewIntervalMs > 0)) throw new Error('the lease renew interval must be positive');
  if (!(c.nodeStatusReportFrequencyMs > 0)) throw new Error('the node status report frequency must be positive');
  if (!c.namePrefix || !/^[a-z0-9][-a-z0-9.]*$/.test(c.namePrefix)) throw new Error(`invalid name prefix ${JSON.stringify(c.namePrefix)}: node names must be DNS subdomains`);
}

export async function run(config: HollowConfig, signal: AbortSignal): Promise<void> {
  validateHollowConfig(config);
  const logger = newLogger('keelson-hollow', config.logLevel);
  const { kubeConfig: _kc, clock: _clock, onListening: _ol, onReady: _or, ...loggable } = config;
  logger.info({ config: loggable }, 'starting hollow nodes');

  const kubeConfig = config.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const clock = config.clock ?? new RealClock();
  const client = new RestClient(kubeConfig, 'keelson-hollow');
  const registry = newMetricsRegistry('keelson-hollow');
  const metrics = new HollowMetrics(registry);
  const hollow = new HollowNodes(config, {
    kubeConfig,
    client,
    clock,
    logger,
    metrics,
    queueMetrics: new WorkqueueMetricsProvider(registry, clock),
  });

  let server: http.Server | undefined;
  if (config.port >= 0) {
    const srv = http.createServer((req, res) => void serveHTTP(req, res, registry, () => hollow.isReady()));
    server = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(config.port, config.bindAddress, () => resolve());
    });
    const addr = srv.address() as AddressInfo;
    const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    logger.info({ address: `${host}:${addr.port}` }, 'serving health and metrics (http)');
    config.onListening?.({ host: addr.address, port: addr.port, url: `http://${host}:${addr.port}` });
  }

  const report = setInterval(() => {
    logger.info({ ...hollow.stats(), rssMB: Math.round(process.memoryUsage().rss / 1048576) }, 'hollow nodes');
  }, reportIntervalMs);
  report.unref();
  try {
    await hollow.run(signal, () => {
      logger.info({ ...hollow.stats(), rssMB: Math.round(process.memoryUsage().rss / 1048576) }, 'hollow nodes');
      config.onReady?.();
    });
  } finally {
    clearInterval(report);
    if (server) {
      const s = server;
      await new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
    }
    await client.close();
    logger.info('hollow nodes stopped');
  }
}

async function serveHTTP(req: http.IncomingMessage, res: http.ServerResponse, registry: prom.Registry, ready: () => boolean): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  try {
    if (path === '/metrics') {
      const body = await registry.metrics();
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(body);
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (path === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(ok ? 'ok' : '[-]hollow-nodes failed: not registered or pods not synced yet\nreadyz check failed\n');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  } catch (e) {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(String(e));
  }
}
