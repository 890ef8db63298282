/** Deployment (apps/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, notSupported, forbidden, required } from '../../api/field-errors.js';
import { deepEqual } from '../../api/meta.js';
import { defaultPodTemplateSpec } from '../core/pod-spec.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { containersColumn, count, imagesColumn, layoutContainerCells, selectorString } from '../../printers/workloads.js';
import { immutable, intOrPercentValue, nonNegative, notMoreThan100Percent, validatePositiveIntOrPercent } from '../../api/validation.js';
import { guarded } from '../guarded.js';
import { validateSelectorAndTemplate } from './replica-set.js';

function validateStrategy(strategy: any): FieldError[] {
  const path = 'spec.strategy';
  const s = strategy ?? {};
  switch (s.type) {
    case 'Recreate':
      return s.rollingUpdate ? [forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!ru) return [required(`${path}.rollingUpdate`, 'this should be defaulted and never be nil')];
      const p = `${path}.rollingUpdate`;
      const errs = [...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`), ...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`)];
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(invalidField(`${p}.maxUnavailable`, ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
      return errs;
    }
    default:
      return [notSupported(path, s, ['Recreate', 'RollingUpdate'])];
  }
}

/** ValidateDeploymentSpec. */
function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [...nonNegative(spec.replicas, 'spec.replicas'), ...validateSelectorAndTemplate(spec, 'deployment'), ...validateStrategy(spec.strategy)];
  const minReady = spec.minReadySeconds ?? 0;
  errs.push(...nonNegative(minReady, 'spec.minReadySeconds'));
  if (spec.revisionHistoryLimit !== undefined && spec.revisionHistoryLimit !== null) errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds !== null) {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= minReady) errs.push(invalidField('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

function validateStatus(obj: StoredObject): FieldError[] {
  const s = obj.status ?? {};
  const errs: FieldError[] = [];
  for (const f of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount']) errs.push(...nonNegative(s[f], `status.${f}`));
  const msg = 'cannot be greater than status.replicas';
  const replicas = count(s.replicas);
  if (count(s.updatedReplicas) > replicas) errs.push(invalidField('status.updatedReplicas', s.updatedReplicas, msg));
  if (count(s.readyReplicas) > replicas) errs.push(invalidField('status.readyReplicas', s.readyReplicas, msg));
  if (count(s.availableReplicas) > replicas) errs.push(invalidField('status.availableReplicas', s.availableReplicas, msg));
  if (count(s.availableReplicas) > count(s.readyReplicas)) errs.push(invalidField('status.availableReplicas', s.availableReplicas, 'cannot be greater than readyReplicas'));
  return errs;
}

export const deploymentStrategy: Strategy = guarded({
  generation: true,
  hasStatus: true,
  statusKeepsAnnotations: true,
  defaults(obj) {
    obj.spec ??= {};
    const spec = obj.spec;
    // The pod template first: it does not depend on the rest, which may be malformed.
    defaultPodTemplateSpec(spec.template);
    spec.replicas ??= 1;
    spec.strategy ??= {};
    spec.strategy.type ||= 'RollingUpdate';
    if (spec.strategy.type === 'RollingUpdate') {
      spec.strategy.rollingUpdate ??= {};
      spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
      spec.strategy.rollingUpdate.maxSurge ??= '25%';
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  prepareForUpdate(obj, old) {
    // Annotations are copied to the ReplicaSets, so changing them is a new generation too.
    if (!deepEqual(obj.metadata.annotations ?? {}, old.metadata.annotations ?? {})) obj.metadata.generation = (old.metadata.generation ?? 0) + 1;
  },
  validate(obj) {
    return validateSpec(obj.spec ?? {});
  },
  validateUpdate(obj, old) {
    // apps/v1 does not allow the selector to change.
    return immutable(obj.spec?.selector, old.spec?.selector, 'spec.selector');
  },
  validateStatusUpdate(obj, old) {
    const errs = validateStatus(obj);
    const oldCC = old.status?.collisionCount;
    if (typeof oldCC === 'number' && count(obj.status?.collisionCount) < oldCC) errs.push(invalidField('status.collisionCount', count(obj.status?.collisionCount), 'cannot be decremented'));
    return errs;
  },
  table: {
    columns: [
      nameColumn,
      col('Ready', 'string', 'Number of the pod with ready state'),
      col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      ageColumn,
      containersColumn,
      imagesColumn,
      col('Selector', 'string', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1),
    ],
    row: (obj, now) => {
      const sel = selectorString(obj.spec?.selector);
      return [
        obj.metadata.name,
        `${count(obj.status?.readyReplicas)}/${count(obj.spec?.replicas)}`,
        count(obj.status?.updatedReplicas),
        count(obj.status?.availableReplicas),
        age(obj, now),
        ...layoutContainerCells(obj.spec?.template?.spec?.containers),
        sel === undefined ? '<invalid>' : sel,
      ];
    },
  },
});

export const deploymentResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: deploymentStrategy,
};
