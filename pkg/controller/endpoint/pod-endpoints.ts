/**
 * What the endpoints and endpointslice controllers share (pkg/controller/util/endpoint and
 * pkg/api/v1/pod): which pods back a Service, which port a Service port reaches on a pod, and
 * which Services a pod change concerns.
 */
import type { Pod, Service } from '../../api/types.js';
import { selectorFromSet } from '../../api/labels.js';
import { isPodReady } from '../framework/pod-util.js';

type ServicePort = NonNullable<NonNullable<Service['spec']>['ports']>[number];

/** The annotation with the time of the last change that led to this Endpoints(Slice) write. */
export const lastChangeTriggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time';
/** The label on the Endpoints and slices of a headless Service. */
export const headlessServiceLabel = 'service.kubernetes.io/headless';

/** Pods are terminal once Succeeded or Failed: their IP may already belong to another pod. */
function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** ShouldPodBeInEndpoints: a pod with an IP that has not terminated; terminating ones only when asked. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP && !pod.status?.podIPs?.length) return false;
  if (isPodTerminal(pod)) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** A pod's hostname is published when its subdomain names this Service (ShouldSetHostname). */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return !!pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace;
}

/**
 * The port a Service port reaches on a pod (podutil.FindPort): a number as is, a name looked up
 * in the pod's container ports with the same protocol. Undefined when the name is not there.
 */
export function findPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** Whether the Service selects pods at all (a Service without a selector has hand-made endpoints). */
export function hasSelector(svc: Service): boolean {
  return !!svc.spec?.selector && Object.keys(svc.spec.selector).length > 0 && svc.spec.type !== 'ExternalName';
}

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** The Services of `services` whose selector matches any of the label sets. */
export function servicesSelecting(services: Service[], ...labelSets: (Record<string, string> | undefined)[]): Service[] {
  return services.filter((svc) => {
    if (!hasSelector(svc)) return false;
    const sel = selectorFromSet(svc.spec!.selector);
    return labelSets.some((l) => sel.matches(l ?? {}));
  });
}

/** The pods of a namespace a Service selects. */
export function podsSelectedBy(svc: Service, pods: Pod[]): Pod[] {
  if (!hasSelector(svc)) return [];
  const sel = selectorFromSet(svc.spec!.selector);
  return pods.filter((p) => sel.matches(p.metadata?.labels ?? {}));
}

/**
 * When the state these endpoints show last changed: the latest of the Service's creation and its
 * pods' Ready transitions (upstream tracks the earliest unprocessed change; the latest known
 * change is what this controller can tell from the cache alone).
 */
export function lastChangeTriggerTime(svc: Service, pods: Pod[]): string | undefined {
  let latest = svc.metadata?.creationTimestamp;
  for (const p of pods) {
    const t = p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? p.metadata?.creationTimestamp;
    if (t && (!latest || Date.parse(t) > Date.parse(latest))) latest = t;
  }
  return latest;
}

export { isPodReady };
