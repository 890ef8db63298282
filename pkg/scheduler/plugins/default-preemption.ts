/**
 * DefaultPreemption (PostFilter): when no node fits, finds nodes where removing pods of lower
 * priority makes room, picks the one whose victims matter least (fewest PodDisruptionBudget
 * violations, then lowest priorities, fewest pods, most recently started), evicts the victims
 * and nominates the node for the pod (status.nominatedNodeName).
 */
import { labelSelectorAsSelector } from '../../api/labels.js';
import type { Pod, PodDisruptionBudget } from '../api-types.js';
import type { Handle, PostFilterPlugin, PostFilterResult } from '../framework/interface.js';
import type { CycleState } from '../framework/cycle-state.js';
import { FitError, newDiagnosis, NodeToStatus, Status } from '../framework/status.js';
import { podPriority, type NodeInfo, type PodInfo } from '../framework/types.js';
import { Names } from './names.js';

export interface DefaultPreemptionArgs {
  minCandidateNodesPercentage?: number;
  minCandidateNodesAbsolute?: number;
}

export interface Candidate {
  name: string;
  victims: Pod[];
  numPDBViolations: number;
}

const MAX_INT32 = 2 ** 31 - 1;

/** When the pod started, or now if it has not (upstream util.GetPodStartTime). */
function startTime(p: Pod, now: number): number {
  const t = p.status?.startTime;
  return t ? Date.parse(t) : now;
}

/** Higher priority, then earlier start, is more important (kept rather than evicted). */
export function moreImportantPod(a: Pod, b: Pod, now: number): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return startTime(a, now) < startTime(b, now);
}

