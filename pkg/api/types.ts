/**
 * The one place API types come from (STYLE.md §8).
 *
 * The shapes are @kubernetes/client-node's models. Those models type timestamps as `Date`, but the
 * apiserver handles objects as they travel on the wire (JSON), where every timestamp is an RFC 3339
 * string, so each model is re-exported through `Wire<T>`, which maps `Date` to `string`.
 */
import type * as k8s from '@kubernetes/client-node';

/** A model as it appears in JSON on the wire: dates are strings. */
export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { -readonly [K in keyof T]: Wire<T[K]> }
      : T;

export type ObjectMeta = Wire<k8s.V1ObjectMeta>;
export type OwnerReference = Wire<k8s.V1OwnerReference>;
export type LabelSelector = Wire<k8s.V1LabelSelector>;
export type Pod = Wire<k8s.V1Pod>;
export type PodSpec = Wire<k8s.V1PodSpec>;
export type Container = Wire<k8s.V1Container>;
export type PodTemplateSpec = Wire<k8s.V1PodTemplateSpec>;
export type Namespace = Wire<k8s.V1Namespace>;
export type Node = Wire<k8s.V1Node>;
export type Service = Wire<k8s.V1Service>;
export type Endpoints = Wire<k8s.V1Endpoints>;
export type EndpointSlice = Wire<k8s.V1EndpointSlice>;
export type ConfigMap = Wire<k8s.V1ConfigMap>;
export type Secret = Wire<k8s.V1Secret>;
export type ServiceAccount = Wire<k8s.V1ServiceAccount>;
export type CoreEvent = Wire<k8s.CoreV1Event>;
export type EventsV1Event = Wire<k8s.EventsV1Event>;
export type PersistentVolume = Wire<k8s.V1PersistentVolume>;
export type PersistentVolumeClaim = Wire<k8s.V1PersistentVolumeClaim>;
export type ResourceQuota = Wire<k8s.V1ResourceQuota>;
export type LimitRange = Wire<k8s.V1LimitRange>;
export type ReplicationController = Wire<k8s.V1ReplicationController>;
export type Deployment = Wire<k8s.V1Deployment>;
export type ReplicaSet = Wire<k8s.V1ReplicaSet>;
export type StatefulSet = Wire<k8s.V1StatefulSet>;
export type DaemonSet = Wire<k8s.V1DaemonSet>;
export type ControllerRevision = Wire<k8s.V1ControllerRevision>;
export type Job = Wire<k8s.V1Job>;
export type CronJob = Wire<k8s.V1CronJob>;
export type Lease = Wire<k8s.V1Lease>;
export type PodDisruptionBudget = Wire<k8s.V1PodDisruptionBudget>;
export type Role = Wire<k8s.V1Role>;
export type RoleBinding = Wire<k8s.V1RoleBinding>;
export type ClusterRole = Wire<k8s.V1ClusterRole>;
export type ClusterRoleBinding = Wire<k8s.V1ClusterRoleBinding>;
export type Ingress = Wire<k8s.V1Ingress>;
export type IngressClass = Wire<k8s.V1IngressClass>;
export type NetworkPolicy = Wire<k8s.V1NetworkPolicy>;
export type PriorityClass = Wire<k8s.V1PriorityClass>;
export type HorizontalPodAutoscalerV2 = Wire<k8s.V2HorizontalPodAutoscaler>;
export type HorizontalPodAutoscalerV1 = Wire<k8s.V1HorizontalPodAutoscaler>;
export type StorageClass = Wire<k8s.V1StorageClass>;
export type CustomResourceDefinition = Wire<k8s.V1CustomResourceDefinition>;
export type Scale = Wire<k8s.V1Scale>;
export type Status = Wire<k8s.V1Status>;
export type StatusCause = Wire<k8s.V1StatusCause>;
export type DeleteOptions = Wire<k8s.V1DeleteOptions>;

/**
 * Any API object as the apiserver handles it: JSON with the common type and object metadata.
 * Kind-specific code narrows it to one of the models above.
 */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: any;
}

/** A KubeObject whose metadata has been checked to be present (after decoding). */
export interface StoredObject extends KubeObject {
  metadata: ObjectMeta;
}
