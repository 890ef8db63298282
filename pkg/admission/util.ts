/** Helpers shared by the admission plugins. */
import * as errors from '../api/errors.js';
import type { StoredObject } from '../api/types.js';
import type { AdmissionAttributes } from './types.js';

/** Whether the request is about group/plural (any version), with no subresource unless asked. */
export function isResource(a: AdmissionAttributes, group: string, plural: string, subresource?: string): boolean {
  return a.def.group === group && a.def.plural === plural && (a.subresource ?? '') === (subresource ?? '');
}

/** upstream's admission.NewForbidden: `<resource> "<name>" is forbidden: <why>`. */
export function forbidden(a: AdmissionAttributes, why: string): errors.StatusError {
  return errors.forbidden({ group: a.def.group, resource: a.def.plural }, a.name, why);
}

/** The pod's containers and init containers, with where they sit. */
export function allContainers(pod: StoredObject): { c: any; init: boolean; ephemeral: boolean }[] {
  const spec = pod.spec ?? {};
  return [
    ...(spec.initContainers ?? []).map((c: any) => ({ c, init: true, ephemeral: false })),
    ...(spec.containers ?? []).map((c: any) => ({ c, init: false, ephemeral: false })),
    ...(spec.ephemeralContainers ?? []).map((c: any) => ({ c, init: false, ephemeral: true })),
  ];
}

export const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

export function isMirrorPod(pod: StoredObject): boolean {
  return pod.metadata.annotations?.[mirrorPodAnnotation] !== undefined;
}
