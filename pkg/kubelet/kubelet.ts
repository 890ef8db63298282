/**
 * The kubelet: registers this machine's Node, keeps its status and Lease current, runs the pods
 * bound to it in containerd over CRI with the pod network run by the kubelet itself (CNI), and
 * serves logs, stats and metrics. `run` returns when `signal` aborts; pods keep running, and a
 * kubelet started again picks them up from the runtime without restarting them.
 */
import fs from 'node:fs';
import type { Pod } from './types.js';
import { newLogger, type Logger } from '../log/logger.js';
import { newMetricsRegistry } from '../metrics/registry.js';
import { CriClient, newCriMetrics } from '../cri/index.js';
import { ApiClient } from './api-client.js';
import { realClock, type KubeletConfig } from './config.js';
import { EventRecorder } from './events.js';
import { PodNetwork } from './network.js';
import { NodeStatusManager, machineInfo, nodeAllocatable } from './node-status.js';
import { ApiObjectSource } from './object-source.js';
import { VolumeManager } from './volumes.js';
import { Backoff } from './backoff.js';
import { ImageManager } from './images.js';
import { ProbeManager } from './probes.js';
import { PodSync, type NodeFacts } from './pod-sync.js';
import { PodWorkers } from './pod-workers.js';
import { StatusManager } from './status-manager.js';
import { newKubeletMetrics } from './metrics.js';
import { startKubeletServer } from './server.js';
import { KubeletAuthorizer } from './auth.js';
import { Relister, type RelistResult } from './pleg.js';
import { collectGarbage } from './gc.js';

export { defaultKubeletConfig, type KubeletConfig } from './config.js';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Runs `fn` every `ms` (never overlapping itself) until the signal aborts. */
async function every(ms: number, signal: AbortSignal, log: Logger, what: string, fn: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    try {
      await fn();
    } catch (e) {
      if (!signal.aborted) log.warn({ err: (e as Error).message }, `${what} failed`);
    }
    await sleep(ms, signal);
  }
}

/** Retries `fn` with a capped backoff until it succeeds or the signal aborts. */
async function retry<T>(signal: AbortSignal, log: Logger, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  let delay = 200;
  while (!signal.aborted) {
    try {
      return await fn();
    } catch (e) {
      log.warn({ err: (e as Error).message }, `${what} failed; retrying`);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 5_000);
    }
  }
  return undefined;
}

