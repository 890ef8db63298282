/** The API types the scheduler uses, from the project's one source of API types (STYLE.md §8). */
export type {
  Container,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  PriorityClass,
  ReplicaSet,
  ReplicationController,
  Service,
  StatefulSet,
  StorageClass,
  CoreEvent,
  LabelSelector,
} from '../api/types.js';
import type { Wire } from '../api/types.js';
import type * as k8s from '@kubernetes/client-node';

export type Toleration = Wire<k8s.V1Toleration>;
export type Taint = Wire<k8s.V1Taint>;
export type NodeSelector = Wire<k8s.V1NodeSelector>;
export type NodeSelectorTerm = Wire<k8s.V1NodeSelectorTerm>;
export type NodeSelectorRequirement = Wire<k8s.V1NodeSelectorRequirement>;
export type PodAffinityTerm = Wire<k8s.V1PodAffinityTerm>;
export type WeightedPodAffinityTerm = Wire<k8s.V1WeightedPodAffinityTerm>;
export type TopologySpreadConstraint = Wire<k8s.V1TopologySpreadConstraint>;
export type PodCondition = Wire<k8s.V1PodCondition>;
