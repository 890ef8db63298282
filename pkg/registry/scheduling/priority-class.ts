/** PriorityClass (scheduling.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import { type FieldError, forbidden, notSupported } from '../../api/field-errors.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { immutable } from '../../api/validation.js';
import { guarded } from '../guarded.js';

/** The highest value a PriorityClass that is not a system one may have. */
export const highestUserDefinablePriority = 1000000000;
const systemPrefix = 'system-';
/** The system priority classes the apiserver creates; only they may use the prefix. */
export const systemPriorityClasses = [
  { name: 'system-node-critical', value: 2000001000, globalDefault: false },
  { name: 'system-cluster-critical', value: 2000000000, globalDefault: false },
];
const preemptionPolicies = ['Never', 'PreemptLowerPriority'];

/** IsKnownSystemPriorityClass: why a system- class is not one of the known ones, if it is not. */
function systemClassError(name: string, value: unknown, globalDefault: unknown): string | undefined {
  const spc = systemPriorityClasses.find((c) => c.name === name);
  if (!spc) return `${name} is not a known system priority class`;
  if (spc.value !== value) return `value of ${spc.name} PriorityClass must be ${spc.value}`;
  if (spc.globalDefault !== !!globalDefault) return `globalDefault of ${spc.name} PriorityClass must be ${spc.globalDefault}`;
  return undefined;
}

export const priorityClassStrategy: Strategy = guarded({
  defaults(obj) {
    obj.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const name = obj.metadata.name ?? '';
    if (name.startsWith(systemPrefix)) {
      const why = systemClassError(name, obj.value, obj.globalDefault);
      if (why) errs.push(forbidden('metadata.name', `priority class names with '${systemPrefix}' prefix are reserved for system use only. error: ${why}`));
    } else if (typeof obj.value === 'number' && obj.value > highestUserDefinablePriority) {
      errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${highestUserDefinablePriority}`));
    }
    if (obj.preemptionPolicy !== undefined && obj.preemptionPolicy !== null && !preemptionPolicies.includes(obj.preemptionPolicy)) {
      errs.push(notSupported('preemptionPolicy', obj.preemptionPolicy, preemptionPolicies));
    }
    return errs;
  },
  validateUpdate(obj, old) {
    const errs: FieldError[] = [];
    if (obj.value !== old.value) errs.push(forbidden('value', 'may not be changed in an update.'));
    errs.push(...immutable(obj.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
    return errs;
  },
  table: {
    columns: [
      nameColumn,
      col('Value', 'integer', 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.'),
      col('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.'),
      ageColumn,
      col('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.'),
    ],
    row: (obj, now) => [obj.metadata.name, obj.value ?? 0, !!obj.globalDefault, age(obj, now), obj.preemptionPolicy ?? ''],
  },
});

export const priorityClassResource: ResourceDef = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  singular: 'priorityclass',
  namespaced: false,
  shortNames: ['pc'],
  strategy: priorityClassStrategy,
};
