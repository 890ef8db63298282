/** ReplicaSet (apps/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { LabelSelector, PodTemplateSpec, StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, notSupported, forbidden, required } from '../../api/field-errors.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from '../core/pod-spec.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { containersColumn, count, formatSelector, imagesColumn, layoutContainerCells, selectorIsMalformed } from '../../printers/workloads.js';
import { immutable, nonNegative, validateLabelSelector } from '../../api/validation.js';
import { guarded } from '../guarded.js';

/**
 * A controller's `spec.selector`, as apps validation checks it: required, well formed, and not
 * empty. `kind` names the resource in the "empty selector" message.
 */
export function validateControllerSelector(selector: LabelSelector | undefined, path: string, kind: string): FieldError[] {
  if (!selector) return [required(path, '')];
  const errs = validateLabelSelector(selector, path);
  if (Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length === 0) {
    errs.push(invalidField(path, selector, `empty selector is invalid for ${kind}`));
  }
  return errs;
}

/** Whether a template's labels satisfy the selector (false when the selector is malformed). */
export function selectorMatchesTemplate(selector: LabelSelector | undefined, template: PodTemplateSpec | undefined): boolean {
  try {
    return labelSelectorAsSelector(selector).matches(template?.metadata?.labels);
  } catch {
    return false;
  }
}

/**
 * ValidatePodTemplateSpecForReplicaSet, shared by ReplicaSets and Deployments: the template must
 * exist, match the selector, be a valid pod template, restart Always and set no deadline.
 */
export function validateTemplateForReplicaSet(template: PodTemplateSpec | undefined, selector: LabelSelector | undefined, path: string): FieldError[] {
  if (!template) return [required(path, '')];
  const errs: FieldError[] = [];
  const sel = labelSelectorAsSelector(selector);
  if (!sel.isEmpty() && !selectorMatchesTemplate(selector, template)) {
    errs.push(invalidField(`${path}.metadata.labels`, template.metadata?.labels ?? null, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, path));
  const restartPolicy = template.spec?.restartPolicy ?? 'Always';
  if (restartPolicy !== 'Always') errs.push(notSupported(`${path}.spec.restartPolicy`, restartPolicy, ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined && template.spec?.activeDeadlineSeconds !== null) {
    errs.push(forbidden(`${path}.spec.activeDeadlineSeconds`, 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return errs;
}

/** The selector's own errors plus the template's, as ValidateReplicaSetSpec orders them. */
export function validateSelectorAndTemplate(spec: { selector?: LabelSelector; template?: PodTemplateSpec }, kind: string): FieldError[] {
  const errs = validateControllerSelector(spec.selector, 'spec.selector', kind);
  if (spec.selector && selectorIsMalformed(spec.selector)) errs.push(invalidField('spec.selector', spec.selector, 'invalid label selector'));
  else errs.push(...validateTemplateForReplicaSet(spec.template, spec.selector, 'spec.template'));
  return errs;
}

function validateStatus(obj: StoredObject): FieldError[] {
  const s = obj.status ?? {};
  const errs: FieldError[] = [];
  for (const f of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) errs.push(...nonNegative(s[f], `status.${f}`));
  const msg = 'cannot be greater than status.replicas';
  const replicas = count(s.replicas);
  if (count(s.fullyLabeledReplicas) > replicas) errs.push(invalidField('status.fullyLabeledReplicas', s.fullyLabeledReplicas, msg));
  if (count(s.readyReplicas) > replicas) errs.push(invalidField('status.readyReplicas', s.readyReplicas, msg));
  if (count(s.availableReplicas) > replicas) errs.push(invalidField('status.availableReplicas', s.availableReplicas, msg));
  if (count(s.availableReplicas) > count(s.readyReplicas)) errs.push(invalidField('status.availableReplicas', s.availableReplicas, 'cannot be greater than readyReplicas'));
  return errs;
}

export const replicaSetStrategy: Strategy = guarded({
  generation: true,
  hasStatus: true,
  statusKeepsAnnotations: true,
  defaults(obj) {
    obj.spec ??= {};
    // The pod template first: it does not depend on the rest, which may be malformed.
    defaultPodTemplateSpec(obj.spec.template);
    obj.spec.replicas ??= 1;
  },
  prepareForCreate(obj) {
    // ReplicaSetStatus.replicas is not omitempty: an empty status shows it as 0.
    obj.status = { replicas: 0 };
  },
  validate(obj) {
    const spec = obj.spec ?? {};
    return [...nonNegative(spec.replicas, 'spec.replicas'), ...nonNegative(spec.minReadySeconds ?? 0, 'spec.minReadySeconds'), ...validateSelectorAndTemplate(spec, 'deployment')];
  },
  validateUpdate(obj, old) {
    // apps/v1 does not allow the selector to change.
    return immutable(obj.spec?.selector, old.spec?.selector, 'spec.selector');
  },
  validateStatusUpdate: validateStatus,
  table: {
    columns: [
      nameColumn,
      col('Desired', 'integer', 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1.'),
      col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
      col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
      ageColumn,
      containersColumn,
      imagesColumn,
      col('Selector', 'string', 'Selector is a label query over pods that should match the replica count.', 1),
    ],
    row: (obj, now) => [
      obj.metadata.name,
      count(obj.spec?.replicas),
      count(obj.status?.replicas),
      count(obj.status?.readyReplicas),
      age(obj, now),
      ...layoutContainerCells(obj.spec?.template?.spec?.containers),
      formatSelector(obj.spec?.selector),
    ],
  },
});

export const replicaSetResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: replicaSetStrategy,
};
