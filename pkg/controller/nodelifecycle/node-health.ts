/**
 * The node health bookkeeping of the node lifecycle controller (node_lifecycle_controller.go
 * tryUpdateNodeHealth), as pure code on an injected clock:
 * - a node is heard from when its Ready condition changes (status or heartbeat) or its Lease in
 *   kube-node-lease is renewed; the controller's own clock stamps when that was observed, so
 *   clock skew between kubelet and controller does not matter;
 * - once it has not been heard from for the grace period (`--node-monitor-grace-period`, or
 *   `--node-startup-grace-period` before it ever posted Ready), its conditions become Unknown.
 */
import type { Lease, Node } from '../../api/types.js';
import type { Clock } from '../framework/clock.js';

export type NodeCondition = NonNullable<NonNullable<Node['status']>['conditions']>[number];
export type Taint = NonNullable<NonNullable<Node['spec']>['taints']>[number];

export const unreachableTaintKey = 'node.kubernetes.io/unreachable';
export const notReadyTaintKey = 'node.kubernetes.io/not-ready';
/** The conditions a kubelet posts, set to Unknown with Ready when it goes silent. */
export const kubeletConditions = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];
/** NoSchedule taints for node conditions (upstream's nodeConditionToTaintKeyStatusMap). */
const conditionTaints: { type: string; status: string; key: string }[] = [
  { type: 'Ready', status: 'False', key: notReadyTaintKey },
  { type: 'Ready', status: 'Unknown', key: unreachableTaintKey },
  { type: 'MemoryPressure', status: 'True', key: 'node.kubernetes.io/memory-pressure' },
  { type: 'DiskPressure', status: 'True', key: 'node.kubernetes.io/disk-pressure' },
  { type: 'PIDPressure', status: 'True', key: 'node.kubernetes.io/pid-pressure' },
  { type: 'NetworkUnavailable', status: 'True', key: 'node.kubernetes.io/network-unavailable' },
];

interface HealthRecord {
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  ready: NodeCondition | undefined;
  leaseRenewTime: string | undefined;
}

export interface HealthVerdict {
  /** The conditions to write back when they changed (Unknown after the grace period). */
  conditions?: NodeCondition[];
  /** The Ready condition as the controller sees it after this pass. */
  ready: NodeCondition | undefined;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export class NodeHealthTracker {
  private readonly records = new Map<string, HealthRecord>();

  constructor(
    private readonly clock: Clock,
    private readonly gracePeriodMs: number,
    private readonly startupGracePeriodMs: number,
  ) {}

  forget(name: string): void {
    this.records.delete(name);
  }

  /** Looks at a node and its Lease; returns the conditions to post when the node went silent. */
  observe(node: Node, lease: Lease | undefined): HealthVerdict {
    const name = node.metadata!.name!;
    const now = this.clock.now();
    const conditions = node.status?.conditions ?? [];
    const ready = conditions.find((c) => c.type === 'Ready');
    let rec = this.records.get(name);
    if (!rec) {
      rec = { probeTimestamp: now, readyTransitionTimestamp: now, ready, leaseRenewTime: lease?.spec?.renewTime };
      this.records.set(name, rec);
    } else if (!sameCondition(rec.ready, ready)) {
      // A kubelet heartbeat, or a change of status (ours included).
      if (rec.ready?.status !== ready?.status) rec.readyTransitionTimestamp = now;
      rec.ready = ready;
      rec.probeTimestamp = now;
    }
    const renew = lease?.spec?.renewTime;
    if (renew && renew !== rec.leaseRenewTime) {
      rec.leaseRenewTime = renew;
      rec.probeTimestamp = now;
    }
    const grace = ready ? this.gracePeriodMs : this.startupGracePeriodMs;
    if (now <= rec.probeTimestamp + grace) return { ready };
    // Silent for too long: every kubelet condition is Unknown.
    const stamp = rfc3339(now);
    const next: NodeCondition[] = conditions.map((c) => ({ ...c }));
    let changed = false;
    for (const type of kubeletConditions) {
      const c = next.find((x) => x.type === type);
      if (!c) {
        if (type !== 'Ready') continue;
        next.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata?.creationTimestamp ?? stamp, lastTransitionTime: stamp });
        changed = true;
      } else if (c.status !== 'Unknown') {
        c.status = 'Unknown';
        c.reason = 'NodeStatusUnknown';
        c.message = 'Kubelet stopped posting node status.';
        c.lastTransitionTime = stamp;
        changed = true;
      }
    }
    const newReady = next.find((c) => c.type === 'Ready');
    if (!changed) return { ready: newReady };
    // What we post is not a heartbeat: keep it from resetting the probe.
    rec.ready = newReady;
    rec.readyTransitionTimestamp = now;
    return { conditions: next, ready: newReady };
  }
}

function sameCondition(a: NodeCondition | undefined, b: NodeCondition | undefined): boolean {
  return a?.status === b?.status && a?.lastHeartbeatTime === b?.lastHeartbeatTime && a?.reason === b?.reason;
}

/**
 * The taints the node lifecycle controller owns, given the node's conditions and unschedulable
 * flag: NoSchedule per condition (doNoScheduleTaintingPass) and NoExecute for Ready False or
 * Unknown (doNoExecuteTaintingPass).
 */
export function desiredControllerTaints(node: Node): { key: string; effect: 'NoSchedule' | 'NoExecute' }[] {
  const out: { key: string; effect: 'NoSchedule' | 'NoExecute' }[] = [];
  const conditions = node.status?.conditions ?? [];
  for (const ct of conditionTaints) {
    if (conditions.some((c) => c.type === ct.type && c.status === ct.status)) out.push({ key: ct.key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) out.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready?.status === 'False') out.push({ key: notReadyTaintKey, effect: 'NoExecute' });
  if (ready?.status === 'Unknown') out.push({ key: unreachableTaintKey, effect: 'NoExecute' });
  return out;
}

const ownedKeys = new Set([...conditionTaints.map((c) => c.key), 'node.kubernetes.io/unschedulable']);

/**
 * The node's taints with the controller-owned ones made to match `desired`; other taints are
 * kept as they are. Undefined when nothing changes. New NoExecute taints get timeAdded.
 */
export function reconcileTaints(current: Taint[], desired: { key: string; effect: string }[], now: number): Taint[] | undefined {
  const isOwned = (t: Taint) => ownedKeys.has(t.key) && (t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  const want = (t: Taint) => desired.some((d) => d.key === t.key && d.effect === t.effect);
  const kept = current.filter((t) => !isOwned(t) || want(t));
  const added: Taint[] = desired
    .filter((d) => !current.some((t) => t.key === d.key && t.effect === d.effect))
    .map((d) => (d.effect === 'NoExecute' ? { key: d.key, effect: d.effect, timeAdded: rfc3339(now) } : { key: d.key, effect: d.effect }));
  if (kept.length === current.length && added.length === 0) return undefined;
  return [...kept, ...added];
}
