/**
 * VolumeBinding, at the level this project's volumes need:
 * - bound claims: the PersistentVolume must exist and its node affinity must match the node;
 * - unbound claims of an Immediate storage class (or none) make the pod wait;
 * - unbound claims of a WaitForFirstConsumer class are decided here: an available static PV that
 *   fits on the node (smallest first), else dynamic provisioning if the class has a provisioner.
 * PreBind carries the decision out (the PV's claimRef and the claim's volumeName for a static PV,
 * the `volume.kubernetes.io/selected-node` annotation for provisioning) and waits for the claim to
 * be bound.
 */
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../api-types.js';
import {
  ActionType,
  type ClusterEvent,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type PreBindPlugin,
  type PreFilterPlugin,
  type ReservePlugin,
} from '../framework/interface.js';
import type { CycleState, StateData } from '../framework/cycle-state.js';
import { Status } from '../framework/status.js';
import type { NodeInfo } from '../framework/types.js';
import { matchExpression, matchNodeSelector } from '../util/node-affinity.js';
import { quantityFor } from '../util/resource.js';
import { Names } from './names.js';

export const ErrReasonBindConflict = "node(s) didn't find available persistent volumes to bind";
export const ErrReasonNodeConflict = 'node(s) had volume node affinity conflict';
export const ErrReasonPVNotExist = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const ErrUnboundImmediateClaims = 'pod has unbound immediate PersistentVolumeClaims';

export const AnnSelectedNode = 'volume.kubernetes.io/selected-node';
const AnnBindCompleted = 'pv.kubernetes.io/bind-completed';
const AnnBoundByController = 'pv.kubernetes.io/bound-by-controller';
const NoProvisioner = 'kubernetes.io/no-provisioner';

export interface VolumeBindingArgs {
  bindTimeoutSeconds?: number;
}

const stateKey = Names.VolumeBinding;

interface NodeDecision {
  /** Claim key → PV chosen for it. */
  staticBindings: Map<string, PersistentVolume>;
  /** Claims to provision on this node. */
  provisions: PersistentVolumeClaim[];
}

class VolumeState implements StateData {
  /** Decisions per feasible node, made in Filter. */
  readonly perNode = new Map<string, NodeDecision>();
  chosen?: NodeDecision;
  constructor(
    readonly bound: PersistentVolumeClaim[],
    readonly delayed: PersistentVolumeClaim[],
  ) {}
  clone(): StateData {
    return this;
  }
}

const claimKey = (c: PersistentVolumeClaim) => `${c.metadata?.namespace}/${c.metadata?.name}`;

