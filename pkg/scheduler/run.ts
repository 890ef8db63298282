/**
 * kube-scheduler: serves /healthz, /livez, /readyz and /metrics, keeps informer caches of pods,
 * nodes, volumes, PDBs, PriorityClasses and the objects default spreading looks at, and
 * schedules only while it holds the `kube-scheduler` Lease in kube-system (when leader election
 * is on). Standbys keep their caches and queue warm, so a takeover starts at once. `run`
 * resolves after `signal` aborts and everything stopped (the Lease released); it rejects with
 * "leaderelection lost" when leadership is lost, where upstream exits.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { newLogger } from '../log/logger.js';
import { newMetricsRegistry } from '../metrics/registry.js';
import { loadKubeConfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import type { KubeObject } from '../api/types.js';
import { RealClock } from '../controller/framework/clock.js';
import { EventBroadcaster, eventSinkFor } from '../controller/framework/event-recorder.js';
import { SharedInformerFactory, waitForCacheSync, type InformerResource, type SharedInformer } from '../controller/framework/informer.js';
import { LeaderElector, LeaseLock, leaseClientFor, newIdentity } from '../controller/framework/leader-election.js';
import type { Node, Pod } from './api-types.js';
import { ApiSchedulerClient } from './client.js';
import { defaultConfiguration } from './config/defaults.js';
import { loadConfigurationFile } from './config/load.js';
import type { KubeSchedulerConfiguration } from './config/types.js';
import type { EventResource, Lister, Listers } from './framework/interface.js';
import { newSchedulerMetrics } from './metrics.js';
import type { SchedulerRunConfig } from './options.js';
import { Scheduler } from './scheduler.js';

/** How long a leader may fail to renew past its lease before /healthz reports it (upstream: 20s). */
const leaderHealthTolerance = 20_000;

