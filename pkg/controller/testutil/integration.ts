/**
 * Helpers for the controller integration tests (test/integration/controller-*.test.ts): a real
 * etcd and apiserver, the controller-manager's `run` in-process, and test code standing in for
 * kubelets by writing pod status.
 */
import fs from 'node:fs';
import { startEtcd, type EtcdHandle } from '../../../test/harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../../../test/harness/apiserver.js';
import { kubeConfigFromString } from '../../client/kubeconfig.js';
import { RestClient, isConflict, isNotFound, resources } from '../../client/rest.js';
import type { KubeObject, Pod } from '../../api/types.js';
import { nowRFC3339 } from '../../api/meta.js';
import { run } from '../../controller-manager/run.js';
import { defaultControllerManagerConfig, type ControllerManagerConfig } from '../../controller-manager/config.js';

export interface Cluster {
  etcd: EtcdHandle;
  api: ApiserverHandle;
  kubeconfig: string;
  client: RestClient;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const etcd = await startEtcd();
  let api: ApiserverHandle;
  try {
    api = await startApiserver(etcd.endpoint);
  } catch (e) {
    await etcd.stop();
    throw e;
  }
  const kc = kubeConfigFromString(fs.readFileSync(api.kubeconfig, 'utf8'));
  const client = new RestClient(kc, 'integration-test');
  return {
    etcd,
    api,
    kubeconfig: api.kubeconfig,
    client,
    stop: async () => {
      await client.close();
      await api.stop();
      await etcd.stop();
    },
  };
}

export interface RunningControllerManager {
  url: Promise<string>;
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Runs the controller-manager in-process until `stop`. */
export function startControllerManager(kubeconfig: string, overrides: Partial<ControllerManagerConfig> = {}): RunningControllerManager {
  const ac = new AbortController();
  let resolveUrl!: (u: string) => void;
  const url = new Promise<string>((r) => (resolveUrl = r));
  const config: ControllerManagerConfig = {
    ...defaultControllerManagerConfig(),
    kubeconfig,
    bindAddress: '127.0.0.1',
    port: 0,
    leaderElect: false,
    logLevel: 'silent',
    concurrentGCSyncs: 5,
    ...overrides,
    onListening: (a) => resolveUrl(a.url),
  };
  const done = run(config, ac.signal);
  done.catch(() => undefined);
  return {
    url,
    done,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

/** Polls `fn` until it returns a truthy value; fails after `timeoutMs` with the last value seen. */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 20_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function createNamespace(client: RestClient, name: string): Promise<void> {
  await client.create(resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** Pods of a namespace matching a label selector string. */
export async function listPods(client: RestClient, namespace: string, labelSelector?: string): Promise<Pod[]> {
  return (await client.list<Pod>(resources.pods, namespace, labelSelector ? { labelSelector } : {})).items;
}

/** Plays the kubelet: marks a pod Running and Ready (or not ready). */
export async function setPodReady(client: RestClient, pod: Pod, ready = true): Promise<Pod | undefined> {
  for (let i = 0; i < 10; i++) {
    try {
      const cur = await client.get<Pod>(resources.pods, pod.metadata!.namespace, pod.metadata!.name!);
      const now = nowRFC3339();
      const conditions = [
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      ];
      return await client.updateStatus<Pod>(resources.pods, { ...cur, status: { ...(cur.status ?? {}), phase: 'Running', conditions, startTime: cur.status?.startTime ?? now } });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      if (!isConflict(e)) throw e;
    }
  }
  throw new Error(`could not update the status of pod ${pod.metadata?.name}`);
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Marks every not-ready pod matching the selector Ready; returns how many it marked. */
export async function markPodsReady(client: RestClient, namespace: string, labelSelector?: string): Promise<number> {
  const pods = (await listPods(client, namespace, labelSelector)).filter((p) => !isReady(p) && !p.metadata?.deletionTimestamp);
  await Promise.all(pods.map((p) => setPodReady(client, p)));
  return pods.length;
}

/** The objects' names, sorted. */
export function names(objs: KubeObject[]): string[] {
  return objs.map((o) => o.metadata?.name ?? '').sort();
}

/** A small pod template with the given labels. */
export function podTemplate(labels: Record<string, string>, image = 'busybox:1.36'): any {
  return {
    metadata: { labels },
    spec: { containers: [{ name: 'c', image, command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 0 },
  };
}

/**
 * A stand-in for the kubelets of a namespace: every `intervalMs` it marks the pods that are not
 * ready (and pass `filter`) Running and Ready. `stop` ends it.
 */
export function startFakeKubelet(client: RestClient, namespace: string, opts: { intervalMs?: number; filter?: (p: Pod) => boolean } = {}): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const pods = (await listPods(client, namespace)).filter((p) => !isReady(p) && !p.metadata?.deletionTimestamp && (opts.filter?.(p) ?? true));
        for (const p of pods) if (!stopped) await setPodReady(client, p);
      } catch {
        // The namespace may be going away; keep trying until stopped.
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/**
 * Watches a namespace's pods and calls `check` with the live pods after every event, until
 * `stop`. The live pods are those without a deletionTimestamp.
 */
export function watchPods(client: RestClient, namespace: string, check: (pods: Pod[]) => void): { stop(): Promise<void> } {
  const ac = new AbortController();
  const pods = new Map<string, Pod>();
  const done = (async () => {
    const list = await client.list<Pod>(resources.pods, namespace);
    for (const p of list.items) pods.set(p.metadata!.name!, p);
    const base = client.kubeConfig.getCurrentCluster()!.server.replace(/\/+$/, '');
    const res = await fetch(`${base}/api/v1/namespaces/${namespace}/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`, { signal: ac.signal });
    const reader = res.body!.getReader();
    let buf = '';
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += Buffer.from(value).toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.trim()) continue;
        const ev = JSON.parse(line);
        const p = ev.object as Pod;
        if (ev.type === 'DELETED') pods.delete(p.metadata!.name!);
        else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') pods.set(p.metadata!.name!, p);
        check([...pods.values()].filter((x) => !x.metadata?.deletionTimestamp));
      }
    }
  })().catch((e) => {
    if (!ac.signal.aborted) throw e;
  });
  return {
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}
