/**
 * The scheduler's writes to the apiserver: bindings, pod status (PodScheduled, nominatedNodeName,
 * DisruptionTarget), victim deletion, volume binding and Events. Events go through the shared
 * EventBroadcaster, so repeated FailedScheduling events patch a count instead of piling up.
 */
import type { RestClient } from '../client/rest.js';
import { isApiError, isNotFound } from '../client/rest.js';
import type { EventBroadcaster, EventRecorder } from '../controller/framework/event-recorder.js';
import type { PersistentVolume, PersistentVolumeClaim, Pod, PodCondition } from './api-types.js';
import type { SchedulerClient } from './framework/interface.js';

const pods = { group: '', version: 'v1', resource: 'pods' };
const pvs = { group: '', version: 'v1', resource: 'persistentvolumes' };
const pvcs = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };

/** As client-go: a 429 (the apiserver's max-in-flight limit) is retried after its Retry-After, up to 10 times. */
const MAX_THROTTLE_RETRIES = 10;

export async function retryThrottled<T>(fn: () => Promise<T>, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isApiError(e) || e.code !== 429 || attempt >= MAX_THROTTLE_RETRIES) throw e;
      const secs = Number(e.status?.details?.retryAfterSeconds ?? 1);
      await sleep(Math.min(Math.max(Number.isFinite(secs) ? secs : 1, 0), 10) * 1000);
    }
  }
}

export class ApiSchedulerClient implements SchedulerClient {
  private readonly recorders = new Map<string, EventRecorder>();

  constructor(
    private readonly client: RestClient,
    private readonly events: EventBroadcaster,
  ) {}

  async bind(pod: Pod, nodeName: string): Promise<void> {
    const m = pod.metadata ?? {};
    const path = `/api/v1/namespaces/${encodeURIComponent(m.namespace ?? '')}/pods/${encodeURIComponent(m.name ?? '')}/binding`;
    const body = { apiVersion: 'v1', kind: 'Binding', metadata: { name: m.name, namespace: m.namespace, uid: m.uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
    await retryThrottled(() => this.client.request('POST', path, { body }));
  }

  /** A strategic merge patch of pods/status: conditions merge by type. */
  async updatePodStatus(pod: Pod, condition: PodCondition | undefined, nominatedNodeName?: string): Promise<void> {
    const status: Record<string, unknown> = {};
    if (condition) status.conditions = [condition];
    if (nominatedNodeName !== undefined) status.nominatedNodeName = nominatedNodeName === '' ? null : nominatedNodeName;
    if (Object.keys(status).length === 0) return;
    try {
      await retryThrottled(() => this.client.patch(pods, pod.metadata?.namespace, pod.metadata?.name ?? '', 'strategic', { status }, 'status'));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async deletePod(pod: Pod): Promise<void> {
    try {
      await this.client.delete(pods, pod.metadata?.namespace, pod.metadata?.name ?? '', { preconditions: { uid: pod.metadata?.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  recordEvent(regarding: { kind: string; apiVersion: string; namespace?: string; name: string; uid?: string }, type: 'Normal' | 'Warning', reason: string, _action: string, message: string, reportingController?: string): void {
    const component = reportingController || 'default-scheduler';
    let r = this.recorders.get(component);
    if (!r) this.recorders.set(component, (r = this.events.newRecorder(component)));
    r.event({ kind: regarding.kind, apiVersion: regarding.apiVersion, metadata: { namespace: regarding.namespace, name: regarding.name, uid: regarding.uid } }, type, reason, message);
  }

  async updatePersistentVolume(pv: PersistentVolume): Promise<void> {
    await this.client.update(pvs, { apiVersion: 'v1', kind: 'PersistentVolume', ...pv });
  }

  async updatePersistentVolumeClaim(pvc: PersistentVolumeClaim): Promise<void> {
    await this.client.update(pvcs, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...pvc });
  }
}
