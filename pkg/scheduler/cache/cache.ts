/**
 * The scheduler's cache of nodes and the pods on them (upstream backend/cache). Besides what the
 * informers report, it holds *assumed* pods: placed by a scheduling decision whose binding has not
 * been observed yet, so the next decisions already count them and do not overcommit the node.
 *
 * Life of an assumed pod: assumePod (decision) → finishBinding (the POST returned) → addPod
 * when the informer sees it bound (confirmed), or forgetPod (binding failed), or expiry `ttlMs`
 * after finishBinding if the informer never reports it.
 */
import type { Clock } from '../../controller/framework/clock.js';
import type { Node, Pod } from '../api-types.js';
import { NodeInfo, PodInfo, nextGeneration, type ImageStateSummary } from '../framework/types.js';

interface PodState {
  pod: Pod;
  /** When an assumed pod whose binding finished expires. */
  deadline?: number;
  bindingFinished: boolean;
}

export const DEFAULT_ASSUMED_POD_TTL_MS = 15 * 60_000;

const uidOf = (p: Pod) => p.metadata?.uid ?? '';

/** Container images as the kubelet reports them, normalized as upstream (`:latest` when untagged). */
export function normalizedImageName(name: string): string {
  if (name.lastIndexOf(':') <= name.lastIndexOf('/') && !name.includes('@')) return `${name}:latest`;
  return name;
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly podStates = new Map<string, PodState>();
  private readonly assumed = new Set<string>();
  private readonly images = new Map<string, ImageStateSummary>();
  /** Changes whenever anything in the cache changes; snapshots compare it. */
  generation = nextGeneration();
  /** Changes when nodes are added or removed (the snapshot's node order depends on it). */
  nodeSetGeneration = nextGeneration();
  /**
   * Changes when a pod with pod (anti-)affinity comes or goes: only then must a snapshot redo
   * its lists of nodes with such pods (most pods have none, and most cycles skip the work).
   */
  affinityGeneration = nextGeneration();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = DEFAULT_ASSUMED_POD_TTL_MS,
  ) {}

  private touch(): void {
    this.generation = nextGeneration();
  }

  private nodeInfoFor(nodeName: string): NodeInfo {
    let ni = this.nodes.get(nodeName);
    if (!ni) {
      // Pods can be seen before their node: keep them on a node-less NodeInfo until it appears.
      ni = new NodeInfo();
      this.nodes.set(nodeName, ni);
    }
    return ni;
  }

  private addPodToNode(pod: Pod): void {
    const nodeName = pod.spec?.nodeName ?? '';
    const pi = new PodInfo(pod);
    this.nodeInfoFor(nodeName).addPod(pi);
    if (pi.hasAffinity()) this.affinityGeneration = nextGeneration();
    this.touch();
  }

  private removePodFromNode(pod: Pod): void {
    const nodeName = pod.spec?.nodeName ?? '';
    const ni = this.nodes.get(nodeName);
    if (!ni) return;
    ni.removePod(pod);
    const a = pod.spec?.affinity;
    if (a && (a.podAffinity || a.podAntiAffinity)) this.affinityGeneration = nextGeneration();
    if (!ni.node && ni.pods.length === 0) this.nodes.delete(nodeName);
    this.touch();
  }

  /** A scheduling decision: the pod (with spec.nodeName set) counts on its node from now on. */
  assumePod(pod: Pod): void {
    const uid = uidOf(pod);
    if (this.podStates.has(uid)) throw new Error(`pod ${pod.metadata?.namespace}/${pod.metadata?.name} (${uid}) is in the cache, so can't be assumed`);
    this.addPodToNode(pod);
    this.podStates.set(uid, { pod, bindingFinished: false });
    this.assumed.add(uid);
  }

  /** The binding call returned: the assumed pod may now expire if it is never confirmed. */
  finishBinding(pod: Pod): void {
    const st = this.podStates.get(uidOf(pod));
    if (!st || !this.assumed.has(uidOf(pod))) return;
    st.bindingFinished = true;
    if (this.ttlMs > 0) st.deadline = this.clock.now() + this.ttlMs;
  }

  /** The binding failed: the assumed pod no longer counts. */
  forgetPod(pod: Pod): void {
    const uid = uidOf(pod);
    const st = this.podStates.get(uid);
    if (!st || !this.assumed.has(uid)) return;
    this.removePodFromNode(st.pod);
    this.podStates.delete(uid);
    this.assumed.delete(uid);
  }

  isAssumedPod(pod: Pod): boolean {
    return this.assumed.has(uidOf(pod));
  }

  getPod(pod: Pod): Pod | undefined {
    return this.podStates.get(uidOf(pod))?.pod;
  }

  /** The informer saw an assigned pod: confirms an assumed one, or adds it. */
  addPod(pod: Pod): void {
    const uid = uidOf(pod);
    const st = this.podStates.get(uid);
    if (st && this.assumed.has(uid)) {
      // Confirmed. It may have landed elsewhere than assumed (someone else bound it).
      this.removePodFromNode(st.pod);
      this.addPodToNode(pod);
      this.assumed.delete(uid);
      this.podStates.set(uid, { pod, bindingFinished: true });
      return;
    }
    if (st) {
      // Already known (an expired assumed pod re-added, or a duplicate add): treat as update.
      this.updatePod(st.pod, pod);
      return;
    }
    this.addPodToNode(pod);
    this.podStates.set(uid, { pod, bindingFinished: true });
  }

  updatePod(_oldPod: Pod, newPod: Pod): void {
    const uid = uidOf(newPod);
    const st = this.podStates.get(uid);
    if (!st) {
      this.addPod(newPod);
      return;
    }
    if (this.assumed.has(uid)) {
      // An update for an assumed pod means the binding landed.
      this.addPod(newPod);
      return;
    }
    this.removePodFromNode(st.pod);
    this.addPodToNode(newPod);
    st.pod = newPod;
  }

  removePod(pod: Pod): void {
    const uid = uidOf(pod);
    const st = this.podStates.get(uid);
    if (!st) return;
    this.removePodFromNode(st.pod);
    this.podStates.delete(uid);
    this.assumed.delete(uid);
  }

  addNode(node: Node): NodeInfo {
    const name = node.metadata?.name ?? '';
    const ni = this.nodeInfoFor(name);
    const isNew = !ni.node;
    this.removeImages(ni);
    ni.setNode(node);
    this.addImages(ni);
    if (isNew) this.nodeSetGeneration = nextGeneration();
    this.touch();
    return ni;
  }

  updateNode(_old: Node, node: Node): NodeInfo {
    return this.addNode(node);
  }

  /** The node is gone. Its pods stay counted until their own deletions arrive. */
  removeNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const ni = this.nodes.get(name);
    if (!ni) return;
    this.removeImages(ni);
    if (ni.pods.length === 0) this.nodes.delete(name);
    else ni.node = undefined;
    this.nodeSetGeneration = nextGeneration();
    this.touch();
  }

  private addImages(ni: NodeInfo): void {
    const nodeName = ni.name;
    ni.imageStates = new Map();
    for (const img of ni.node?.status?.images ?? []) {
      for (const n of img.names ?? []) {
        const name = normalizedImageName(n);
        let s = this.images.get(name);
        if (!s) this.images.set(name, (s = { size: img.sizeBytes ?? 0, nodes: new Set() }));
        s.nodes.add(nodeName);
        ni.imageStates.set(name, s);
      }
    }
  }

  private removeImages(ni: NodeInfo): void {
    const nodeName = ni.name;
    for (const [name, s] of ni.imageStates) {
      s.nodes.delete(nodeName);
      if (s.nodes.size === 0) this.images.delete(name);
    }
    ni.imageStates = new Map();
  }

  /** Drops assumed pods whose binding finished more than the TTL ago without being confirmed. */
  cleanupAssumedPods(now = this.clock.now()): Pod[] {
    const expired: Pod[] = [];
    for (const uid of [...this.assumed]) {
      const st = this.podStates.get(uid);
      if (!st || !st.bindingFinished || st.deadline === undefined || now < st.deadline) continue;
      expired.push(st.pod);
      this.removePodFromNode(st.pod);
      this.podStates.delete(uid);
      this.assumed.delete(uid);
    }
    return expired;
  }

  /** Nodes that exist (have a Node object), in insertion order. */
  nodeInfos(): NodeInfo[] {
    return [...this.nodes.values()].filter((n) => n.node);
  }

  getNodeInfo(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  nodeCount(): number {
    let n = 0;
    for (const ni of this.nodes.values()) if (ni.node) n++;
    return n;
  }

  podCount(): number {
    return this.podStates.size;
  }

  assumedPodCount(): number {
    return this.assumed.size;
  }
}
