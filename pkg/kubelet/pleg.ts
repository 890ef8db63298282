/**
 * The pod lifecycle event generator (upstream pkg/kubelet/pleg, the generic relisting one): every
 * second the runtime's containers and sandboxes are listed, and pods whose containers changed
 * state are synced. The same listing feeds the running pod/container gauges, orphan detection and
 * garbage collection.
 */
import type { CriClient } from '../cri/index.js';
import type { Container, PodSandbox } from '../cri/types.js';
import * as L from './labels.js';

export interface RelistResult {
  changed: Set<string>;
  containers: Container[];
  sandboxes: PodSandbox[];
  /** Pod uids the runtime holds, with the names their labels carry. */
  pods: Map<string, { namespace: string; name: string }>;
}

export class Relister {
  private prev = new Map<string, string>();
  lastSuccess = 0;

  constructor(private readonly cri: CriClient) {}

  async relist(now: number): Promise<RelistResult> {
    const [containers, sandboxes] = await Promise.all([this.cri.listContainers({ label_selector: { [L.MANAGED_BY]: L.MANAGED_BY_VALUE } }), this.cri.listPodSandbox({ label_selector: { [L.MANAGED_BY]: L.MANAGED_BY_VALUE } })]);
    const next = new Map<string, string>();
    const changed = new Set<string>();
    const pods = new Map<string, { namespace: string; name: string }>();
    for (const s of sandboxes) {
      const uid = s.labels[L.POD_UID];
      if (!uid) continue;
      pods.set(uid, { namespace: s.labels[L.POD_NAMESPACE] ?? '', name: s.labels[L.POD_NAME] ?? '' });
      next.set(`s/${s.id}`, `${uid}/${s.state}`);
    }
    for (const c of containers) {
      const uid = c.labels[L.POD_UID];
      if (!uid) continue;
      if (!pods.has(uid)) pods.set(uid, { namespace: c.labels[L.POD_NAMESPACE] ?? '', name: c.labels[L.POD_NAME] ?? '' });
      next.set(`c/${c.id}`, `${uid}/${c.state}`);
    }
    for (const [k, v] of next) if (this.prev.get(k) !== v) changed.add(v.slice(0, v.lastIndexOf('/')));
    for (const [k, v] of this.prev) if (!next.has(k)) changed.add(v.slice(0, v.lastIndexOf('/')));
    this.prev = next;
    this.lastSuccess = now;
    return { changed, containers, sandboxes, pods };
  }
}
