/**
 * Every built-in resource keelson serves, in discovery order. Discovery, routing, OpenAPI and
 * Table printing all derive from this list.
 */
import type { ResourceDef } from './types.js';
import { namespaceResource } from './core/namespace.js';
import { podResource } from './core/pod.js';
import { serviceResource } from './core/service.js';
import { endpointsResource } from './core/endpoints.js';
import { configMapResource } from './core/config-map.js';
import { secretResource } from './core/secret.js';
import { serviceAccountResource } from './core/service-account.js';
import { nodeResource } from './core/node.js';
import { eventResource } from './core/event.js';
import { persistentVolumeResource } from './core/persistent-volume.js';
import { persistentVolumeClaimResource } from './core/persistent-volume-claim.js';
import { limitRangeResource } from './core/limit-range.js';
import { resourceQuotaResource } from './core/resource-quota.js';
import { replicationControllerResource } from './core/replication-controller.js';
import { deploymentResource } from './apps/deployment.js';
import { replicaSetResource } from './apps/replica-set.js';
import { statefulSetResource } from './apps/stateful-set.js';
import { daemonSetResource } from './apps/daemon-set.js';
import { controllerRevisionResource } from './apps/controller-revision.js';
import { jobResource } from './batch/job.js';
import { cronJobResource } from './batch/cron-job.js';
import { leaseResource } from './coordination/lease.js';
import { endpointSliceResource } from './discovery/endpoint-slice.js';
import { eventEventsV1Resource } from './events/event.js';
import { podDisruptionBudgetResource } from './policy/pod-disruption-budget.js';
import { roleResource } from './rbac/role.js';
import { roleBindingResource } from './rbac/role-binding.js';
import { clusterRoleResource } from './rbac/cluster-role.js';
import { clusterRoleBindingResource } from './rbac/cluster-role-binding.js';
import { ingressResource } from './networking/ingress.js';
import { ingressClassResource } from './networking/ingress-class.js';
import { networkPolicyResource } from './networking/network-policy.js';
import { priorityClassResource } from './scheduling/priority-class.js';
import { horizontalPodAutoscalerResource } from './autoscaling/horizontal-pod-autoscaler.js';
import { horizontalPodAutoscalerV1Resource } from './autoscaling/horizontal-pod-autoscaler-v1.js';
import { storageClassResource } from './storage/storage-class.js';
import { customResourceDefinitionResource } from './apiextensions/custom-resource-definition.js';
import { selfSubjectAccessReviewResource } from './authorization/self-subject-access-review.js';
import { subjectAccessReviewResource, localSubjectAccessReviewResource } from './authorization/subject-access-review.js';
import { selfSubjectRulesReviewResource } from './authorization/self-subject-rules-review.js';
import { selfSubjectReviewResource } from './authentication/self-subject-review.js';
import { tokenReviewResource } from './authentication/token-review.js';

export const builtinResources: ResourceDef[] = [
  namespaceResource,
  podResource,
  serviceResource,
  endpointsResource,
  configMapResource,
  secretResource,
  serviceAccountResource,
  nodeResource,
  eventResource,
  persistentVolumeResource,
  persistentVolumeClaimResource,
  limitRangeResource,
  resourceQuotaResource,
  replicationControllerResource,
  deploymentResource,
  replicaSetResource,
  statefulSetResource,
  daemonSetResource,
  controllerRevisionResource,
  jobResource,
  cronJobResource,
  leaseResource,
  endpointSliceResource,
  eventEventsV1Resource,
  podDisruptionBudgetResource,
  roleResource,
  roleBindingResource,
  clusterRoleResource,
  clusterRoleBindingResource,
  ingressResource,
  ingressClassResource,
  networkPolicyResource,
  priorityClassResource,
  horizontalPodAutoscalerResource,
  horizontalPodAutoscalerV1Resource,
  storageClassResource,
  customResourceDefinitionResource,
  selfSubjectAccessReviewResource,
  subjectAccessReviewResource,
  localSubjectAccessReviewResource,
  selfSubjectRulesReviewResource,
  selfSubjectReviewResource,
  tokenReviewResource,
];
