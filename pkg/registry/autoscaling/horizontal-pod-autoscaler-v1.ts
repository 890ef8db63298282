/**
 * HorizontalPodAutoscaler (autoscaling/v1): a second served version of the autoscaling/v2
 * resource, stored in the v2 shape. v1 has only a CPU utilization target; everything else v2 can
 * say travels in annotations, as upstream's conversion (pkg/apis/autoscaling/v1/conversion.go)
 * keeps it, so that a v1 client's read-modify-write loses nothing.
 */
import type { KubeObject, StoredObject } from '../../api/types.js';
import type { ResourceDef, Strategy } from '../types.js';
import { clone } from '../../api/meta.js';
import { defaultCPUUtilization, defaultHPA, hpaPrinter, validateHPASpec, validateHPAStatus } from './horizontal-pod-autoscaler.js';
import { guarded } from '../guarded.js';

/** The annotations that carry v2 content through v1. */
export const metricSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/metrics';
export const metricStatusesAnnotation = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const conditionsAnnotation = 'autoscaling.alpha.kubernetes.io/conditions';
export const behaviorAnnotation = 'autoscaling.alpha.kubernetes.io/behavior';
const roundTripAnnotations = [metricSpecsAnnotation, metricStatusesAnnotation, conditionsAnnotation, behaviorAnnotation];

const has = (v: unknown): boolean => v !== undefined && v !== null;

/** Drops undefined members, so that JSON and deep comparisons see what Go would write. */
function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function withoutRoundTripAnnotations(meta: any): any {
  const m = clone(meta ?? {});
  if (m.annotations) {
    for (const a of roundTripAnnotations) delete m.annotations[a];
    if (Object.keys(m.annotations).length === 0) delete m.annotations;
  }
  return m;
}

const isCPUUtilization = (m: any) => m?.type === 'Resource' && m.resource?.name === 'cpu' && has(m.resource?.target?.averageUtilization);

// ---- metric specs: v2 ↔ v1 (the v1 form is the one of the annotation) ----

function metricSpecToV1(m: any): any {
  const out: any = { type: m.type };
  if (m.object) {
    out.object = compact({
      target: compact({ kind: m.object.describedObject?.kind ?? '', name: m.object.describedObject?.name ?? '', apiVersion: m.object.describedObject?.apiVersion }),
      metricName: m.object.metric?.name ?? '',
      targetValue: m.object.target?.value ?? '0',
      selector: m.object.metric?.selector,
      averageValue: m.object.target?.averageValue,
    });
  }
  if (m.pods) out.pods = compact({ metricName: m.pods.metric?.name ?? '', targetAverageValue: m.pods.target?.averageValue ?? '0', selector: m.pods.metric?.selector });
  if (m.resource) out.resource = compact({ name: m.resource.name, targetAverageUtilization: m.resource.target?.averageUtilization, targetAverageValue: m.resource.target?.averageValue });
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = compact({ name: c.name, targetAverageUtilization: c.target?.averageUtilization, targetAverageValue: c.target?.averageValue, container: c.container ?? '' });
  }
  if (m.external) {
    const e = m.external;
    out.external = compact({ metricName: e.metric?.name ?? '', metricSelector: e.metric?.selector, targetValue: e.target?.value, targetAverageValue: e.target?.averageValue });
  }
  return out;
}

function resourceTargetToV2(src: any): any {
  return compact({ type: has(src.targetAverageUtilization) ? 'Utilization' : 'AverageValue', averageValue: src.targetAverageValue, averageUtilization: src.targetAverageUtilization });
}

function metricSpecToV2(m: any): any {
  const out: any = { type: m.type };
  if (m.object) {
    const o = m.object;
    out.object = {
      describedObject: compact({ kind: o.target?.kind ?? '', name: o.target?.name ?? '', apiVersion: o.target?.apiVersion }),
      metric: compact({ name: o.metricName ?? '', selector: o.selector }),
      target: compact({ type: has(o.averageValue) ? 'AverageValue' : 'Value', value: o.targetValue ?? '0', averageValue: o.averageValue }),
    };
  }
  if (m.pods) out.pods = { metric: compact({ name: m.pods.metricName ?? '', selector: m.pods.selector }), target: { type: 'AverageValue', averageValue: m.pods.targetAverageValue ?? '0' } };
  if (m.resource) out.resource = { name: m.resource.name, target: resourceTargetToV2(m.resource) };
  if (m.containerResource) out.containerResource = { name: m.containerResource.name, target: resourceTargetToV2(m.containerResource), container: m.containerResource.container ?? '' };
  if (m.external) {
    const e = m.external;
    out.external = {
      metric: compact({ name: e.metricName ?? '', selector: e.metricSelector }),
      target: compact({ type: has(e.targetValue) ? 'Value' : 'AverageValue', value: e.targetValue, averageValue: e.targetAverageValue }),
    };
  }
  return out;
}

