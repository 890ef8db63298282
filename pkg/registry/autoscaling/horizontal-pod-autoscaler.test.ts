import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { horizontalPodAutoscalerStrategy as s, formatHPAMetrics } from './horizontal-pod-autoscaler.js';

const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const hpa = (spec: Record<string, unknown>): StoredObject => ({ metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { scaleTargetRef: target, maxReplicas: 5, ...spec } });

function create(obj: StoredObject): string[] {
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('defaults: minReplicas 1, an 80% CPU metric, no behavior unless asked', () => {
  const o = hpa({});
  assert.deepEqual(create(o), []);
  assert.equal(o.spec.minReplicas, 1);
  assert.deepEqual(o.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.equal(o.spec.behavior, undefined);
  assert.deepEqual(o.status, { desiredReplicas: 0 });
});

test('a behavior is filled with the default scaling rules', () => {
  const o = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } });
  assert.deepEqual(create(o), []);
  assert.deepEqual(o.spec.behavior, {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
    scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], stabilizationWindowSeconds: 60 },
  });
});

test('validation: replicas bounds, scaleTargetRef, metrics, behavior', () => {
  assert.deepEqual(create(hpa({ minReplicas: 0, maxReplicas: 0, scaleTargetRef: { kind: 'Deployment' } })), [
    'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
    'spec.maxReplicas: Invalid value: 0: must be greater than 0',
    'spec.scaleTargetRef.name: Required value',
  ]);
  assert.deepEqual(create(hpa({ minReplicas: 6 })), ['spec.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`']);
  const metrics = [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } },
    { type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '-1Mi', averageUtilization: 0 } } },
  ];
  assert.deepEqual(create(hpa({ metrics })), [
    'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
    'spec.metrics[1].pods: Required value: must populate information for the given metric source',
    'spec.metrics[2].resource.target.averageValue: Invalid value: "-1Mi": must be positive',
    'spec.metrics[2].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    'spec.metrics[2].resource.target.averageValue: Forbidden: may not set both a target raw value and a target utilization',
  ]);
  assert.deepEqual(create(hpa({ behavior: { scaleUp: { selectPolicy: 'Most', policies: [{ type: 'Pods', value: 0, periodSeconds: 1801 }] } } })), [
    'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Most": supported values: "Disabled", "Max", "Min"',
    'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
    'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800',
  ]);
});

test('TARGETS: every metric kind, at most two shown', () => {
  const specs = [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
    { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
  ];
  assert.equal(formatHPAMetrics(specs, []), 'cpu: <unknown>/50%, memory: <unknown>/100Mi + 1 more...');
  assert.equal(formatHPAMetrics(specs.slice(0, 2), [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12, averageValue: '5m' } } }]), 'cpu: 12%/50%, memory: <unknown>/100Mi');
  assert.equal(formatHPAMetrics([], []), '<none>');
  assert.equal(formatHPAMetrics([{ type: 'External', external: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '30' } } }], [{ type: 'External', external: { current: { averageValue: '7' } } }]), '7/30 (avg)');
  assert.equal(formatHPAMetrics([{ type: 'Object', object: { target: { type: 'Value', value: '2' } } }], []), '<unknown>/2');
  assert.equal(formatHPAMetrics([{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization' } } }], []), 'cpu: <unknown>/<auto>');
});

test('printer: REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE', () => {
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
  const o = hpa({});
  create(o);
  o.status = { currentReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 30 } } }] };
  assert.deepEqual(s.table!.row(o, new Date('2024-01-01T00:01:00Z')), ['web', 'Deployment/web', 'cpu: 30%/80%', '1', 5, 2, '60s']);
  const unset = hpa({});
  assert.equal(s.table!.row(unset, new Date())[3], '<unset>');
});

test('a metric with two sources: the extra one is forbidden', () => {
  const metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } }, pods: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '1' } } }];
  assert.deepEqual(create(hpa({ metrics })), ['spec.metrics[0].pods: Forbidden: must populate the given metric source only']);
});
