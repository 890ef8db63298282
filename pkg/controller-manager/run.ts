/**
 * kube-controller-manager: serves /healthz, /livez, /readyz and /metrics, campaigns for the
 * `kube-controller-manager` Lease in kube-system, and runs the enabled controllers only while it
 * leads. `run` resolves after `signal` aborts and everything stopped (the Lease released); it
 * rejects with "leaderelection lost" when leadership is lost, where upstream exits.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { newLogger } from '../log/logger.js';
import { newMetricsRegistry, prom } from '../metrics/registry.js';
import { loadKubeConfig } from '../client/kubeconfig.js';
import { RestClient, resources } from '../client/rest.js';
import type { Lease } from '../api/types.js';
import { RealClock } from '../controller/framework/clock.js';
import type { Controller, ControllerContext } from '../controller/framework/controller.js';
import { EventBroadcaster, eventSinkFor } from '../controller/framework/event-recorder.js';
import { SharedInformerFactory } from '../controller/framework/informer.js';
import { LeaderElector, LeaseLock, leaseClientFor, newIdentity } from '../controller/framework/leader-election.js';
import type { ControllerManagerConfig } from './config.js';
import { controllerDescriptors, isControllerEnabled, validateControllers } from './controllers.js';
import { controllerServiceAccounts, serviceAccountClient } from './service-account-credentials.js';

/** How long a leader may fail to renew past its lease before /healthz reports it (upstream: 20s). */
const leaderHealthTolerance = 20_000;

