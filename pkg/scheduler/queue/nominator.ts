/**
 * Pods nominated to a node by preemption (status.nominatedNodeName, or the scheduler's own
 * decision before that status lands). Filters count them on their node, so the room freed by
 * preemption is not handed to a lower priority pod in the meantime.
 */
import type { PodNominator } from '../framework/interface.js';
import type { PodInfo } from '../framework/types.js';
import type { Pod } from '../api-types.js';

/** How a scheduling attempt changes a pod's nomination. */
export interface NominatingInfo {
  nominatedNodeName: string;
  /** Override sets (or with '' clears) the nomination; Noop keeps what the pod has. */
  mode: 'Override' | 'Noop';
}

export class Nominator implements PodNominator {
  private readonly byNode = new Map<string, PodInfo[]>();
  private readonly nodeOf = new Map<string, string>();

  /** Records the pod's nomination: the given one when it overrides, else the pod's status. */
  add(pi: PodInfo, info?: NominatingInfo): void {
    this.delete(pi.pod);
    let node = pi.pod.status?.nominatedNodeName ?? '';
    if (info?.mode === 'Override') node = info.nominatedNodeName;
    if (!node || pi.pod.spec?.nodeName) return;
    const list = this.byNode.get(node) ?? [];
    list.push(pi);
    this.byNode.set(node, list);
    this.nodeOf.set(pi.uid, node);
  }

  delete(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const node = this.nodeOf.get(uid);
    if (node === undefined) return;
    this.nodeOf.delete(uid);
    const list = (this.byNode.get(node) ?? []).filter((p) => p.uid !== uid);
    if (list.length) this.byNode.set(node, list);
    else this.byNode.delete(node);
  }

  /**
   * A pod changed. A nomination the scheduler made that has not reached the pod's status yet is
   * kept, unless the pod was bound meanwhile.
   */
  update(oldPod: Pod, newPi: PodInfo): void {
    const uid = newPi.uid;
    const inMemory = this.nodeOf.get(uid);
    let info: NominatingInfo | undefined;
    if (!oldPod.status?.nominatedNodeName && !newPi.pod.status?.nominatedNodeName && inMemory) info = { nominatedNodeName: inMemory, mode: 'Override' };
    this.add(newPi, info);
  }

  nominatedNodeOf(pod: Pod): string | undefined {
    return this.nodeOf.get(pod.metadata?.uid ?? '');
  }

  nominatedPodsForNode(nodeName: string): PodInfo[] {
    return this.byNode.get(nodeName) ?? [];
  }
}
