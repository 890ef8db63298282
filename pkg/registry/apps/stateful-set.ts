/** StatefulSet (apps/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, notSupported, forbidden, required } from '../../api/field-errors.js';
import { deepEqual, clone } from '../../api/meta.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import { nameIsDNSLabel, validateAnnotations, validateLabels } from '../../api/validation.js';
import { defaultPodTemplateSpec } from '../core/pod-spec.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { containersColumn, count, imagesColumn, layoutContainerCells, selectorIsMalformed } from '../../printers/workloads.js';
import { intOrPercentValue, nonNegative, notMoreThan100Percent, validateLabelSelector, validatePositiveIntOrPercent } from '../../api/validation.js';
import { guarded } from '../guarded.js';
import { selectorMatchesTemplate } from './replica-set.js';

function validateRetentionPolicy(policy: any): FieldError[] {
  if (!policy) return [];
  const errs: FieldError[] = [];
  for (const f of ['whenDeleted', 'whenScaled']) {
    if (policy[f] !== 'Retain' && policy[f] !== 'Delete') errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, policy[f] ?? '', ['Retain', 'Delete']));
  }
  return errs;
}

function validateRollingUpdate(ru: any, path: string): FieldError[] {
  const errs = nonNegative(ru.partition ?? 0, `${path}.partition`);
  if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
    const p = `${path}.maxUnavailable`;
    errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, p));
    if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(invalidField(p, ru.maxUnavailable, 'cannot be 0'));
    errs.push(...notMoreThan100Percent(ru.maxUnavailable, p));
  }
  return errs;
}

/** ValidateStatefulSetSpec. */
function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  switch (spec.podManagementPolicy) {
    case undefined:
    case '':
      errs.push(required('spec.podManagementPolicy', ''));
      break;
    case 'OrderedReady':
    case 'Parallel':
      break;
    default:
      errs.push(invalidField('spec.podManagementPolicy', spec.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'"));
  }
  const us = spec.updateStrategy ?? {};
  switch (us.type) {
    case undefined:
    case '':
      errs.push(required('spec.updateStrategy', ''));
      break;
    case 'OnDelete':
      if (us.rollingUpdate) errs.push(invalidField('spec.updateStrategy.rollingUpdate', us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      if (us.rollingUpdate) errs.push(...validateRollingUpdate(us.rollingUpdate, 'spec.updateStrategy.rollingUpdate'));
      break;
    default:
      errs.push(invalidField('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  errs.push(...validateRetentionPolicy(spec.persistentVolumeClaimRetentionPolicy));
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'), ...nonNegative(spec.minReadySeconds ?? 0, 'spec.minReadySeconds'));
  if (spec.ordinals) errs.push(...nonNegative(spec.ordinals.start ?? 0, 'spec.ordinals.start'));
  if (!spec.selector) errs.push(required('spec.selector', ''));
  else {
    errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    if (Object.keys(spec.selector.matchLabels ?? {}).length + (spec.selector.matchExpressions ?? []).length === 0) {
      errs.push(invalidField('spec.selector', spec.selector, 'empty selector is invalid for statefulset'));
    }
  }
  if (selectorIsMalformed(spec.selector)) errs.push(invalidField('spec.selector', spec.selector, ''));
  else {
    // Only labels and annotations of the template are checked here, as upstream does.
    const t = spec.template;
    if (!t) errs.push(required('spec.template', ''));
    else {
      if (!labelSelectorAsSelector(spec.selector).isEmpty() && !selectorMatchesTemplate(spec.selector, t)) {
        errs.push(invalidField('spec.template.metadata.labels', t.metadata?.labels ?? null, '`selector` does not match template `labels`'));
      }
      errs.push(...validateLabels(t.metadata?.labels, 'spec.template.labels'), ...validateAnnotations(t.metadata?.annotations, 'spec.template.annotations'));
    }
  }
  const restartPolicy = spec.template?.spec?.restartPolicy ?? 'Always';
  if (restartPolicy !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', restartPolicy, ['Always']));
  if (spec.template?.spec?.activeDeadlineSeconds !== undefined && spec.template?.spec?.activeDeadlineSeconds !== null) {
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
  }
  return errs;
}

function validateStatus(obj: StoredObject): FieldError[] {
  const s = obj.status ?? {};
  const errs: FieldError[] = [];
  for (const f of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount']) errs.push(...nonNegative(s[f], `status.${f}`));
  const msg = 'cannot be greater than status.replicas';
  const replicas = count(s.replicas);
  for (const f of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas']) {
    if (count(s[f]) > replicas) errs.push(invalidField(`status.${f}`, s[f], msg));
  }
  if (count(s.availableReplicas) > count(s.readyReplicas)) errs.push(invalidField('status.availableReplicas', s.availableReplicas, 'cannot be greater than status.readyReplicas'));
  return errs;
}

export const statefulSetStrategy: Strategy = guarded({
  generation: true,
  hasStatus: true,
  statusKeepsAnnotations: true,
  // Pods are named <statefulset>-<ordinal> and used as hostnames.
  nameValidator: nameIsDNSLabel,
  defaults(obj) {
    obj.spec ??= {};
    const spec = obj.spec;
    // The pod template first: it does not depend on the rest, which may be malformed.
    defaultPodTemplateSpec(spec.template);
    spec.podManagementPolicy ||= 'OrderedReady';
    spec.updateStrategy ??= {};
    if (!spec.updateStrategy.type) {
      spec.updateStrategy.type = 'RollingUpdate';
      spec.updateStrategy.rollingUpdate ??= {};
    }
    if (spec.updateStrategy.type === 'RollingUpdate' && spec.updateStrategy.rollingUpdate) spec.updateStrategy.rollingUpdate.partition ??= 0;
    spec.persistentVolumeClaimRetentionPolicy ??= {};
    spec.persistentVolumeClaimRetentionPolicy.whenDeleted ||= 'Retain';
    spec.persistentVolumeClaimRetentionPolicy.whenScaled ||= 'Retain';
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    // The claim templates are PersistentVolumeClaims and get their defaults; apps/v1 writes
    // their type meta out in full.
    for (const pvc of spec.volumeClaimTemplates ?? []) {
      pvc.apiVersion = 'v1';
      pvc.kind = 'PersistentVolumeClaim';
      pvc.spec ??= {};
      pvc.spec.volumeMode ??= 'Filesystem';
      pvc.status ??= {};
      pvc.status.phase ||= 'Pending';
    }
  },
  prepareForCreate(obj) {
    // replicas and availableReplicas are not omitempty in apps/v1.
    obj.status = { replicas: 0, availableReplicas: 0 };
  },
  validate(obj) {
    return validateSpec(obj.spec ?? {});
  },
  validateUpdate(obj, old) {
    const now = clone(obj.spec ?? {});
    const before = old.spec ?? {};
    for (const f of ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy']) {
      if (before[f] === undefined) delete now[f];
      else now[f] = before[f];
    }
    if (!deepEqual(now, before)) {
      return [forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
    }
    return [];
  },
  validateStatusUpdate(obj, old) {
    const errs = validateStatus(obj);
    const oldCC = old.status?.collisionCount;
    if (typeof oldCC === 'number' && count(obj.status?.collisionCount) < oldCC) errs.push(invalidField('status.collisionCount', count(obj.status?.collisionCount), 'cannot be decremented'));
    return errs;
  },
  table: {
    columns: [nameColumn, col('Ready', 'string', 'Number of the pod with ready state'), ageColumn, containersColumn, imagesColumn],
    row: (obj, now) => [obj.metadata.name, `${count(obj.status?.readyReplicas)}/${count(obj.spec?.replicas)}`, age(obj, now), ...layoutContainerCells(obj.spec?.template?.spec?.containers)],
  },
});

export const statefulSetResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: statefulSetStrategy,
};