export async function run(config: ControllerManagerConfig, signal: AbortSignal): Promise<void> {
  const logger = newLogger('kube-controller-manager', config.logLevel);
  validateControllers(config.controllers);
  const { kubeConfig: _kc, clock: _clock, onListening: _ol, ...loggable } = config;
  logger.info({ config: loggable }, 'starting kube-controller-manager');

  const kubeConfig = config.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const clock = config.clock ?? new RealClock();
  const client = new RestClient(kubeConfig, 'kube-controller-manager');
  const metrics = newMetricsRegistry('kube-controller-manager');
  const identity = config.identity ?? newIdentity();
  const host = identity.split('_')[0]!;
  // The manager's own events (LeaderElection on the Lease); controllers get their own broadcaster.
  const events = new EventBroadcaster({ sink: eventSinkFor(client), clock, logger, host });
  let elector: LeaderElector | undefined;

  const server = http.createServer((req, res) => {
    void serveHTTP(req, res, { metrics, healthy: () => elector?.check(leaderHealthTolerance) });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.bindAddress, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const listenHost = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  logger.info({ address: `${listenHost}:${addr.port}` }, 'serving health and metrics (http)');
  config.onListening?.({ host: addr.address, port: addr.port, url: `http://${listenHost}:${addr.port}` });

  // client-go's leader election metric: 1 while this instance leads.
  const leaderStatus = new prom.Gauge({ name: 'leader_election_master_status', help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.', labelNames: ['name'], registers: [metrics] });
  leaderStatus.set({ name: config.leaderElectResourceName }, 0);
  const lead = async (leading: AbortSignal) => {
    leaderStatus.set({ name: config.leaderElectResourceName }, 1);
    try {
      await runControllers(config, { kubeConfig, client, clock, metrics, logger }, identity, leading);
    } finally {
      leaderStatus.set({ name: config.leaderElectResourceName }, 0);
    }
  };
  let lost = false;
  try {
    if (!config.leaderElect) {
      await lead(signal);
      return;
    }
    elector = new LeaderElector({
      lock: new LeaseLock(leaseClientFor(client), config.leaderElectResourceNamespace, config.leaderElectResourceName, identity),
      leaseDurationMs: config.leaseDurationMs,
      renewDeadlineMs: config.renewDeadlineMs,
      retryPeriodMs: config.retryPeriodMs,
      clock,
      logger: logger.child({ component: 'leaderelection' }),
      releaseOnCancel: true,
      onStartedLeading: (leading) => lead(leading),
      onStoppedLeading: () => {
        if (!signal.aborted) lost = true;
      },
      onNewLeader: (id) => {
        if (id !== identity) logger.info({ leader: id }, 'another instance leads');
      },
      onBecameLeader: (message) => {
        // Upstream records this on the Lease (resourcelock.RecordEvent).
        void client
          .get<Lease>(resources.leases, config.leaderElectResourceNamespace, config.leaderElectResourceName)
          .then((lease) => events.newRecorder('kube-controller-manager').event({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease }, 'Normal', 'LeaderElection', message))
          .catch(() => undefined);
      },
    });
    await elector.run(signal);
    if (lost) throw new Error('leaderelection lost');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await events.shutdown();
    await client.close();
    logger.info('kube-controller-manager stopped');
  }
}

interface Shared {
  kubeConfig: ControllerContext['kubeConfig'];
  client: RestClient;
  clock: ControllerContext['clock'];
  metrics: ControllerContext['metrics'];
  logger: Logger;
}

/** Builds the enabled controllers with fresh informers, runs them until `signal` aborts. */
async function runControllers(config: ControllerManagerConfig, shared: Shared, identity: string, signal: AbortSignal): Promise<void> {
  const { logger } = shared;
  const informers = new SharedInformerFactory(shared.kubeConfig, shared.client, logger.child({ component: 'informers' }), shared.clock);
  const events = new EventBroadcaster({ sink: eventSinkFor(shared.client), clock: shared.clock, logger, host: identity.split('_')[0] });
  const ctx: ControllerContext = { ...shared, informers, events };
  const controllers: Controller[] = [];
  const saClients: RestClient[] = [];
  for (const d of controllerDescriptors) {
    if (!isControllerEnabled(d.name, config.controllers, d.disabledByDefault ?? false)) {
      logger.info({ controller: d.name }, 'controller is disabled');
      continue;
    }
    const sa = config.useServiceAccountCredentials ? controllerServiceAccounts[d.name] : undefined;
    if (sa) {
      const own = serviceAccountClient(shared.client, sa, shared.clock, logger.child({ controller: d.name }));
      saClients.push(own.client);
      controllers.push(d.start({ ...ctx, ...own }, config));
    } else {
      controllers.push(d.start(ctx, config));
    }
    logger.info({ controller: d.name }, 'started controller');
  }
  // Informers start after every controller registered its handlers: the first list reaches all.
  informers.start();
  try {
    await Promise.all(
      controllers.map((c) =>
        c.run(signal).catch((e: unknown) => {
          logger.error({ controller: c.name, err: e instanceof Error ? e.message : String(e) }, 'controller failed');
        }),
      ),
    );
  } finally {
    await informers.stop();
    await events.shutdown();
    await Promise.all(saClients.map((c) => c.close()));
  }
}

interface Endpoints {
  metrics: ControllerContext['metrics'];
  /** An error when the leader election health check fails. */
  healthy(): Error | undefined;
}

async function serveHTTP(req: http.IncomingMessage, res: http.ServerResponse, ep: Endpoints): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  try {
    if (path === '/metrics') {
      const body = await ep.metrics.metrics();
      res.writeHead(200, { 'Content-Type': ep.metrics.contentType });
      res.end(body);
      return;
    }
    if (path === '/healthz' || path === '/livez' || path === '/readyz' || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) {
      const checks: [string, Error | undefined][] = [['ping', undefined]];
      if (path !== '/readyz') checks.push(['leaderElection', ep.healthy()]);
      const failed = checks.filter(([, e]) => e);
      const verbose = url.searchParams.has('verbose');
      if (failed.length) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(checks.map(([n, e]) => (e ? `[-]${n} failed: reason withheld` : `[+]${n} ok`)).join('\n') + `\n${path.slice(1)} check failed\n`);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(verbose ? checks.map(([n]) => `[+]${n} ok`).join('\n') + `\n${path.slice(1)} check passed\n` : 'ok');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  } catch (e) {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(String(e));
  }
}
