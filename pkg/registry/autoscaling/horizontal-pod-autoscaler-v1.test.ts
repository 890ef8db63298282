import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { horizontalPodAutoscalerV1Resource as def, hpaV1ToV2, hpaV2ToV1, behaviorAnnotation, metricSpecsAnnotation, metricStatusesAnnotation, conditionsAnnotation } from './horizontal-pod-autoscaler-v1.js';

const s = def.strategy;
const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const meta = { name: 'web', namespace: 'default', uid: 'u', resourceVersion: '3', creationTimestamp: '2024-01-01T00:00:00Z', labels: { app: 'web' } };

test('v1 targetCPUUtilizationPercentage is a Resource cpu Utilization metric in v2', () => {
  const v1: StoredObject = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: meta, spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 50 }, status: { currentReplicas: 2, desiredReplicas: 2, currentCPUUtilizationPercentage: 33 } };
  const v2 = def.conversion!.toStorage(v1);
  assert.deepEqual(v2.spec, { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 4, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] });
  assert.deepEqual(v2.status, { currentReplicas: 2, desiredReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 33 } } }] });
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  // And back again, with the current CPU figure also kept whole in an annotation, as upstream does.
  const back = def.conversion!.fromStorage(v2 as StoredObject);
  assert.deepEqual(back.metadata.annotations, { [metricStatusesAnnotation]: '[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":33,"currentAverageValue":"0"}}]' });
  delete back.metadata.annotations;
  assert.deepEqual(back, v1);
});

test('a v1 HPA without a target gets the implicit 80% CPU target', () => {
  const v2 = def.conversion!.toStorage({ metadata: meta, spec: { scaleTargetRef: ref, maxReplicas: 3 } });
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.equal(v2.spec.minReplicas, 1);
});

test('everything v1 cannot say travels in annotations, and round-trips', () => {
  const v2: StoredObject = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...meta, annotations: { keep: 'me' } },
    spec: {
      scaleTargetRef: ref,
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
        { type: 'Pods', pods: { metric: { name: 'qps', selector: { matchLabels: { a: 'b' } } }, target: { type: 'AverageValue', averageValue: '10' } } },
        { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '30' } } },
        { type: 'Object', object: { describedObject: { kind: 'Ingress', name: 'main', apiVersion: 'networking.k8s.io/v1' }, metric: { name: 'rps' }, target: { type: 'Value', value: '2k' } } },
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      ],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] },
        scaleDown: { selectPolicy: 'Min', policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] },
      },
    },
    status: {
      currentReplicas: 3,
      desiredReplicas: 4,
      currentMetrics: [
        { type: 'Resource', resource: { name: 'memory', current: { averageValue: '80Mi' } } },
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 70, averageValue: '350m' } } },
      ],
      conditions: [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'ReadyForNewScale', message: 'ok' }],
    },
  };
  const v1 = hpaV2ToV1(v2);
  assert.deepEqual(v1.spec, { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 10, targetCPUUtilizationPercentage: 60 });
  assert.deepEqual(v1.status, { currentReplicas: 3, desiredReplicas: 4, currentCPUUtilizationPercentage: 70 });
  const ann = v1.metadata.annotations!;
  assert.equal(ann.keep, 'me');
  assert.deepEqual(JSON.parse(ann[metricSpecsAnnotation]!)[0], { type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } });
  assert.equal(
    ann[behaviorAnnotation],
    '{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Pods","Value":4,"PeriodSeconds":15}]},"ScaleDown":{"StabilizationWindowSeconds":null,"SelectPolicy":"Min","Policies":[{"Type":"Percent","Value":10,"PeriodSeconds":60}]}}',
  );
  assert.deepEqual(JSON.parse(ann[metricStatusesAnnotation]!)[1], { type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 70, currentAverageValue: '350m' } });
  assert.deepEqual(JSON.parse(ann[conditionsAnnotation]!), v2.status.conditions);
  const back = hpaV1ToV2(v1);
  // v1 lists the CPU target last; otherwise the same object.
  assert.deepEqual(back, v2);
});

test('validation reports v2 field paths, as upstream validates the internal object', () => {
  const errs = s.validate!({ metadata: meta, spec: { scaleTargetRef: { kind: 'Deployment' }, maxReplicas: 2, minReplicas: 3, targetCPUUtilizationPercentage: 0 } }).map(fieldErrorString);
  assert.deepEqual(errs, [
    'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
    'spec.scaleTargetRef.name: Required value',
    'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
  ]);
});

test('status annotations follow the status the store keeps', () => {
  const old: StoredObject = { metadata: { ...meta, annotations: { [conditionsAnnotation]: '[]' } }, spec: { scaleTargetRef: ref, maxReplicas: 2 } };
  const next: StoredObject = { metadata: { ...meta, annotations: { [metricStatusesAnnotation]: '[{"type":"Pods"}]' } }, spec: { scaleTargetRef: ref, maxReplicas: 3 } };
  s.prepareForUpdate!(next, old);
  assert.deepEqual(next.metadata.annotations, { [conditionsAnnotation]: '[]' });
});

test('printer: the v2 columns, computed through v2', () => {
  const v1: StoredObject = { metadata: { ...meta, annotations: { [metricSpecsAnnotation]: '[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"1Gi"}}]' } }, spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 50 }, status: { currentReplicas: 1, desiredReplicas: 1 } };
  assert.deepEqual(s.table!.row(v1, new Date('2024-01-01T00:00:10Z')), ['web', 'Deployment/web', 'memory: <unknown>/1Gi, cpu: <unknown>/50%', '1', 4, 1, '10s']);
});
