/**
 * Pod spec defaulting and validation, shared by pods and every workload's pod template.
 * (Filled in with upstream's SetDefaults_PodSpec / ValidatePodSpec.)
 */
import type { FieldError } from '../../api/field-errors.js';
import type { PodSpec, PodTemplateSpec } from '../../api/types.js';

/** Upstream's pod spec defaults (restartPolicy, dnsPolicy, imagePullPolicy by tag, …). */
export function defaultPodSpec(_spec: PodSpec): void {}

/** Upstream's ValidatePodSpec; `path` is where the spec sits, as `spec` or `spec.template.spec`. */
export function validatePodSpec(_spec: PodSpec, _path: string): FieldError[] {
  return [];
}

export function defaultPodTemplateSpec(t: PodTemplateSpec | undefined): void {
  if (t?.spec) defaultPodSpec(t.spec);
}

export function validatePodTemplateSpec(t: PodTemplateSpec | undefined, path: string): FieldError[] {
  if (!t?.spec) return [];
  return validatePodSpec(t.spec, `${path}.spec`);
}