const r = (group: string, version: string, resource: string, kind: string, namespaced: boolean): InformerResource => ({ group, version, resource, kind, namespaced });
export const schedulerInformerResources = {
  pods: r('', 'v1', 'pods', 'Pod', true),
  nodes: r('', 'v1', 'nodes', 'Node', false),
  namespaces: r('', 'v1', 'namespaces', 'Namespace', false),
  persistentVolumeClaims: r('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true),
  persistentVolumes: r('', 'v1', 'persistentvolumes', 'PersistentVolume', false),
  storageClasses: r('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false),
  podDisruptionBudgets: r('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true),
  services: r('', 'v1', 'services', 'Service', true),
  replicationControllers: r('', 'v1', 'replicationcontrollers', 'ReplicationController', true),
  replicaSets: r('apps', 'v1', 'replicasets', 'ReplicaSet', true),
  statefulSets: r('apps', 'v1', 'statefulsets', 'StatefulSet', true),
  priorityClasses: r('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false),
} satisfies Record<keyof Listers, InformerResource>;

function listerOf<T>(inf: SharedInformer<KubeObject>): Lister<T> {
  return {
    list: () => inf.list() as T[],
    get: (ns, name) => inf.get(ns ?? '', name) as T | undefined,
  };
}

/** The effective scheduling configuration: the file (or the embedded one), then the flags. */
export function effectiveConfiguration(config: SchedulerRunConfig): KubeSchedulerConfiguration {
  const c = config.componentConfig ?? (config.configFile ? loadConfigurationFile(config.configFile) : defaultConfiguration());
  const le = { ...c.leaderElection };
  if (config.leaderElect !== undefined) le.leaderElect = config.leaderElect;
  if (config.leaseDurationMs !== undefined) le.leaseDurationMs = config.leaseDurationMs;
  if (config.renewDeadlineMs !== undefined) le.renewDeadlineMs = config.renewDeadlineMs;
  if (config.retryPeriodMs !== undefined) le.retryPeriodMs = config.retryPeriodMs;
  if (config.leaderElectResourceName) le.resourceName = config.leaderElectResourceName;
  if (config.leaderElectResourceNamespace) le.resourceNamespace = config.leaderElectResourceNamespace;
  return { ...c, leaderElection: le };
}

export async function run(config: SchedulerRunConfig, signal: AbortSignal): Promise<void> {
  const logger = newLogger('kube-scheduler', config.logLevel);
  const cc = effectiveConfiguration(config);
  const { kubeConfig: _kc, clock: _clock, onListening: _ol, rand: _rand, componentConfig: _cc, ...flags } = config;
  logger.info({ flags, config: cc }, 'starting kube-scheduler');

  const kubeConfig = config.kubeConfig ?? loadKubeConfig(config.kubeconfig || cc.clientConnection.kubeconfig || undefined);
  const clock = config.clock ?? new RealClock();
  const client = new RestClient(kubeConfig, 'kube-scheduler');
  const registry = newMetricsRegistry('kube-scheduler');
  const metrics = newSchedulerMetrics(registry);
  const identity = config.identity ?? newIdentity();
  const events = new EventBroadcaster({ sink: eventSinkFor(client), clock, logger, host: identity.split('_')[0] });
  const informers = new SharedInformerFactory(kubeConfig, client, logger.child({ component: 'informers' }), clock);
  const infs = Object.fromEntries(Object.entries(schedulerInformerResources).map(([k, res]) => [k, informers.informerFor(res)])) as Record<keyof Listers, SharedInformer<KubeObject>>;
  const listers = Object.fromEntries(Object.entries(infs).map(([k, inf]) => [k, listerOf(inf)])) as unknown as Listers;
  const scheduler = new Scheduler({ config: cc, listers, client: new ApiSchedulerClient(client, events), clock, logger, rand: config.rand, metrics });

  infs.pods.addEventHandler({
    add: (o) => scheduler.onPodAdd(o as Pod),
    update: (a, b) => scheduler.onPodUpdate(a as Pod, b as Pod),
    delete: (o) => scheduler.onPodDelete(o as Pod),
  });
  infs.nodes.addEventHandler({
    add: (o) => scheduler.onNodeAdd(o as Node),
    update: (a, b) => scheduler.onNodeUpdate(a as Node, b as Node),
    delete: (o) => scheduler.onNodeDelete(o as Node),
  });
  const clusterEvents: [keyof Listers, EventResource][] = [
    ['persistentVolumeClaims', 'PersistentVolumeClaim'],
    ['persistentVolumes', 'PersistentVolume'],
    ['storageClasses', 'StorageClass'],
  ];
  for (const [k, res] of clusterEvents) {
    infs[k].addEventHandler({
      add: () => scheduler.onClusterEvent(res, 'Add'),
      update: () => scheduler.onClusterEvent(res, 'Update'),
      delete: () => scheduler.onClusterEvent(res, 'Delete'),
    });
  }

  let synced = false;
  let elector: LeaderElector | undefined;
  const server = http.createServer((req, res) => {
    void serveHTTP(req, res, { registry, ready: () => (synced ? undefined : new Error('informers not synced')), healthy: () => elector?.check(leaderHealthTolerance) });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.bindAddress, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  logger.info({ address: `${host}:${addr.port}` }, 'serving health and metrics (http)');
  config.onListening?.({ host: addr.address, port: addr.port, url: `http://${host}:${addr.port}` });

  let lost = false;
  try {
    informers.start();
    // PriorityClasses only fill in a priority the apiserver's Priority admission normally sets;
    // upstream's system:kube-scheduler role may not list them, so they do not gate scheduling.
    const gate = Object.entries(infs)
      .filter(([k]) => k !== 'priorityClasses')
      .map(([, i]) => i);
    if (!(await waitForCacheSync(gate, signal, clock))) return;
    synced = true;
    logger.info('informer caches synced');
    const lead = (leading: AbortSignal) => scheduler.run(leading);
    if (!cc.leaderElection.leaderElect) {
      await lead(signal);
      return;
    }
    const le = cc.leaderElection;
    elector = new LeaderElector({
      lock: new LeaseLock(leaseClientFor(client), le.resourceNamespace, le.resourceName, identity),
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      clock,
      logger: logger.child({ component: 'leaderelection' }),
      releaseOnCancel: true,
      onStartedLeading: (leading) => {
        logger.info({ identity }, 'started leading: scheduling');
        return lead(leading);
      },
      onStoppedLeading: () => {
        if (!signal.aborted) lost = true;
      },
      onNewLeader: (id) => {
        if (id !== identity) logger.info({ leader: id }, 'another instance leads');
      },
    });
    await elector.run(signal);
    if (lost) throw new Error('leaderelection lost');
  } finally {
    await informers.stop();
    await events.shutdown();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await client.close();
    logger.info('kube-scheduler stopped');
  }
}

interface Endpoints {
  registry: ReturnType<typeof newMetricsRegistry>;
  /** An error until the informer caches have synced (upstream's sched-handler-sync). */
  ready(): Error | undefined;
  /** An error when the leader election health check fails. */
  healthy(): Error | undefined;
}

async function serveHTTP(req: http.IncomingMessage, res: http.ServerResponse, ep: Endpoints): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  try {
    if (path === '/metrics') {
      const body = await ep.registry.metrics();
      res.writeHead(200, { 'Content-Type': ep.registry.contentType });
      res.end(body);
      return;
    }
    const which = ['/healthz', '/livez', '/readyz'].find((p) => path === p || path.startsWith(`${p}/`));
    if (which) {
      const checks: [string, Error | undefined][] = [['ping', undefined]];
      if (which === '/readyz') checks.push(['sched-handler-sync', ep.ready()]);
      else checks.push(['leaderElection', ep.healthy()]);
      const failed = checks.some(([, e]) => e);
      const verbose = url.searchParams.has('verbose');
      const lines = checks.map(([n, e]) => (e ? `[-]${n} failed: reason withheld` : `[+]${n} ok`)).join('\n');
      if (failed) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`${lines}\n${which.slice(1)} check failed\n`);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(verbose ? `${lines}\n${which.slice(1)} check passed\n` : 'ok');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  } catch (e) {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(String(e));
  }
}
