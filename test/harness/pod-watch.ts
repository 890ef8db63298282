/**
 * Watching a namespace's pods from a test, and the rolling-update invariant checked on what the
 * watch saw: the controller and e2e tests share it (the integration tests feed it from
 * pkg/controller/testutil's watchPods, the e2e tests from `watchNamespacePods` over TLS).
 */
import { Watch } from '../../pkg/client/client-node.js';
import { RestClient, resources } from '../../pkg/client/rest.js';
import type { Pod } from '../../pkg/api/types.js';

export type PodEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; pod: Pod };

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Pods without a deletionTimestamp: what a controller counts. */
export function livePods(pods: Iterable<Pod>): Pod[] {
  return [...pods].filter((p) => !p.metadata?.deletionTimestamp);
}

export interface PodWatch {
  /** The pods as last seen, terminating ones included. */
  pods(): Pod[];
  stop(): Promise<void>;
}

/**
 * Lists then watches the pods of `namespace` (optionally with a label selector) through the
 * client's kubeconfig, calling `onEvent` with every event and the pods as they are after it.
 * A watch the server closes is resumed from a fresh list; resolves once the first list is in.
 */
export async function watchNamespacePods(client: RestClient, namespace: string, onEvent: (ev: PodEvent, pods: Pod[]) => void, labelSelector?: string): Promise<PodWatch> {
  const pods = new Map<string, Pod>();
  let stopped = false;
  let current: AbortController | undefined;
  let closed: Promise<void> = Promise.resolve();
  const query: Record<string, string> = labelSelector ? { labelSelector } : {};
  const path = `/api/v1/namespaces/${namespace}/pods`;
  const watch = new Watch(client.kubeConfig);
  const start = async (): Promise<void> => {
    const list = await client.list<Pod>(resources.pods, namespace, query);
    pods.clear();
    for (const p of list.items) pods.set(p.metadata!.name!, p);
    let closedResolve!: () => void;
    closed = new Promise((r) => (closedResolve = r));
    const ac = await watch.watch(
      path,
      { ...query, resourceVersion: list.metadata.resourceVersion ?? '', allowWatchBookmarks: 'false' },
      (type: string, obj: Pod) => {
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
        const name = obj.metadata!.name!;
        if (type === 'DELETED') pods.delete(name);
        else pods.set(name, obj);
        onEvent({ type, pod: obj }, [...pods.values()]);
      },
      () => {
        closedResolve();
        if (!stopped) setTimeout(() => void start().catch(() => undefined), 200);
      },
    );
    if (stopped) ac.abort();
    current = ac;
  };
  await start();
  return {
    pods: () => [...pods.values()],
    stop: async () => {
      stopped = true;
      current?.abort();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
    },
  };
}

/**
 * The bounds a rolling update must keep: at most `replicas + maxSurge` live pods and at least
 * `replicas - maxUnavailable` ready ones, whatever moment the watch observes.
 */
export class RolloutBounds {
  maxPods = 0;
  minReady = Infinity;
  observations = 0;

  /** Feed it the namespace's pods after each watch event. */
  observe(pods: Pod[]): void {
    const live = livePods(pods);
    this.observations++;
    this.maxPods = Math.max(this.maxPods, live.length);
    this.minReady = Math.min(this.minReady, live.filter(isPodReady).length);
  }

  /** A message naming what went out of bounds, or undefined. */
  violation(replicas: number, maxSurge: number, maxUnavailable: number): string | undefined {
    if (this.observations === 0) return 'the watch saw nothing';
    if (this.maxPods > replicas + maxSurge) return `at most ${replicas + maxSurge} pods expected, saw ${this.maxPods}`;
    if (this.minReady < replicas - maxUnavailable) return `at least ${replicas - maxUnavailable} ready pods expected, saw ${this.minReady}`;
    return undefined;
  }
}
