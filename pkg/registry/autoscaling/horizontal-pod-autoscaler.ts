/** HorizontalPodAutoscaler (autoscaling/v2): the strategy and resource definition. */
import type { ResourceDef, Strategy, TablePrinter } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, notSupported, required, forbidden } from '../../api/field-errors.js';
import { isQualifiedName, isValidPathSegmentName } from '../../api/validation.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { count } from '../../printers/workloads.js';
import { guarded } from '../guarded.js';

/** The CPU utilization an HPA without metrics aims at. */
export const defaultCPUUtilization = 80;
const maxPeriodSeconds = 1800;
const maxStabilizationWindowSeconds = 3600;
const metricSourceTypes = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const policySelections = ['Disabled', 'Max', 'Min'];
const policyTypes = ['Percent', 'Pods'];

/** The scale-up rules an HPA with a behavior starts from (the controller's old fixed behavior). */
function defaultScaleUp(): any {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/** The scale-down rules; the stabilization window stays unset for the controller's flag. */
function defaultScaleDown(): any {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** copyHPAScalingRules: what the user set wins over the defaults, field by field. */
function fillRules(rules: any, defaults: any): any {
  if (!rules) return defaults;
  for (const f of ['selectPolicy', 'stabilizationWindowSeconds', 'policies']) {
    if (rules[f] !== undefined && rules[f] !== null) defaults[f] = rules[f];
  }
  return defaults;
}

/** SetDefaults_HorizontalPodAutoscaler (autoscaling/v2). */
export function defaultHPA(obj: any): void {
  obj.spec ??= {};
  const spec = obj.spec;
  spec.minReplicas ??= 1;
  if (!(spec.metrics ?? []).length) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: defaultCPUUtilization } } }];
  }
  if (spec.behavior) {
    spec.behavior.scaleUp = fillRules(spec.behavior.scaleUp, defaultScaleUp());
    spec.behavior.scaleDown = fillRules(spec.behavior.scaleDown, defaultScaleDown());
  }
}

const has = (v: unknown): boolean => v !== undefined && v !== null;

/** The sign of a quantity string or number: positive, zero or negative. */
function quantitySign(q: unknown): number {
  const m = /^([+-]?)(\d*\.?\d*)/.exec(String(q));
  const n = Number(`${m?.[1] ?? ''}${m?.[2] || '0'}`);
  return Number.isNaN(n) ? 0 : Math.sign(n);
}

/** ValidateCrossVersionObjectReference. */
function validateReference(ref: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!ref?.kind) errs.push(required(`${path}.kind`, ''));
  else errs.push(...isValidPathSegmentName(ref.kind).map((m) => invalidField(`${path}.kind`, ref.kind, m)));
  if (!ref?.name) errs.push(required(`${path}.name`, ''));
  else errs.push(...isValidPathSegmentName(ref.name).map((m) => invalidField(`${path}.name`, ref.name, m)));
  return errs;
}

