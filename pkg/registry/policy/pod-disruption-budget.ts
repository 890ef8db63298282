/** PodDisruptionBudget (policy/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, notSupported } from '../../api/field-errors.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { count, intOrStringText } from '../../printers/workloads.js';
import { nonNegative, notMoreThan100Percent, validateLabelSelector, validatePositiveIntOrPercent } from '../../api/validation.js';
import { guarded } from '../guarded.js';

const unhealthyPodEvictionPolicies = ['AlwaysAllow', 'IfHealthyBudget'];

/** ValidatePodDisruptionBudgetSpec. */
function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  const has = (v: unknown) => v !== undefined && v !== null;
  if (has(spec.minAvailable) && has(spec.maxUnavailable)) errs.push(invalidField('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  for (const f of ['minAvailable', 'maxUnavailable']) {
    if (has(spec[f])) errs.push(...validatePositiveIntOrPercent(spec[f], `spec.${f}`), ...notMoreThan100Percent(spec[f], `spec.${f}`));
  }
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (has(spec.unhealthyPodEvictionPolicy) && !unhealthyPodEvictionPolicies.includes(spec.unhealthyPodEvictionPolicy)) {
    errs.push(notSupported('spec.unhealthyPodEvictionPolicy', spec.unhealthyPodEvictionPolicy, unhealthyPodEvictionPolicies));
  }
  return errs;
}

/** ValidatePodDisruptionBudgetStatusUpdate. */
function validateStatus(obj: StoredObject): FieldError[] {
  const s = obj.status ?? {};
  const errs: FieldError[] = [];
  for (const f of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods']) errs.push(...nonNegative(s[f], `status.${f}`));
  return errs;
}

export const podDisruptionBudgetStrategy: Strategy = guarded({
  generation: true,
  hasStatus: true,
  prepareForCreate(obj) {
    // The four counters are not omitempty in policy/v1.
    obj.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  },
  validate(obj) {
    return validateSpec(obj.spec ?? {});
  },
  validateStatusUpdate: validateStatus,
  table: {
    columns: [
      nameColumn,
      col('Min Available', 'string', 'The minimum number of pods that must be available.'),
      col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
      col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
      ageColumn,
    ],
    row: (obj, now) => {
      const spec = obj.spec ?? {};
      const text = (v: unknown) => (v === undefined || v === null ? 'N/A' : intOrStringText(v));
      return [obj.metadata.name, text(spec.minAvailable), text(spec.maxUnavailable), count(obj.status?.disruptionsAllowed), age(obj, now)];
    },
  },
});

export const podDisruptionBudgetResource: ResourceDef = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  namespaced: true,
  shortNames: ['pdb'],
  subresources: ['status'],
  strategy: podDisruptionBudgetStrategy,
};
