/**
 * What the framework knows about pods and nodes (upstream framework/types.go): PodInfo with the
 * pod's parsed affinity terms and requests, and NodeInfo, the aggregate of a node and the pods
 * on it (requested resources, host ports, images) that every Filter and Score reads.
 */
import { labelSelectorAsSelector, Selector } from '../../api/labels.js';
import type { Node, Pod, PodAffinityTerm, WeightedPodAffinityTerm } from '../api-types.js';
import { computePodRequests, Resource } from '../util/resource.js';

export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

/** A pod affinity term with its selectors parsed (upstream fwk.AffinityTerm). */
export interface AffinityTerm {
  namespaces: Set<string>;
  selector: Selector;
  topologyKey: string;
  namespaceSelector: Selector;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

/** Whether the term selects `pod`, given the labels of the pod's namespace. */
export function termMatches(term: AffinityTerm, pod: Pod, nsLabels: Record<string, string> | undefined): boolean {
  const ns = pod.metadata?.namespace ?? '';
  if (term.namespaces.has(ns) || term.namespaceSelector.matches(nsLabels)) return term.selector.matches(pod.metadata?.labels);
  return false;
}

function newAffinityTerm(pod: Pod, t: PodAffinityTerm): AffinityTerm {
  const namespaces = new Set<string>();
  // No namespaces and no namespace selector means the pod's own namespace.
  if (!t.namespaces?.length && !t.namespaceSelector) namespaces.add(pod.metadata?.namespace ?? '');
  else for (const n of t.namespaces ?? []) namespaces.add(n);
  return {
    namespaces,
    selector: labelSelectorAsSelector(t.labelSelector),
    topologyKey: t.topologyKey,
    namespaceSelector: labelSelectorAsSelector(t.namespaceSelector),
  };
}

function terms(pod: Pod, ts: PodAffinityTerm[] | undefined): AffinityTerm[] {
  return (ts ?? []).map((t) => newAffinityTerm(pod, t));
}

function weightedTerms(pod: Pod, ts: WeightedPodAffinityTerm[] | undefined): WeightedAffinityTerm[] {
  return (ts ?? []).map((t) => ({ ...newAffinityTerm(pod, t.podAffinityTerm), weight: t.weight }));
}

/** A pod with what the scheduler derives from it, computed once. */
export class PodInfo {
  readonly requiredAffinityTerms: AffinityTerm[];
  readonly requiredAntiAffinityTerms: AffinityTerm[];
  readonly preferredAffinityTerms: WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: WeightedAffinityTerm[];
  /** Set when a selector in the pod's affinity could not be parsed. */
  readonly parseError?: Error;
  private _requests?: Resource;
  private _nonZero?: Resource;