function validateTarget(t: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!t?.type) errs.push(required(`${path}.type`, 'must specify a metric target type'));
  if (!['Utilization', 'Value', 'AverageValue'].includes(t?.type)) errs.push(invalidField(`${path}.type`, t?.type ?? '', 'must be either Utilization, Value, or AverageValue'));
  if (has(t?.value) && quantitySign(t.value) !== 1) errs.push(invalidField(`${path}.value`, t.value, 'must be positive'));
  if (has(t?.averageValue) && quantitySign(t.averageValue) !== 1) errs.push(invalidField(`${path}.averageValue`, t.averageValue, 'must be positive'));
  if (has(t?.averageUtilization) && t.averageUtilization < 1) errs.push(invalidField(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateMetricIdentifier(id: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!id?.name) errs.push(required(`${path}.name`, 'must specify a metric name'));
  else errs.push(...isValidPathSegmentName(id.name).map((m) => invalidField(`${path}.name`, id.name, m)));
  return errs;
}

/** Resource and ContainerResource sources: a resource name and one kind of target. */
function validateResourceSource(src: any, path: string, container: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!src.name) errs.push(required(`${path}.name`, 'must specify a resource name'));
  else errs.push(...isQualifiedName(String(src.name)).map((m) => invalidField(`${path}.name`, src.name, m)));
  if (container && !src.container) errs.push(required(`${path}.container`, 'must specify a container'));
  errs.push(...validateTarget(src.target, `${path}.target`));
  const t = src.target ?? {};
  if (!has(t.averageUtilization) && !has(t.averageValue)) errs.push(required(`${path}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
  if (has(t.averageUtilization) && has(t.averageValue)) errs.push(forbidden(`${path}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
  return errs;
}

const sourceFields: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', ContainerResource: 'containerResource', External: 'external' };

function validateMetricSpec(m: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!m.type) errs.push(required(`${path}.type`, 'must specify a metric source type'));
  if (!metricSourceTypes.includes(m.type)) errs.push(notSupported(`${path}.type`, m.type ?? '', metricSourceTypes));
  const present = ['object', 'external', 'pods', 'resource', 'containerResource'].filter((f) => m[f]);
  const first = present[0];
  if (first === 'object') {
    errs.push(...validateReference(m.object.describedObject, `${path}.object.describedObject`), ...validateMetricIdentifier(m.object.metric, `${path}.object.metric`), ...validateTarget(m.object.target, `${path}.object.target`));
    if (!has(m.object.target?.value) && !has(m.object.target?.averageValue)) errs.push(required(`${path}.object.target.averageValue`, 'must set either a target value or averageValue'));
  } else if (first === 'external') {
    errs.push(...validateMetricIdentifier(m.external.metric, `${path}.external.metric`), ...validateTarget(m.external.target, `${path}.external.target`));
    if (!has(m.external.target?.value) && !has(m.external.target?.averageValue)) errs.push(required(`${path}.external.target.averageValue`, 'must set either a target value for metric or a per-pod target'));
  } else if (first === 'pods') {
    errs.push(...validateMetricIdentifier(m.pods.metric, `${path}.pods.metric`), ...validateTarget(m.pods.target, `${path}.pods.target`));
    if (!has(m.pods.target?.averageValue)) errs.push(required(`${path}.pods.target.averageValue`, 'must specify a positive target averageValue'));
  } else if (first === 'resource') errs.push(...validateResourceSource(m.resource, `${path}.resource`, false));
  else if (first === 'containerResource') errs.push(...validateResourceSource(m.containerResource, `${path}.containerResource`, true));
  const expected = sourceFields[m.type];
  if (expected) {
    if (!m[expected]) errs.push(required(`${path}.${expected}`, 'must populate information for the given metric source'));
  } else errs.push(notSupported(`${path}.type`, m.type ?? '', metricSourceTypes));
  if (present.length !== 1) {
    for (const f of present) if (f !== expected) errs.push(forbidden(`${path}.${f}`, 'must populate the given metric source only'));
  }
  return errs;
}

function validateScalingRules(rules: any, path: string): FieldError[] {
  if (!rules) return [];
  const errs: FieldError[] = [];
  const w = rules.stabilizationWindowSeconds;
  if (has(w) && w < 0) errs.push(invalidField(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  if (has(w) && w > maxStabilizationWindowSeconds) errs.push(invalidField(`${path}.stabilizationWindowSeconds`, w, `must be less than or equal to ${maxStabilizationWindowSeconds}`));
  if (has(rules.selectPolicy) && !policySelections.includes(rules.selectPolicy)) errs.push(notSupported(`${path}.selectPolicy`, rules.selectPolicy, policySelections));
  const policies: any[] = rules.policies ?? [];
  if (policies.length === 0) errs.push(required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    if (!policyTypes.includes(p.type)) errs.push(notSupported(`${pp}.type`, p.type ?? '', policyTypes));
    if (!(p.value > 0)) errs.push(invalidField(`${pp}.value`, p.value ?? 0, 'must be greater than zero'));
    if (!(p.periodSeconds > 0)) errs.push(invalidField(`${pp}.periodSeconds`, p.periodSeconds ?? 0, 'must be greater than zero'));
    if (p.periodSeconds > maxPeriodSeconds) errs.push(invalidField(`${pp}.periodSeconds`, p.periodSeconds, `must be less than or equal to ${maxPeriodSeconds}`));
  });
  return errs;
}

/** validateHorizontalPodAutoscalerSpec, on the autoscaling/v2 shape. */
export function validateHPASpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  const min = spec.minReplicas;
  if (has(min) && min < 1) errs.push(invalidField('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (!(spec.maxReplicas >= 1)) errs.push(invalidField('spec.maxReplicas', spec.maxReplicas ?? 0, 'must be greater than 0'));
  if (has(min) && spec.maxReplicas < min) errs.push(invalidField('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateReference(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  (spec.metrics ?? []).forEach((m: any, i: number) => errs.push(...validateMetricSpec(m ?? {}, `spec.metrics[${i}]`)));
  if (spec.behavior) errs.push(...validateScalingRules(spec.behavior.scaleUp, 'spec.behavior.scaleUp'), ...validateScalingRules(spec.behavior.scaleDown, 'spec.behavior.scaleDown'));
  return errs;
}

/** ValidateHorizontalPodAutoscalerStatusUpdate, on the autoscaling/v2 shape. */
export function validateHPAStatus(status: any): FieldError[] {
  return [
    ...(status?.currentReplicas < 0 ? [invalidField('status.currentReplicas', status.currentReplicas, 'must be greater than or equal to 0')] : []),
    ...(status?.desiredReplicas < 0 ? [invalidField('status.desiredReplicas', status.desiredReplicas, 'must be greater than or equal to 0')] : []),
  ];
}

/** formatHPAMetrics: each target with its current value, at most two and a count of the rest. */
export function formatHPAMetrics(specs: any[] | undefined, statuses: any[] | undefined): string {
  if (!specs?.length) return '<none>';
  const st = statuses ?? [];
  const text = (v: unknown) => String(v);
  const list = specs.map((spec, i) => {
    const s = st[i] ?? {};
    switch (spec.type) {
      case 'External':
      case 'Object': {
        const f = spec.type === 'External' ? 'external' : 'object';
        const target = spec[f]?.target ?? {};
        if (has(target.averageValue)) {
          const cur = has(s[f]?.current?.averageValue) ? text(s[f].current.averageValue) : '<unknown>';
          return `${cur}/${text(target.averageValue)} (avg)`;
        }
        const cur = s[f] ? text(s[f].current?.value ?? '0') : '<unknown>';
        return `${cur}/${text(target.value ?? '0')}`;
      }
      case 'Pods':
        return `${s.pods ? text(s.pods.current?.averageValue ?? '0') : '<unknown>'}/${text(spec.pods?.target?.averageValue ?? '0')}`;
      case 'Resource':
      case 'ContainerResource': {
        const f = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const src = spec[f] ?? {};
        const target = src.target ?? {};
        if (has(target.averageValue)) {
          const cur = s[f] ? text(s[f].current?.averageValue ?? '0') : '<unknown>';
          return `${src.name}: ${cur}/${text(target.averageValue)}`;
        }
        const cur = has(s[f]?.current?.averageUtilization) ? `${s[f].current.averageUtilization}%` : '<unknown>';
        const tgt = has(target.averageUtilization) ? `${target.averageUtilization}%` : '<auto>';
        return `${src.name}: ${cur}/${tgt}`;
      }
      default:
        return '<unknown type>';
    }
  });
  return list.length > 2 ? `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...` : list.join(', ');
}

/** The HPA printer, on the autoscaling/v2 shape. */
export const hpaPrinter: TablePrinter = {
  columns: [
    nameColumn,
    col('Reference', 'string', 'reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.'),
    col('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).'),
    col('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
    col('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
    col('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
    ageColumn,
  ],
  row: (obj: StoredObject, now: Date) => {
    const spec = obj.spec ?? {};
    return [
      obj.metadata.name,
      `${spec.scaleTargetRef?.kind ?? ''}/${spec.scaleTargetRef?.name ?? ''}`,
      formatHPAMetrics(spec.metrics, obj.status?.currentMetrics),
      has(spec.minReplicas) ? String(spec.minReplicas) : '<unset>',
      count(spec.maxReplicas),
      count(obj.status?.currentReplicas),
      age(obj, now),
    ];
  },
};

export const horizontalPodAutoscalerStrategy: Strategy = guarded({
  hasStatus: true,
  defaults: defaultHPA,
  prepareForCreate(obj) {
    // desiredReplicas is not omitempty in autoscaling/v2.
    obj.status = { desiredReplicas: 0 };
  },
  validate(obj) {
    return validateHPASpec(obj.spec ?? {});
  },
  validateStatusUpdate(obj) {
    return validateHPAStatus(obj.status);
  },
  table: hpaPrinter,
});

export const horizontalPodAutoscalerResource: ResourceDef = {
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  subresources: ['status'],
  strategy: horizontalPodAutoscalerStrategy,
};
