/**
 * Writes pod status to the apiserver's pods/status subresource when it changed (upstream
 * pkg/kubelet/status). The write is a JSON patch guarded by a `test` on the pod's uid, so a status
 * never lands on a new pod that reuses the name. It also sends the final DELETE (grace period 0,
 * uid precondition) once a deleted pod has stopped.
 */
import type { Pod, PodStatus } from './types.js';
import { ApiError, type ApiClient } from './api-client.js';
import type { Logger } from '../log/logger.js';
import { KUBELET_CONDITIONS } from './pod-status.js';

export class StatusManager {
  private readonly last = new Map<string, string>();
  private readonly lastStatus = new Map<string, PodStatus>();

  constructor(
    private readonly api: ApiClient,
    private readonly log: Logger,
  ) {}

  /**
   * The pod with the status the kubelet last wrote (the informer's copy may lag behind), keeping
   * conditions other writers own from the informer's copy.
   */
  withLatestStatus(pod: Pod): Pod {
    const mine = this.lastStatus.get(pod.metadata!.uid!);
    if (!mine) return pod;
    const foreign = (pod.status?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.includes(c.type));
    const own = (mine.conditions ?? []).filter((c) => KUBELET_CONDITIONS.includes(c.type));
    return { ...pod, status: { ...mine, conditions: [...foreign, ...own] } };
  }

  /** Writes the status if it differs from what was last written. Answers whether it wrote. */
  async setStatus(pod: Pod, status: PodStatus): Promise<boolean> {
    const uid = pod.metadata!.uid!;
    const text = JSON.stringify(status);
    if (this.last.get(uid) === text) return false;
    const path = `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}/status`;
    try {
      await this.api.jsonPatch(path, [
        { op: 'test', path: '/metadata/uid', value: uid },
        { op: 'add', path: '/status', value: status },
      ]);
      this.last.set(uid, text);
      this.lastStatus.set(uid, status);
      return true;
    } catch (e) {
      if (e instanceof ApiError && (e.code === 404 || e.code === 422 || e.code === 409)) {
        this.log.debug({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, code: e.code }, 'status not written: pod gone or replaced');
        return false;
      }
      throw e;
    }
  }

  /** Deletes a pod that finished terminating (grace period 0, only this uid). */
  async deletePod(pod: Pod): Promise<void> {
    const path = `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}`;
    try {
      await this.api.delete(path, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid } });
    } catch (e) {
      if (e instanceof ApiError && (e.code === 404 || e.code === 409)) return;
      throw e;
    }
  }

  forget(uid: string): void {
    this.last.delete(uid);
    this.lastStatus.delete(uid);
  }
}
