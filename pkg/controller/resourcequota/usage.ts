/**
 * What a namespace uses, as ResourceQuota counts it (pkg/quota/v1/evaluator/core): object counts,
 * and the compute and storage requests and limits of pods and claims. Pure functions over the
 * objects of one namespace.
 */
import type { PersistentVolumeClaim, Pod, ResourceQuota, Service } from '../../api/types.js';
import { addQuantities, compareQuantities, formatQuantity, quantityOf, tryParseQuantity, type Quantity } from '../../api/quantity.js';

type ResourceList = Record<string, string>;

/** The objects of a namespace the quota counts, by resource (plural, `.group` for non-core). */
export type NamespaceObjects = Record<string, unknown[]>;

/** The resources the controller can count, plural (with `.group` when not core). */
export const countableResources = ['pods', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'replicationcontrollers', 'resourcequotas', 'deployments.apps', 'replicasets.apps'];

/** Legacy names that count the same objects as `count/<resource>`. */
const legacyCounts: Record<string, string> = {
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function sum(a: Quantity | undefined, b: Quantity | undefined): Quantity | undefined {
  if (!a) return b;
  if (!b) return a;
  return addQuantities(a, b);
}

function max(a: Quantity | undefined, b: Quantity | undefined): Quantity | undefined {
  if (!a) return b;
  if (!b) return a;
  return compareQuantities(a, b) >= 0 ? a : b;
}

/** A pod's effective requests or limits of one resource: max(sum of containers, each init container) plus overhead. */
export function podResource(pod: Pod, kind: 'requests' | 'limits', resource: string): Quantity | undefined {
  let total: Quantity | undefined;
  for (const c of pod.spec?.containers ?? []) total = sum(total, tryParseQuantity(c.resources?.[kind]?.[resource]));
  for (const c of pod.spec?.initContainers ?? []) total = max(total, tryParseQuantity(c.resources?.[kind]?.[resource]));
  if (total) total = sum(total, tryParseQuantity(pod.spec?.overhead?.[resource]));
  return total;
}

function isBestEffort(pod: Pod): boolean {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].every((c) => !Object.keys(c.resources?.requests ?? {}).length && !Object.keys(c.resources?.limits ?? {}).length);
}

/** Whether a pod falls in every one of the quota's scopes (Terminating, NotTerminating, BestEffort, NotBestEffort). */
export function podMatchesScopes(pod: Pod, scopes: string[]): boolean {
  return scopes.every((s) => {
    switch (s) {
      case 'Terminating':
        return pod.spec?.activeDeadlineSeconds !== undefined && pod.spec?.activeDeadlineSeconds !== null;
      case 'NotTerminating':
        return pod.spec?.activeDeadlineSeconds === undefined || pod.spec?.activeDeadlineSeconds === null;
      case 'BestEffort':
        return isBestEffort(pod);
      case 'NotBestEffort':
        return !isBestEffort(pod);
      default:
        // Scopes this controller does not evaluate (PriorityClass, CrossNamespacePodAffinity) match nothing.
        return false;
    }
  });
}

/** The usage of every resource in `hard` that this controller can compute. */
export function computeUsage(quota: ResourceQuota, objects: NamespaceObjects): ResourceList {
  const hard = quota.spec?.hard ?? {};
  const scopes = quota.spec?.scopes ?? [];
  const pods = ((objects.pods ?? []) as Pod[]).filter((p) => !isTerminal(p) && podMatchesScopes(p, scopes));
  const claims = (objects.persistentvolumeclaims ?? []) as PersistentVolumeClaim[];
  const services = (objects.services ?? []) as Service[];
  const used: ResourceList = {};
  for (const name of Object.keys(hard)) {
    let value: Quantity | undefined;
    if (name === 'pods' || name === 'count/pods') value = quantityOf(pods.length);
    else if (isComputeResource(name)) {
      const [kind, resource] = computeResource(name);
      value = quantityOf(0, resource === 'cpu' ? 'DecimalSI' : 'BinarySI');
      for (const p of pods) value = sum(value, podResource(p, kind, resource));
    } else if (scopes.length) continue; // scoped quotas track pods only
    else if (name.startsWith('count/')) {
      const r = name.slice('count/'.length);
      if (!countableResources.includes(r)) continue;
      value = quantityOf(objects[r]?.length ?? 0);
    } else if (legacyCounts[name]) value = quantityOf(objects[legacyCounts[name]]?.length ?? 0);
    else if (name === 'services.nodeports') value = quantityOf(services.reduce((n, s) => n + (s.spec?.type === 'NodePort' || s.spec?.type === 'LoadBalancer' ? (s.spec.ports ?? []).filter((p) => p.nodePort).length : 0), 0));
    else if (name === 'services.loadbalancers') value = quantityOf(services.filter((s) => s.spec?.type === 'LoadBalancer').length);
    else if (name === 'requests.storage') {
      value = quantityOf(0, 'BinarySI');
      for (const c of claims) value = sum(value, tryParseQuantity(c.spec?.resources?.requests?.storage));
    } else continue;
    used[name] = formatQuantity(value!);
  }
  return used;
}

function isComputeResource(name: string): boolean {
  return ['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'ephemeral-storage', 'requests.ephemeral-storage', 'limits.ephemeral-storage'].includes(name);
}

function computeResource(name: string): ['requests' | 'limits', string] {
  if (name.startsWith('limits.')) return ['limits', name.slice('limits.'.length)];
  if (name.startsWith('requests.')) return ['requests', name.slice('requests.'.length)];
  return ['requests', name];
}
