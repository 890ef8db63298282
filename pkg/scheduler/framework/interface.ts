/**
 * The extension points, one small interface each (upstream framework/interface.go). A plugin
 * implements the ones it needs; the framework calls them in the configured order and stamps the
 * plugin's name on the Status it returns.
 */
import type { Clock } from '../../controller/framework/clock.js';
import type {
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodCondition,
  PodDisruptionBudget,
  PriorityClass,
  ReplicaSet,
  ReplicationController,
  Service,
  StatefulSet,
  StorageClass,
} from '../api-types.js';
import type { CycleState } from './cycle-state.js';
import type { NodeToStatus, Status } from './status.js';
import type { NodeInfo, PodInfo, QueuedPodInfo } from './types.js';

export interface Plugin {
  readonly name: string;
}

/** Orders the active queue. Exactly one per scheduler (all profiles share the queue). */
export interface QueueSortPlugin extends Plugin {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

/** Decides whether a pod may enter the active queue at all (scheduling gates). */
export interface PreEnqueuePlugin extends Plugin {
  preEnqueue(pod: Pod): Status;
}

/** Lets preemption and nominated pods update a PreFilter's precomputed state incrementally. */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  removePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status;
}

export interface PreFilterPlugin extends Plugin {
  /** Runs once per attempt. Skip turns this plugin's Filter off for the attempt. */
  preFilter(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status;
  preFilterExtensions?(): PreFilterExtensions | undefined;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
}

export interface PostFilterResult {
  /** The node to nominate; '' clears an earlier nomination. */
  nominatedNodeName: string;
}

/** Runs when no node fits (preemption). */
export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: Pod, filteredNodeStatus: NodeToStatus): Promise<{ result?: PostFilterResult; status: Status }>;
}

export interface PreScorePlugin extends Plugin {
  /** `nodes` are the feasible nodes. Skip turns this plugin's Score off for the attempt. */
  preScore(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status;
}

export interface NodeScore {
  name: string;
  score: number;
}

export interface ScoreExtensions {
  /** Maps raw scores onto [0, 100] in place. */
  normalizeScore(state: CycleState, pod: Pod, scores: NodeScore[]): Status;
}

export interface ScorePlugin extends Plugin {
  /** A score, or a Status when the plugin failed. */
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status;
  scoreExtensions?(): ScoreExtensions | undefined;
}

/** Claims resources for the pod on the chosen node before binding; unreserve undoes it. */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): Status;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}

export interface PermitPlugin extends Plugin {
  /** Success, Unschedulable, or Wait with a timeout after which the pod is rejected. */
  permit(state: CycleState, pod: Pod, nodeName: string): { status: Status; timeoutMs?: number };
}

export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): Promise<Status>;
}

/** Binds the pod. Skip passes the pod to the next bind plugin. */
export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: Pod, nodeName: string): Promise<Status>;
}

export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: Pod, nodeName: string): void;
}

/** Cluster objects whose changes can make a rejected pod schedulable. */
export type EventResource = 'Pod' | 'Node' | 'PersistentVolume' | 'PersistentVolumeClaim' | 'StorageClass' | 'Namespace';

/** What changed, as bits so plugins can register several at once. */
export const ActionType = {
  Add: 1,
  Delete: 2,
  UpdateNodeAllocatable: 4,
  UpdateNodeLabel: 8,
  UpdateNodeTaint: 16,
  UpdateNodeCondition: 32,
  UpdatePodLabel: 64,
  UpdatePodScaleDown: 128,
  /** Any other update. */
  UpdateOther: 256,
  Update: 4 | 8 | 16 | 32 | 64 | 128 | 256,
  All: 511,
} as const;

export interface ClusterEvent {
  resource: EventResource;
  actions: number;
  /** For logs and metrics, as upstream's event labels (NodeAdd, AssignedPodDelete, …). */
  label?: string;
}

/** Plugins that reject pods say which events may change their mind. */
export interface EnqueueExtensions {
  eventsToRegister(): ClusterEvent[];
}

/** A lister over an informer's cache. */
export interface Lister<T> {
  list(): T[];
  get(namespace: string | undefined, name: string): T | undefined;
}

export interface Listers {
  pods: Lister<Pod>;
  nodes: Lister<Node>;
  namespaces: Lister<Namespace>;
  persistentVolumeClaims: Lister<PersistentVolumeClaim>;
  persistentVolumes: Lister<PersistentVolume>;
  storageClasses: Lister<StorageClass>;
  podDisruptionBudgets: Lister<PodDisruptionBudget>;
  services: Lister<Service>;
  replicationControllers: Lister<ReplicationController>;
  replicaSets: Lister<ReplicaSet>;
  statefulSets: Lister<StatefulSet>;
  priorityClasses: Lister<PriorityClass>;
}

/** The apiserver writes the scheduler makes. Writes about a pod that is gone resolve quietly. */
export interface SchedulerClient {
  /** POST pods/<name>/binding. */
  bind(pod: Pod, nodeName: string): Promise<void>;
  /** Sets a pod condition (and optionally status.nominatedNodeName; '' clears it) through pods/<name>/status. */
  updatePodStatus(pod: Pod, condition: PodCondition | undefined, nominatedNodeName?: string): Promise<void>;
  /** Deletes a preemption victim. */
  deletePod(pod: Pod): Promise<void>;
  /** Records an Event about an object, reported by `reportingController` (the profile's schedulerName). */
  recordEvent(
    regarding: { kind: string; apiVersion: string; namespace?: string; name: string; uid?: string },
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    message: string,
    reportingController?: string,
  ): void;
  updatePersistentVolume(pv: PersistentVolume): Promise<void>;
  updatePersistentVolumeClaim(pvc: PersistentVolumeClaim): Promise<void>;
}

/** Nodes and their pods as of the start of the scheduling cycle. */
export interface SharedLister {
  list(): NodeInfo[];
  get(nodeName: string): NodeInfo | undefined;
  havePodsWithAffinityList(): NodeInfo[];
  havePodsWithRequiredAntiAffinityList(): NodeInfo[];
}

/** Pods nominated to nodes by preemption, whose room must be kept for them. */
export interface PodNominator {
  nominatedPodsForNode(nodeName: string): PodInfo[];
}

/** Metrics that plugins record (preemption). */
export interface PluginMetrics {
  preemptionAttempt(): void;
  preemptionVictims(n: number): void;
}

/** What plugins may use besides the cycle state (upstream framework.Handle). */
export interface Handle {
  readonly profileName: string;
  /** Uniform in [0, 1): injected so tests are deterministic. */
  readonly rand: () => number;
  readonly metrics: PluginMetrics;
  snapshot(): SharedLister;
  readonly listers: Listers;
  readonly client: SchedulerClient;
  readonly nominator: PodNominator;
  readonly clock: Clock;
  /** Runs Filter with the higher-or-equal priority pods nominated to the node counted in. */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status;
}

/** Builds a plugin from its pluginConfig args. */
export type PluginFactory = (args: Record<string, unknown> | undefined, handle: Handle) => Plugin;