// ---- metric statuses: v2 ↔ v1 ----

function metricStatusToV1(m: any): any {
  const out: any = { type: m.type };
  if (m.object) {
    const o = m.object;
    out.object = compact({
      target: compact({ kind: o.describedObject?.kind ?? '', name: o.describedObject?.name ?? '', apiVersion: o.describedObject?.apiVersion }),
      metricName: o.metric?.name ?? '',
      currentValue: o.current?.value ?? '0',
      selector: o.metric?.selector,
      averageValue: o.current?.averageValue,
    });
  }
  if (m.pods) out.pods = compact({ metricName: m.pods.metric?.name ?? '', currentAverageValue: m.pods.current?.averageValue ?? '0', selector: m.pods.metric?.selector });
  if (m.resource) out.resource = compact({ name: m.resource.name, currentAverageUtilization: m.resource.current?.averageUtilization, currentAverageValue: m.resource.current?.averageValue ?? '0' });
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = compact({ name: c.name, currentAverageUtilization: c.current?.averageUtilization, currentAverageValue: c.current?.averageValue ?? '0', container: c.container ?? '' });
  }
  if (m.external) {
    const e = m.external;
    out.external = compact({ metricName: e.metric?.name ?? '', metricSelector: e.metric?.selector, currentValue: e.current?.value ?? '0', currentAverageValue: e.current?.averageValue });
  }
  return out;
}

function metricStatusToV2(m: any): any {
  const out: any = { type: m.type };
  if (m.object) {
    const o = m.object;
    out.object = {
      describedObject: compact({ kind: o.target?.kind ?? '', name: o.target?.name ?? '', apiVersion: o.target?.apiVersion }),
      metric: compact({ name: o.metricName ?? '', selector: o.selector }),
      current: compact({ value: o.currentValue ?? '0', averageValue: o.averageValue }),
    };
  }
  if (m.pods) out.pods = { metric: compact({ name: m.pods.metricName ?? '', selector: m.pods.selector }), current: { averageValue: m.pods.currentAverageValue ?? '0' } };
  if (m.resource) out.resource = { name: m.resource.name, current: compact({ averageValue: m.resource.currentAverageValue ?? '0', averageUtilization: m.resource.currentAverageUtilization }) };
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = { name: c.name, current: compact({ averageValue: c.currentAverageValue ?? '0', averageUtilization: c.currentAverageUtilization }), container: c.container ?? '' };
  }
  if (m.external) {
    const e = m.external;
    out.external = { metric: compact({ name: e.metricName ?? '', selector: e.metricSelector }), current: compact({ value: e.currentValue ?? '0', averageValue: e.currentAverageValue }) };
  }
  return out;
}

// ---- behavior: upstream writes the internal type, whose JSON has Go's field names ----

function rulesToInternal(r: any): any {
  if (!r) return null;
  return {
    StabilizationWindowSeconds: r.stabilizationWindowSeconds ?? null,
    SelectPolicy: r.selectPolicy ?? null,
    Policies: r.policies ? r.policies.map((p: any) => ({ Type: p.type, Value: p.value, PeriodSeconds: p.periodSeconds })) : null,
  };
}

function rulesFromInternal(r: any): any {
  if (!r) return undefined;
  return compact({
    stabilizationWindowSeconds: r.StabilizationWindowSeconds ?? undefined,
    selectPolicy: r.SelectPolicy ?? undefined,
    policies: Array.isArray(r.Policies) ? r.Policies.map((p: any) => ({ type: p.Type, value: p.Value, periodSeconds: p.PeriodSeconds })) : undefined,
  });
}

function parseJSON(s: unknown): any {
  try {
    return typeof s === 'string' ? JSON.parse(s) : undefined;
  } catch {
    return undefined;
  }
}

