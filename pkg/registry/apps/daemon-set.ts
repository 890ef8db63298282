/** DaemonSet (apps/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, notSupported, forbidden, required } from '../../api/field-errors.js';
import { deepEqual } from '../../api/meta.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from '../core/pod-spec.js';
import { col, nameColumn, ageColumn, age, formatMap } from '../../printers/format.js';
import { containersColumn, count, formatSelector, imagesColumn, layoutContainerCells, selectorIsMalformed } from '../../printers/workloads.js';
import { immutable, intOrPercentValue, nonNegative, notMoreThan100Percent, validateLabelSelector, validatePositiveIntOrPercent } from '../../api/validation.js';
import { guarded } from '../guarded.js';
import { selectorMatchesTemplate } from './replica-set.js';

/**
 * apps/v1 keeps the internal spec.templateGeneration in this annotation: it starts at 1 and
 * grows by one with every change of the template.
 */
export const templateGenerationAnnotation = 'deprecated.daemonset.template.generation';

function templateGeneration(obj: StoredObject): number {
  const v = Number(obj.metadata.annotations?.[templateGenerationAnnotation]);
  return Number.isInteger(v) ? v : 0;
}

function setTemplateGeneration(obj: StoredObject, g: number): void {
  obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [templateGenerationAnnotation]: String(g) };
}

function validateUpdateStrategy(s: any): FieldError[] {
  const path = 'spec.updateStrategy';
  switch (s?.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!ru) return [required(`${path}.rollingUpdate`, '')];
      const p = `${path}.rollingUpdate`;
      const errs = [
        ...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`),
        ...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`),
        ...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`),
        ...notMoreThan100Percent(ru.maxSurge, `${p}.maxSurge`),
      ];
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalidField(`${p}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      else if (!hasUnavailable && !hasSurge) errs.push(required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      return errs;
    }
    default:
      return [notSupported(path, s ?? null, ['RollingUpdate', 'OnDelete'])];
  }
}

/** ValidateDaemonSetSpec. */
function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [...validateLabelSelector(spec.selector, 'spec.selector')];
  if (!selectorIsMalformed(spec.selector) && !selectorMatchesTemplate(spec.selector, spec.template)) {
    errs.push(invalidField('spec.template.metadata.labels', spec.template?.metadata?.labels ?? null, '`selector` does not match template `labels`'));
  }
  if (spec.selector && Object.keys(spec.selector.matchLabels ?? {}).length + (spec.selector.matchExpressions ?? []).length === 0) {
    errs.push(invalidField('spec.selector', spec.selector, 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplateSpec(spec.template, 'spec.template'));
  const restartPolicy = spec.template?.spec?.restartPolicy ?? 'Always';
  if (restartPolicy !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', restartPolicy, ['Always']));
  if (spec.template?.spec?.activeDeadlineSeconds !== undefined && spec.template?.spec?.activeDeadlineSeconds !== null) {
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in DaemonSet is not Supported'));
  }
  errs.push(...nonNegative(spec.minReadySeconds ?? 0, 'spec.minReadySeconds'));
  errs.push(...validateUpdateStrategy(spec.updateStrategy));
  if (spec.revisionHistoryLimit !== undefined && spec.revisionHistoryLimit !== null) errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

function validateStatus(obj: StoredObject): FieldError[] {
  const s = obj.status ?? {};
  const errs: FieldError[] = [];
  for (const f of ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount']) {
    errs.push(...nonNegative(s[f], `status.${f}`));
  }
  return errs;
}

export const daemonSetStrategy: Strategy = guarded({
  generation: true,
  hasStatus: true,
  statusKeepsAnnotations: true,
  defaults(obj) {
    obj.spec ??= {};
    const spec = obj.spec;
    // The pod template first: it does not depend on the rest, which may be malformed.
    defaultPodTemplateSpec(spec.template);
    spec.updateStrategy ??= {};
    spec.updateStrategy.type ||= 'RollingUpdate';
    if (spec.updateStrategy.type === 'RollingUpdate') {
      spec.updateStrategy.rollingUpdate ??= {};
      spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
      spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
  },
  prepareForCreate(obj) {
    // These four counters are not omitempty in apps/v1.
    obj.status = { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
    setTemplateGeneration(obj, Math.max(1, templateGeneration(obj)));
  },
  prepareForUpdate(obj, old) {
    // Clients cannot set the template generation; a new template is the next one.
    const previous = templateGeneration(old);
    setTemplateGeneration(obj, deepEqual(obj.spec?.template, old.spec?.template) ? previous : previous + 1);
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
      col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).'),
      col('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
      col('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
      col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
      col('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
      col('Node Selector', 'string', "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node."),
      ageColumn,
      containersColumn,
      imagesColumn,
      col('Selector', 'string', 'A label query over pods that are managed by the daemon set. Must match in order to be controlled.', 1),
    ],
    row: (obj, now) => {
      const s = obj.status ?? {};
      return [
        obj.metadata.name,
        count(s.desiredNumberScheduled),
        count(s.currentNumberScheduled),
        count(s.numberReady),
        count(s.updatedNumberScheduled),
        count(s.numberAvailable),
        formatMap(obj.spec?.template?.spec?.nodeSelector),
        age(obj, now),
        ...layoutContainerCells(obj.spec?.template?.spec?.containers),
        formatSelector(obj.spec?.selector),
      ];
    },
  },
});

export const daemonSetResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  subresources: ['status'],
  strategy: daemonSetStrategy,
};