function storageOf(list: Record<string, string> | undefined): number {
  const v = list?.storage;
  return v === undefined ? 0 : quantityFor('storage', v);
}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin, EnqueueExtensions {
  readonly name = Names.VolumeBinding;
  private readonly bindTimeoutMs: number;

  constructor(
    private readonly handle: Handle,
    args: VolumeBindingArgs = {},
  ) {
    this.bindTimeoutMs = (args.bindTimeoutSeconds ?? 600) * 1000;
  }

  private storageClass(name: string | undefined): StorageClass | undefined {
    return name ? this.handle.listers.storageClasses.get(undefined, name) : undefined;
  }

  private isDelayBinding(pvc: PersistentVolumeClaim): boolean {
    return this.storageClass(pvc.spec?.storageClassName)?.volumeBindingMode === 'WaitForFirstConsumer';
  }

  preFilter(state: CycleState, pod: Pod): Status {
    const ns = pod.metadata?.namespace ?? '';
    const claims = (pod.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName ?? (v.ephemeral ? `${pod.metadata?.name}-${v.name}` : undefined)).filter((c): c is string => !!c);
    if (claims.length === 0) return Status.skip();
    const bound: PersistentVolumeClaim[] = [];
    const delayed: PersistentVolumeClaim[] = [];
    let immediate = false;
    for (const name of claims) {
      const pvc = this.handle.listers.persistentVolumeClaims.get(ns, name);
      if (!pvc) return Status.unresolvable(`persistentvolumeclaim "${name}" not found`);
      if (pvc.metadata?.deletionTimestamp) return Status.unresolvable(`persistentvolumeclaim "${name}" is being deleted`);
      if (pvc.spec?.volumeName) bound.push(pvc);
      else if (this.isDelayBinding(pvc)) delayed.push(pvc);
      else immediate = true;
    }
    if (immediate) return Status.unresolvable(ErrUnboundImmediateClaims);
    state.write(stateKey, new VolumeState(bound, delayed));
    return Status.success();
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
    const s = state.read<VolumeState>(stateKey);
    if (!s) return Status.error(new Error(`reading "${stateKey}" from cycleState: not found`));
    const node = nodeInfo.node!;
    const reasons: string[] = [];
    for (const pvc of s.bound) {
      const pv = this.handle.listers.persistentVolumes.get(undefined, pvc.spec!.volumeName!);
      if (!pv) {
        reasons.push(ErrReasonPVNotExist);
        break;
      }
      if (!pvFitsNode(pv, node)) {
        reasons.push(ErrReasonNodeConflict);
        break;
      }
    }
    if (reasons.length === 0 && s.delayed.length) {
      const decision: NodeDecision = { staticBindings: new Map(), provisions: [] };
      const taken = new Set<string>();
      for (const pvc of s.delayed) {
        const pv = this.findMatchingVolume(pvc, node, taken);
        if (pv) {
          taken.add(pv.metadata?.name ?? '');
          decision.staticBindings.set(claimKey(pvc), pv);
          continue;
        }
        const sc = this.storageClass(pvc.spec?.storageClassName);
        if (!sc || !sc.provisioner || sc.provisioner === NoProvisioner || !allowedTopologiesMatch(sc, node)) {
          reasons.push(ErrReasonBindConflict);
          break;
        }
        decision.provisions.push(pvc);
      }
      if (reasons.length === 0) s.perNode.set(nodeInfo.name, decision);
    }
    return reasons.length ? Status.unresolvable(...reasons) : Status.success();
  }

  /** The smallest available PV of the claim's class that satisfies it and can be used on the node. */
  private findMatchingVolume(pvc: PersistentVolumeClaim, node: Node, taken: Set<string>): PersistentVolume | undefined {
    const want = storageOf(pvc.spec?.resources?.requests as Record<string, string> | undefined);
    const modes = pvc.spec?.accessModes ?? [];
    const cls = pvc.spec?.storageClassName ?? '';
    const mode = pvc.spec?.volumeMode ?? 'Filesystem';
    let best: PersistentVolume | undefined;
    let bestSize = Infinity;
    for (const pv of this.handle.listers.persistentVolumes.list()) {
      const name = pv.metadata?.name ?? '';
      if (taken.has(name) || pv.metadata?.deletionTimestamp) continue;
      const ref = pv.spec?.claimRef;
      const preBound = ref && ref.name === pvc.metadata?.name && ref.namespace === pvc.metadata?.namespace && (!ref.uid || ref.uid === pvc.metadata?.uid);
      if (ref && !preBound) continue;
      if (!preBound && pv.status?.phase && pv.status.phase !== 'Available') continue;
      if ((pv.spec?.storageClassName ?? '') !== cls) continue;
      if ((pv.spec?.volumeMode ?? 'Filesystem') !== mode) continue;
      const pvModes = pv.spec?.accessModes ?? [];
      if (!modes.every((m) => pvModes.includes(m))) continue;
      if (pvc.spec?.selector) {
        const labels = pv.metadata?.labels ?? {};
        const ok =
          Object.entries(pvc.spec.selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
          (pvc.spec.selector.matchExpressions ?? []).every((e) => matchExpression({ key: e.key, operator: e.operator, values: e.values }, labels));
        if (!ok) continue;
      }
      const size = storageOf(pv.spec?.capacity as Record<string, string> | undefined);
      if (size < want || !pvFitsNode(pv, node)) continue;
      if (preBound) return pv;
      if (size < bestSize) {
        best = pv;
        bestSize = size;
      }
    }
    return best;
  }

  reserve(state: CycleState, _pod: Pod, nodeName: string): Status {
    const s = state.read<VolumeState>(stateKey);
    if (s) s.chosen = s.perNode.get(nodeName);
    return Status.success();
  }

  unreserve(state: CycleState): void {
    const s = state.read<VolumeState>(stateKey);
    if (s) s.chosen = undefined;
  }

  async preBind(state: CycleState, _pod: Pod, nodeName: string): Promise<Status> {
    const s = state.read<VolumeState>(stateKey);
    const d = s?.chosen;
    if (!s || !d || (d.staticBindings.size === 0 && d.provisions.length === 0)) return Status.skip();
    try {
      for (const pvc of s.delayed) {
        const pv = d.staticBindings.get(claimKey(pvc));
        if (!pv) continue;
        const claimRef = { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: pvc.metadata?.namespace, name: pvc.metadata?.name, uid: pvc.metadata?.uid };
        await this.handle.client.updatePersistentVolume({ ...pv, spec: { ...pv.spec, claimRef }, metadata: { ...pv.metadata, annotations: { ...(pv.metadata?.annotations ?? {}), [AnnBoundByController]: 'yes' } } });
        const cur = this.handle.listers.persistentVolumeClaims.get(pvc.metadata?.namespace, pvc.metadata?.name ?? '') ?? pvc;
        await this.handle.client.updatePersistentVolumeClaim({
          ...cur,
          metadata: { ...cur.metadata, annotations: { ...(cur.metadata?.annotations ?? {}), [AnnBindCompleted]: 'yes', [AnnBoundByController]: 'yes' } },
          spec: { ...cur.spec, volumeName: pv.metadata?.name },
        });
      }
      for (const pvc of d.provisions) {
        const cur = this.handle.listers.persistentVolumeClaims.get(pvc.metadata?.namespace, pvc.metadata?.name ?? '') ?? pvc;
        if (cur.metadata?.annotations?.[AnnSelectedNode] === nodeName) continue;
        await this.handle.client.updatePersistentVolumeClaim({ ...cur, metadata: { ...cur.metadata, annotations: { ...(cur.metadata?.annotations ?? {}), [AnnSelectedNode]: nodeName } } });
      }
    } catch (e) {
      return Status.error(e);
    }
    // Provisioning is done by an external provisioner; the pod binds once the claims are bound.
    const deadline = this.handle.clock.now() + this.bindTimeoutMs;
    for (;;) {
      const pending = d.provisions.filter((pvc) => !this.handle.listers.persistentVolumeClaims.get(pvc.metadata?.namespace, pvc.metadata?.name ?? '')?.spec?.volumeName);
      if (pending.length === 0) return Status.success();
      if (this.handle.clock.now() >= deadline) return Status.error(new Error('binding volumes: context deadline exceeded'));
      await this.handle.clock.sleep(1000);
    }
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'PersistentVolumeClaim', actions: ActionType.Add | ActionType.Update },
      { resource: 'PersistentVolume', actions: ActionType.Add | ActionType.Update },
      { resource: 'StorageClass', actions: ActionType.Add | ActionType.Update },
      { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeLabel },
    ];
  }
}

/** A PV with node affinity can only be used on the nodes it selects. */
export function pvFitsNode(pv: PersistentVolume, node: Node): boolean {
  const req = pv.spec?.nodeAffinity?.required;
  if (!req) return true;
  return matchNodeSelector(req, node);
}

function allowedTopologiesMatch(sc: StorageClass, node: Node): boolean {
  const terms = sc.allowedTopologies ?? [];
  if (terms.length === 0) return true;
  const labels = node.metadata?.labels ?? {};
  return terms.some((t) => (t.matchLabelExpressions ?? []).every((e) => e.values.includes(labels[e.key] ?? '\x00')));
}