/** An autoscaling/v2 HPA (as stored) as autoscaling/v1 serves it. */
export function hpaV2ToV1(obj: StoredObject): StoredObject {
  const spec = obj.spec ?? {};
  const status = obj.status ?? {};
  const metadata = withoutRoundTripAnnotations(obj.metadata);
  const annotations: Record<string, string> = {};
  const other = (spec.metrics ?? []).filter((m: any) => !isCPUUtilization(m)).map(metricSpecToV1);
  if (other.length) annotations[metricSpecsAnnotation] = JSON.stringify(other);
  if ((status.currentMetrics ?? []).length) annotations[metricStatusesAnnotation] = JSON.stringify(status.currentMetrics.map(metricStatusToV1));
  if (spec.behavior) annotations[behaviorAnnotation] = JSON.stringify({ ScaleUp: rulesToInternal(spec.behavior.scaleUp), ScaleDown: rulesToInternal(spec.behavior.scaleDown) });
  if ((status.conditions ?? []).length) annotations[conditionsAnnotation] = JSON.stringify(status.conditions);
  if (Object.keys(annotations).length) metadata.annotations = { ...(metadata.annotations ?? {}), ...annotations };
  const cpu = (spec.metrics ?? []).find(isCPUUtilization);
  const currentCPU = (status.currentMetrics ?? []).find((m: any) => m.type === 'Resource' && m.resource?.name === 'cpu' && has(m.resource?.current?.averageUtilization));
  const out: StoredObject = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: compact({
      scaleTargetRef: spec.scaleTargetRef,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas ?? 0,
      targetCPUUtilizationPercentage: cpu?.resource.target.averageUtilization,
    }),
  };
  if (obj.status !== undefined) {
    out.status = compact({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: currentCPU?.resource.current.averageUtilization,
    });
  }
  return out;
}

/** An autoscaling/v1 HPA in the autoscaling/v2 shape it is stored in. */
export function hpaV1ToV2(obj: KubeObject): KubeObject {
  const spec = obj.spec ?? {};
  const status = obj.status;
  const ann = obj.metadata?.annotations ?? {};
  let metrics: any[] = [];
  const other = parseJSON(ann[metricSpecsAnnotation]);
  if (Array.isArray(other)) metrics = other.map(metricSpecToV2);
  if (has(spec.targetCPUUtilizationPercentage)) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  // v1 aimed at 80% CPU implicitly; v2 says so.
  if (metrics.length === 0) metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: defaultCPUUtilization } } }];
  const out: KubeObject = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: withoutRoundTripAnnotations(obj.metadata),
    spec: compact({ scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, metrics }),
  };
  const behavior = parseJSON(ann[behaviorAnnotation]);
  if (behavior && (behavior.ScaleUp || behavior.ScaleDown)) {
    out.spec.behavior = compact({ scaleUp: rulesFromInternal(behavior.ScaleUp), scaleDown: rulesFromInternal(behavior.ScaleDown) });
  }
  if (status !== undefined && status !== null) {
    const s: any = compact({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas,
      desiredReplicas: status.desiredReplicas ?? 0,
    });
    if (has(status.currentCPUUtilizationPercentage)) {
      s.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
    }
    // The annotation has more than the one CPU figure; it wins.
    const current = parseJSON(ann[metricStatusesAnnotation]);
    if (Array.isArray(current)) s.currentMetrics = current.map(metricStatusToV2);
    const conditions = parseJSON(ann[conditionsAnnotation]);
    if (Array.isArray(conditions)) s.conditions = conditions;
    out.status = s;
  }
  return out;
}

export const horizontalPodAutoscalerV1Strategy: Strategy = guarded({
  hasStatus: true,
  defaults(obj) {
    obj.spec ??= {};
    obj.spec.minReplicas ??= 1;
  },
  prepareForCreate(obj) {
    // currentReplicas and desiredReplicas are not omitempty in autoscaling/v1.
    obj.status = { currentReplicas: 0, desiredReplicas: 0 };
  },
  prepareForUpdate(obj, old) {
    // The status is the old one, so the annotations that carry the rest of it must be too.
    for (const a of [metricStatusesAnnotation, conditionsAnnotation]) {
      const v = old.metadata.annotations?.[a];
      if (v === undefined) {
        if (obj.metadata.annotations) delete obj.metadata.annotations[a];
      } else obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [a]: v };
    }
  },
  /** Upstream validates the internal (v2-like) object, so field paths are the v2 ones. */
  validate(obj) {
    const v2 = hpaV1ToV2(obj);
    defaultHPA(v2);
    return validateHPASpec(v2.spec);
  },
  validateStatusUpdate(obj) {
    return validateHPAStatus(obj.status);
  },
  table: {
    columns: hpaPrinter.columns,
    row: (obj, now) => hpaPrinter.row(hpaV1ToV2(obj) as StoredObject, now),
  },
});

export const horizontalPodAutoscalerV1Resource: ResourceDef = {
  group: 'autoscaling',
  version: 'v1',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  subresources: ['status'],
  strategy: horizontalPodAutoscalerV1Strategy,
  storageResource: 'horizontalpodautoscalers',
  conversion: {
    /** Stored objects carry v2's defaults, as upstream applies them whenever it decodes v2. */
    toStorage: (obj) => {
      const v2 = hpaV1ToV2(obj);
      defaultHPA(v2);
      return v2;
    },
    fromStorage: hpaV2ToV1,
  },
};