/** Splits pods into those whose eviction would break a PDB and the rest, keeping their order. */
export function filterPodsWithPDBViolation(pods: PodInfo[], pdbs: PodDisruptionBudget[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((p) => {
    try {
      return labelSelectorAsSelector(p.spec?.selector);
    } catch {
      return undefined;
    }
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    const pod = pi.pod;
    let violated = false;
    if (Object.keys(pod.metadata?.labels ?? {}).length) {
      pdbs.forEach((pdb, i) => {
        if (pdb.metadata?.namespace !== pod.metadata?.namespace) return;
        const sel = selectors[i];
        // A PDB with a missing or empty selector matches nothing.
        if (!sel || sel.isEmpty() || !sel.matches(pod.metadata?.labels)) return;
        if (pdb.status?.disruptedPods && (pod.metadata?.name ?? '') in pdb.status.disruptedPods) return;
        allowed[i]!--;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = Names.DefaultPreemption;
  private readonly minPercentage: number;
  private readonly minAbsolute: number;

  constructor(
    private readonly handle: Handle,
    args: DefaultPreemptionArgs = {},
  ) {
    this.minPercentage = args.minCandidateNodesPercentage ?? 10;
    this.minAbsolute = args.minCandidateNodesAbsolute ?? 100;
  }

  async postFilter(state: CycleState, pod: Pod, m: NodeToStatus): Promise<{ result?: PostFilterResult; status: Status }> {
    this.handle.metrics.preemptionAttempt();
    const r = await this.preempt(state, pod, m);
    const msg = r.status.message();
    return msg ? { result: r.result, status: new Status(r.status.code, [`preemption: ${msg}`], r.status.error) } : r;
  }

  async preempt(state: CycleState, podIn: Pod, m: NodeToStatus): Promise<{ result?: PostFilterResult; status: Status }> {
    // The latest status (an earlier nomination) from the informer; the spec as the cycle saw it.
    const latest = this.handle.listers.pods.get(podIn.metadata?.namespace, podIn.metadata?.name ?? '');
    const pod = latest && latest.metadata?.uid === podIn.metadata?.uid ? { ...podIn, status: latest.status } : podIn;
    const eligible = this.podEligibleToPreemptOthers(pod, m);
    if (eligible !== true) return { status: Status.unschedulable(eligible) };
    const allNodes = this.handle.snapshot().list();
    if (allNodes.length === 0) return { status: Status.error(new Error('no nodes available')) };
    const { candidates, nodeStatuses } = this.findCandidates(state, pod, allNodes, m);
    if (candidates.length === 0) {
      const d = newDiagnosis();
      d.nodeToStatus = nodeStatuses;
      d.nodeToStatus.absentStatus = Status.unresolvable('Preemption is not helpful for scheduling');
      return { result: { nominatedNodeName: '' }, status: Status.unschedulable(new FitError(allNodes.length, d).message) };
    }
    const best = this.selectCandidate(candidates);
    if (!best) return { status: Status.unschedulable('no candidate node for preemption') };
    const s = await this.prepareCandidate(best, pod);
    if (!s.isSuccess()) return { status: s };
    return { result: { nominatedNodeName: best.name }, status: Status.success() };
  }

  /** True, or the reason the pod may not preempt now. */
  podEligibleToPreemptOthers(pod: Pod, m: NodeToStatus): true | string {
    if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nom = pod.status?.nominatedNodeName;
    if (nom) {
      // The nominated node no longer fitting at all: look for another.
      if (m.get(nom).code === 'UnschedulableAndUnresolvable') return true;
      const ni = this.handle.snapshot().get(nom);
      if (ni) {
        for (const p of ni.pods) {
          if (podPriority(p.pod) < podPriority(pod) && terminatingByPreemption(p.pod)) return 'not eligible due to a terminating pod on the nominated node.';
        }
      }
    }
    return true;
  }

  private numCandidates(numNodes: number): number {
    let n = Math.trunc((numNodes * this.minPercentage) / 100);
    if (n < this.minAbsolute) n = this.minAbsolute;
    return Math.min(n, numNodes);
  }

  findCandidates(state: CycleState, pod: Pod, allNodes: NodeInfo[], m: NodeToStatus): { candidates: Candidate[]; nodeStatuses: NodeToStatus } {
    const nodeStatuses = new NodeToStatus();
    // Only nodes that failed with Unschedulable can be helped by removing pods.
    const potential = allNodes.filter((n) => m.get(n.name).code === 'Unschedulable');
    if (potential.length === 0) return { candidates: [], nodeStatuses };
    const pdbs = this.handle.listers.podDisruptionBudgets.list();
    const offset = Math.floor(this.handle.rand() * potential.length);
    const want = this.numCandidates(potential.length);
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    for (let i = 0; i < potential.length; i++) {
      const ni = potential[(offset + i) % potential.length]!.clone();
      const r = this.selectVictimsOnNode(state.clone(), pod, ni, pdbs);
      if (r.status.isSuccess() && r.victims.length) {
        const c = { name: ni.name, victims: r.victims, numPDBViolations: r.numPDBViolations };
        (c.numPDBViolations === 0 ? nonViolating : violating).push(c);
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= want) break;
        continue;
      }
      nodeStatuses.set(ni.name, r.status.isSuccess() ? Status.error(new Error(`expected at least one victim pod on node "${ni.name}"`)) : r.status);
    }
    return { candidates: [...nonViolating, ...violating], nodeStatuses };
  }

  /**
   * Removes every lower priority pod, checks the pod fits, then adds back as many as still let
   * it fit, PDB-protected ones first, most important first. What is left out are the victims.
   */
  selectVictimsOnNode(state: CycleState, pod: Pod, ni: NodeInfo, pdbs: PodDisruptionBudget[]): { victims: Pod[]; numPDBViolations: number; status: Status } {
    const h = this.handle;
    const now = h.clock.now();
    const potential = ni.pods.filter((p) => podPriority(p.pod) < podPriority(pod));
    const remove = (p: PodInfo): Status => {
      ni.removePod(p.pod);
      return h.runPreFilterExtensionRemovePod(state, pod, p, ni);
    };
    const add = (p: PodInfo): Status => {
      ni.addPod(p);
      return h.runPreFilterExtensionAddPod(state, pod, p, ni);
    };
    for (const p of potential) {
      const s = remove(p);
      if (!s.isSuccess()) return { victims: [], numPDBViolations: 0, status: s };
    }
    if (potential.length === 0) return { victims: [], numPDBViolations: 0, status: Status.unresolvable('No preemption victims found for incoming pod') };
    const fit = h.runFilterPluginsWithNominatedPods(state, pod, ni);
    if (!fit.isSuccess()) return { victims: [], numPDBViolations: 0, status: fit };
    potential.sort((a, b) => (moreImportantPod(a.pod, b.pod, now) ? -1 : moreImportantPod(b.pod, a.pod, now) ? 1 : 0));
    const { violating, nonViolating } = filterPodsWithPDBViolation(potential, pdbs);
    const victims: PodInfo[] = [];
    let numViolating = 0;
    const reprieve = (p: PodInfo): boolean | Status => {
      const s = add(p);
      if (!s.isSuccess()) return s;
      if (h.runFilterPluginsWithNominatedPods(state, pod, ni).isSuccess()) return true;
      const r = remove(p);
      if (!r.isSuccess()) return r;
      victims.push(p);
      return false;
    };
    for (const p of violating) {
      const r = reprieve(p);
      if (r instanceof Status) return { victims: [], numPDBViolations: 0, status: r };
      if (!r) numViolating++;
    }
    for (const p of nonViolating) {
      const r = reprieve(p);
      if (r instanceof Status) return { victims: [], numPDBViolations: 0, status: r };
    }
    if (violating.length && nonViolating.length) victims.sort((a, b) => (moreImportantPod(a.pod, b.pod, now) ? -1 : moreImportantPod(b.pod, a.pod, now) ? 1 : 0));
    return { victims: victims.map((v) => v.pod), numPDBViolations: numViolating, status: Status.success() };
  }

  /** Upstream pickOneNodeForPreemption's tie-breakers, in order. */
  selectCandidate(candidates: Candidate[]): Candidate | undefined {
    if (candidates.length <= 1) return candidates[0];
    const now = this.handle.clock.now();
    const byNode = new Map(candidates.map((c) => [c.name, c]));
    const scoreFuncs: ((c: Candidate) => number)[] = [
      (c) => -c.numPDBViolations,
      (c) => -podPriority(c.victims[0]!),
      (c) => -c.victims.reduce((s, p) => s + podPriority(p) + MAX_INT32 + 1, 0),
      (c) => -c.victims.length,
      (c) => {
        // The earliest start among the highest priority victims: later is better.
        const top = podPriority(c.victims[0]!);
        let earliest = Infinity;
        for (const p of c.victims) if (podPriority(p) === top) earliest = Math.min(earliest, startTime(p, now));
        return earliest;
      },
    ];
    let names = [...byNode.keys()];
    for (const f of scoreFuncs) {
      let best = -Infinity;
      let selected: string[] = [];
      for (const n of names) {
        const s = f(byNode.get(n)!);
        if (s > best) {
          best = s;
          selected = [];
        }
        if (s === best) selected.push(n);
      }
      if (selected.length === 1) return byNode.get(selected[0]!);
      names = selected;
    }
    return byNode.get(names[0]!);
  }

  /** Evicts the victims and clears lower priority nominations on the node. */
  async prepareCandidate(c: Candidate, pod: Pod): Promise<Status> {
    const h = this.handle;
    try {
      await Promise.all(
        c.victims.map(async (victim) => {
          if (victim.metadata?.deletionTimestamp) return;
          await h.client.updatePodStatus(victim, {
            type: 'DisruptionTarget',
            status: 'True',
            reason: 'PreemptionByScheduler',
            message: `${pod.spec?.schedulerName ?? 'default-scheduler'}: preempting to accommodate a higher priority pod`,
            lastTransitionTime: new Date(h.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          });
          await h.client.deletePod(victim);
          h.client.recordEvent(
            { kind: 'Pod', apiVersion: 'v1', namespace: victim.metadata?.namespace, name: victim.metadata?.name ?? '', uid: victim.metadata?.uid },
            'Normal',
            'Preempted',
            'Preempting',
            `Preempted by pod ${pod.metadata?.uid} on node ${c.name}`,
            h.profileName,
          );
        }),
      );
    } catch (e) {
      return Status.error(e);
    }
    h.metrics.preemptionVictims(c.victims.length);
    const lower = h.nominator.nominatedPodsForNode(c.name).filter((p) => podPriority(p.pod) < podPriority(pod));
    for (const p of lower) {
      if (!p.pod.status?.nominatedNodeName) continue;
      try {
        await h.client.updatePodStatus(p.pod, undefined, '');
      } catch {
        // Not critical: the pod gets a new nomination on its next attempt.
      }
    }
    return Status.success();
  }
}

function terminatingByPreemption(p: Pod): boolean {
  if (!p.metadata?.deletionTimestamp) return false;
  const c = (p.status?.conditions ?? []).find((x) => x.type === 'DisruptionTarget');
  return !!c && c.status === 'True' && c.reason === 'PreemptionByScheduler';
}