  constructor(readonly pod: Pod) {
    const a = pod.spec?.affinity;
    let req: AffinityTerm[] = [];
    let anti: AffinityTerm[] = [];
    let pref: WeightedAffinityTerm[] = [];
    let prefAnti: WeightedAffinityTerm[] = [];
    try {
      req = terms(pod, a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
      anti = terms(pod, a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
      pref = weightedTerms(pod, a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
      prefAnti = weightedTerms(pod, a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    } catch (e) {
      this.parseError = e instanceof Error ? e : new Error(String(e));
    }
    this.requiredAffinityTerms = req;
    this.requiredAntiAffinityTerms = anti;
    this.preferredAffinityTerms = pref;
    this.preferredAntiAffinityTerms = prefAnti;
  }

  /** The pod's effective requests (init containers, sidecars and overhead included). */
  get requests(): Resource {
    return (this._requests ??= computePodRequests(this.pod, false));
  }

  /** Requests with 100m/200Mi for containers that ask for nothing, as the scorers count. */
  get nonZeroRequests(): Resource {
    return (this._nonZero ??= computePodRequests(this.pod, true));
  }

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  hasAffinity(): boolean {
    const a = this.pod.spec?.affinity;
    return !!(a && (a.podAffinity || a.podAntiAffinity));
  }
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** The pod's priority: spec.priority, 0 when unset (upstream corev1helpers.PodPriority). */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

const BIND_ALL = '0.0.0.0';

/** Host ports in use on a node, by IP, as `PROTOCOL/port` (upstream HostPortInfo). */
export class HostPortInfo {
  private readonly byIP = new Map<string, Set<string>>();

  private static sanitize(ip: string | undefined, protocol: string | undefined): [string, string] {
    return [ip || BIND_ALL, protocol || 'TCP'];
  }

  add(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const [i, p] = HostPortInfo.sanitize(ip, protocol);
    let s = this.byIP.get(i);
    if (!s) this.byIP.set(i, (s = new Set()));
    s.add(`${p}/${port}`);
  }

  remove(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const [i, p] = HostPortInfo.sanitize(ip, protocol);
    const s = this.byIP.get(i);
    if (!s) return;
    s.delete(`${p}/${port}`);
    if (s.size === 0) this.byIP.delete(i);
  }

  /** A port on 0.0.0.0 conflicts with that port on any IP; a specific IP with itself and 0.0.0.0. */
  checkConflict(ip: string | undefined, protocol: string | undefined, port: number): boolean {
    if (port <= 0) return false;
    const [i, p] = HostPortInfo.sanitize(ip, protocol);
    const pp = `${p}/${port}`;
    if (i === BIND_ALL) {
      for (const s of this.byIP.values()) if (s.has(pp)) return true;
      return false;
    }
    return !!(this.byIP.get(BIND_ALL)?.has(pp) || this.byIP.get(i)?.has(pp));
  }

  get size(): number {
    let n = 0;
    for (const s of this.byIP.values()) n += s.size;
    return n;
  }

  clone(): HostPortInfo {
    const h = new HostPortInfo();
    for (const [ip, s] of this.byIP) h.byIP.set(ip, new Set(s));
    return h;
  }
}

/** The host ports a pod asks for: every container's, init containers included. */
export function podHostPorts(pod: Pod): { ip?: string; protocol?: string; port: number }[] {
  const out: { ip?: string; protocol?: string; port: number }[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) if ((p.hostPort ?? 0) > 0) out.push({ ip: p.hostIP, protocol: p.protocol, port: p.hostPort! });
  }
  return out;
}

/** An image on some node: its size, and on how many nodes it is (for ImageLocality's spread). */
export interface ImageStateSummary {
  size: number;
  nodes: Set<string>;
}

let generationCounter = 0;
export function nextGeneration(): number {
  return ++generationCounter;
}

/** A node and what its pods use. Invariant: `requested` is the sum of `pods[*].requests`. */
export class NodeInfo {
  node: Node | undefined;
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  usedPorts = new HostPortInfo();
  requested = new Resource();
  nonZeroRequested = new Resource();
  allocatable = new Resource();
  /** Normalized image name → shared summary (the cache keeps numNodes current). */
  imageStates = new Map<string, ImageStateSummary>();
  /** `namespace/claimName` → how many pods on this node use it. */
  pvcRefCounts = new Map<string, number>();
  generation = nextGeneration();

  constructor(node?: Node, ...pods: PodInfo[]) {
    if (node) this.setNode(node);
    for (const p of pods) this.addPod(p);
  }

  get name(): string {
    return this.node?.metadata?.name ?? '';
  }

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = Resource.from((node.status?.allocatable ?? {}) as Record<string, string>);
    this.generation = nextGeneration();
  }

  addPod(pi: PodInfo): void {
    this.pods.push(pi);
    if (pi.hasAffinity()) this.podsWithAffinity.push(pi);
    if (pi.requiredAntiAffinityTerms.length) this.podsWithRequiredAntiAffinity.push(pi);
    this.update(pi, 1);
  }

  /** Removes the pod with this pod's uid; false when it is not on the node. */
  removePod(pod: Pod): boolean {
    const uid = pod.metadata?.uid;
    const i = this.pods.findIndex((p) => p.uid === uid);
    if (i < 0) return false;
    const [pi] = this.pods.splice(i, 1);
    this.podsWithAffinity = this.podsWithAffinity.filter((p) => p.uid !== uid);
    this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((p) => p.uid !== uid);
    this.update(pi!, -1);
    return true;
  }

  private update(pi: PodInfo, sign: 1 | -1): void {
    this.requested.addResource(pi.requests, sign);
    this.nonZeroRequested.addResource(pi.nonZeroRequests, sign);
    for (const hp of podHostPorts(pi.pod)) {
      if (sign > 0) this.usedPorts.add(hp.ip, hp.protocol, hp.port);
      else this.usedPorts.remove(hp.ip, hp.protocol, hp.port);
    }
    const ns = pi.pod.metadata?.namespace ?? '';
    for (const v of pi.pod.spec?.volumes ?? []) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (!claim) continue;
      const k = `${ns}/${claim}`;
      const n = (this.pvcRefCounts.get(k) ?? 0) + sign;
      if (n <= 0) this.pvcRefCounts.delete(k);
      else this.pvcRefCounts.set(k, n);
    }
    this.generation = nextGeneration();
  }

  /** A copy whose pod lists and sums can be changed without touching this one (for preemption). */
  clone(): NodeInfo {
    const c = new NodeInfo();
    c.node = this.node;
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.usedPorts = this.usedPorts.clone();
    c.requested = this.requested.clone();
    c.nonZeroRequested = this.nonZeroRequested.clone();
    c.allocatable = this.allocatable.clone();
    c.imageStates = this.imageStates;
    c.pvcRefCounts = new Map(this.pvcRefCounts);
    c.generation = this.generation;
    return c;
  }
}

/** A pod waiting in the scheduling queue. */
export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod was last added to the queue (ms). */
  timestamp: number;
  /** When the pod was first added (ms): the start of its scheduling latency. */
  initialAttemptTimestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** Plugins that rejected it last time; events that concern none of them leave it waiting. */
  unschedulablePlugins: Set<string>;
  /** Set when a PreEnqueue plugin (scheduling gates) holds the pod back. */
  gated: boolean;
}

export function newQueuedPodInfo(pod: Pod, now: number): QueuedPodInfo {
  return { podInfo: new PodInfo(pod), timestamp: now, initialAttemptTimestamp: now, attempts: 0, unschedulablePlugins: new Set(), gated: false };
}