export async function run(userConfig: KubeletConfig, signal: AbortSignal): Promise<void> {
  // A private copy: the port actually bound is written into it for the Node's daemonEndpoints.
  const config: KubeletConfig = { ...userConfig };
  const log = newLogger('kubelet', config.logLevel);
  const clock = config.clock ?? realClock;
  const { onListening: _l, onReady: _r, clock: _c, ...shown } = config;
  log.info({ config: shown }, 'starting kubelet');
  const startTime = clock.now();
  for (const d of [config.rootDir, config.podLogsDir, config.cniCacheDir]) fs.mkdirSync(d, { recursive: true });

  const registry = newMetricsRegistry('kubelet');
  const metrics = newKubeletMetrics(registry);
  const cri = new CriClient({ endpoint: config.containerRuntimeEndpoint, metrics: newCriMetrics(registry), requestTimeoutMs: config.runtimeRequestTimeoutMs });
  const tasks: Promise<void>[] = [];
  let api: ApiClient | undefined;
  try {
    const version = await retry(signal, log, 'connecting to the container runtime', () => cri.version());
    if (!version) return;
    log.info({ runtime: `${version.runtime_name}://${version.runtime_version}`, apiVersion: version.runtime_api_version }, 'container runtime connected');

    api = new ApiClient(config.kubeconfig);
    const events = new EventRecorder(api, config.nodeName, log, clock);
    const network = new PodNetwork(config, log);
    const nodeStatus = new NodeStatusManager(api, cri, config, log, events, clock, () => network.status());
    const objects = new ApiObjectSource(api, clock);
    const volumes = new VolumeManager(config.rootDir, objects, clock);
    const crashBackoff = new Backoff(10_000, 300_000, clock);
    const images = new ImageManager(cri, new Backoff(10_000, 300_000, clock), objects, events, () => clock.now());
    const statusManager = new StatusManager(api, log);
    let machine = machineInfo(config.rootDir);
    const node = (): NodeFacts => ({ nodeIP: nodeStatus.nodeIP, allocatable: nodeAllocatable(machine), memoryCapacity: machine.memoryBytes });
    const workersRef: { w?: PodWorkers } = {};
    const probes = new ProbeManager(cri, events, log, (uid) => workersRef.w?.trigger(uid));
    const sync = new PodSync({ cri, network, volumes, images, events, objects, probes, crashBackoff, config, log, clock, node });
    const workers = new PodWorkers({ sync, status: statusManager, probes, log, config, clock, metrics, node });
    workersRef.w = workers;

    const relister = new Relister(cri);
    let lastRelist: RelistResult | undefined;
    let informerSynced = false;
    const podsByKey = new Map<string, Pod>();

    const { port } = await startKubeletServer(
      {
        cri,
        registry,
        log,
        nodeName: config.nodeName,
        rootDir: config.rootDir,
        startTime,
        findPod: (ns, name) => podsByKey.get(`${ns}/${name}`),
        pods: () => workers.pods(),
        healthy: () => clock.now() - relister.lastSuccess < 3 * 60_000,
      },
      config.address,
      config.port,
      signal,
      config.tlsCertFile && config.tlsPrivateKeyFile
        ? {
            tlsCertFile: config.tlsCertFile,
            tlsPrivateKeyFile: config.tlsPrivateKeyFile,
            clientCAFile: config.clientCAFile,
            authorizer: new KubeletAuthorizer({
              nodeName: config.nodeName,
              mode: config.authorizationMode,
              anonymous: config.anonymousAuth,
              ...(config.authenticationTokenWebhook ? { tokenReview: (review: unknown) => api!.create('/apis/authentication.k8s.io/v1/tokenreviews', review), tokenCacheTTLMs: config.authenticationTokenWebhookCacheTTLMs } : {}),
              subjectAccessReview: (review) => api!.create('/apis/authorization.k8s.io/v1/subjectaccessreviews', review),
            }),
          }
        : undefined,
    );
    config.port = port;
    config.onListening?.({ address: config.address, port, url: `${config.tlsCertFile && config.tlsPrivateKeyFile ? 'https' : 'http'}://${config.address === '0.0.0.0' ? '127.0.0.1' : config.address}:${port}` });

    const registered = await retry(signal, log, 'registering the node', () => nodeStatus.register());
    if (!registered) return;
    network.setPodCIDR(nodeStatus.podCIDR);

    tasks.push(
      every(config.nodeStatusUpdateFrequencyMs, signal, log, 'node status update', async () => {
        machine = machineInfo(config.rootDir);
        await nodeStatus.update();
        network.setPodCIDR(nodeStatus.podCIDR);
      }),
    );
    tasks.push(every(config.nodeLeaseRenewIntervalMs, signal, log, 'lease renewal', () => nodeStatus.renewLease()));

    // client-node's KubernetesObject types timestamps as Date; these objects are wire JSON.
    const lw = api.listWatch<Pod>('/api/v1/pods', `spec.nodeName=${config.nodeName}`);
    const remember = (p: Pod) => podsByKey.set(`${p.metadata?.namespace}/${p.metadata?.name}`, p);
    lw.on('add', (p) => {
      remember(p);
      workers.update(p);
    });
    lw.on('update', (p) => {
      remember(p);
      workers.update(p);
    });
    lw.on('delete', (p) => {
      const k = `${p.metadata?.namespace}/${p.metadata?.name}`;
      if (podsByKey.get(k)?.metadata?.uid === p.metadata?.uid) podsByKey.delete(k);
      workers.delete(p);
    });
    lw.on('error', (err) => {
      if (signal.aborted) return;
      log.warn({ err: String((err as Error)?.message ?? err) }, 'pod watch failed; restarting');
      void sleep(1_000, signal).then(() => {
        if (!signal.aborted) lw.start().catch(() => undefined);
      });
    });
    const started = await retry(signal, log, 'listing pods', async () => {
      await lw.start();
      return true;
    });
    if (!started) return;
    informerSynced = true;

    tasks.push(
      every(config.relistPeriodMs, signal, log, 'relist', async () => {
        const t0 = clock.now();
        const r = await relister.relist(t0);
        metrics.relistDuration.observe((clock.now() - t0) / 1000);
        lastRelist = r;
        for (const uid of r.changed) workers.trigger(uid);
        if (informerSynced) {
          for (const [uid, ref] of r.pods) if (!workers.has(uid)) workers.removeOrphan(uid, ref);
        }
        metrics.runningPods.set(new Set(r.sandboxes.filter((s) => s.state === 'SANDBOX_READY').map((s) => s.labels['io.kubernetes.pod.uid'])).size);
        const byState: Record<string, number> = { running: 0, exited: 0, created: 0, unknown: 0 };
        for (const c of r.containers) byState[c.state.replace('CONTAINER_', '').toLowerCase()] = (byState[c.state.replace('CONTAINER_', '').toLowerCase()] ?? 0) + 1;
        for (const [state, n] of Object.entries(byState)) metrics.runningContainers.set({ container_state: state }, n);
      }),
    );
    tasks.push(
      every(config.gcPeriodMs, signal, log, 'garbage collection', async () => {
        crashBackoff.gc();
        if (!lastRelist || !informerSynced) return;
        const live = new Set(workers.uids());
        await collectGarbage(cri, lastRelist, live, config.podLogsDir, log);
        // Pod directories of pods that are gone from both the API and the runtime.
        for (const uid of volumes.podDirs()) {
          if (!live.has(uid) && !lastRelist.pods.has(uid)) await volumes.tearDown(uid).catch((e) => log.warn({ uid, err: (e as Error).message }, 'pod dir cleanup failed'));
        }
      }),
    );
    log.info({ node: config.nodeName, port, podCIDR: network.getPodCIDR() }, 'kubelet running');
    config.onReady?.();
    await sleep(2 ** 31 - 1, signal);
    while (!signal.aborted) await sleep(2 ** 31 - 1, signal);
    await lw.stop();
    workers.stop();
    probes.stopAll();
  } finally {
    await Promise.allSettled(tasks);
    cri.close();
    await api?.close();
    log.info('kubelet stopped');
  }
}
