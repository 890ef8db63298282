/**
 * The node list one scheduling cycle works on (upstream backend/cache.Snapshot). Nodes are
 * ordered zone by zone in turn, as upstream's node tree, so that scoring only part of a large
 * cluster still sees every zone.
 *
 * The NodeInfos are the cache's own objects, not copies: a cycle runs synchronously from the
 * snapshot to the assume step, so nothing can change them underneath it. Preemption clones the
 * ones it edits.
 */
import type { SharedLister } from '../framework/interface.js';
import type { NodeInfo } from '../framework/types.js';
import type { SchedulerCache } from './cache.js';

const ZONE = 'topology.kubernetes.io/zone';
const REGION = 'topology.kubernetes.io/region';

export class Snapshot implements SharedLister {
  private nodeList: NodeInfo[] = [];
  private byName = new Map<string, NodeInfo>();
  private withAffinity: NodeInfo[] = [];
  private withAntiAffinity: NodeInfo[] = [];
  private generation = -1;
  private nodeSetGeneration = -1;
  private affinityGeneration = -1;

  /** Brings the snapshot up to date with the cache (cheap when nothing changed). */
  update(cache: SchedulerCache): void {
    if (cache.generation === this.generation) return;
    const nodeSetChanged = cache.nodeSetGeneration !== this.nodeSetGeneration;
    if (nodeSetChanged) {
      this.nodeList = zoneInterleaved(cache.nodeInfos());
      this.byName = new Map(this.nodeList.map((n) => [n.name, n]));
      this.nodeSetGeneration = cache.nodeSetGeneration;
    }
    // The NodeInfos are shared with the cache, so only the derived lists need redoing, and
    // only when the node set or the pods with affinity changed.
    if (nodeSetChanged || cache.affinityGeneration !== this.affinityGeneration) {
      this.withAffinity = this.nodeList.filter((n) => n.podsWithAffinity.length > 0);
      this.withAntiAffinity = this.nodeList.filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
      this.affinityGeneration = cache.affinityGeneration;
    }
    this.generation = cache.generation;
  }

  /** Builds a snapshot from NodeInfos directly (tests, benchmarks). */
  static of(nodes: NodeInfo[]): Snapshot {
    const s = new Snapshot();
    s.nodeList = nodes;
    s.byName = new Map(nodes.map((n) => [n.name, n]));
    s.withAffinity = nodes.filter((n) => n.podsWithAffinity.length > 0);
    s.withAntiAffinity = nodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
    return s;
  }

  list(): NodeInfo[] {
    return this.nodeList;
  }

  get(nodeName: string): NodeInfo | undefined {
    return this.byName.get(nodeName);
  }

  havePodsWithAffinityList(): NodeInfo[] {
    return this.withAffinity;
  }

  havePodsWithRequiredAntiAffinityList(): NodeInfo[] {
    return this.withAntiAffinity;
  }

  numNodes(): number {
    return this.nodeList.length;
  }
}

function zoneInterleaved(nodes: NodeInfo[]): NodeInfo[] {
  const zones = new Map<string, NodeInfo[]>();
  for (const n of nodes) {
    const l = n.node?.metadata?.labels ?? {};
    const z = `${l[REGION] ?? ''}:\x00:${l[ZONE] ?? ''}`;
    const list = zones.get(z) ?? [];
    list.push(n);
    zones.set(z, list);
  }
  if (zones.size <= 1) return nodes;
  const lists = [...zones.values()];
  const out: NodeInfo[] = [];
  for (let i = 0; out.length < nodes.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}
