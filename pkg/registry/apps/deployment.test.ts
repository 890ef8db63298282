import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { deploymentStrategy as s } from './deployment.js';

const now = new Date('2024-01-01T00:10:00Z');

function deployment(spec: Record<string, unknown> = {}): StoredObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'side', image: 'busybox' }] } },
      ...spec,
    },
  };
}

/** What the store does on create: defaults, prepareForCreate, validate. */
function create(obj: StoredObject): string[] {
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('defaults: replicas, RollingUpdate 25%/25%, history and progress deadline', () => {
  const d = deployment();
  assert.deepEqual(create(d), []);
  assert.equal(d.spec.replicas, 1);
  assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(d.spec.revisionHistoryLimit, 10);
  assert.equal(d.spec.progressDeadlineSeconds, 600);
  assert.deepEqual(d.status, {});
});

test('a Recreate strategy gets no rolling update parameters', () => {
  const d = deployment({ strategy: { type: 'Recreate' } });
  assert.deepEqual(create(d), []);
  assert.deepEqual(d.spec.strategy, { type: 'Recreate' });
});

test('validation messages carry upstream field paths', () => {
  const d = deployment({ replicas: -1, strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } }, minReadySeconds: 700 });
  d.spec.template.metadata.labels = { app: 'other' };
  assert.deepEqual(create(d), [
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    'spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`',
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0',
    'spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds',
  ]);
});

test('selector: required, not empty, well formed', () => {
  assert.deepEqual(create(deployment({ selector: undefined })), ['spec.selector: Required value']);
  assert.deepEqual(create(deployment({ selector: {} })), ['spec.selector: Invalid value: {}: empty selector is invalid for deployment']);
  const bad = create(deployment({ selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In' }] } }));
  assert.deepEqual(bad, [
    "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    'spec.selector: Invalid value: {"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In"}]}: invalid label selector',
  ]);
});

test('rolling update percentages and restart policy', () => {
  const errs = create(deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '2x', maxUnavailable: '150%' } } }));
  assert.deepEqual(errs, [
    `spec.strategy.rollingUpdate.maxSurge: Invalid value: "2x": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`,
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
  ]);
  const d = deployment();
  d.spec.template.spec.restartPolicy = 'Never';
  assert.ok(create(d).includes('spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'));
});

test('the selector is immutable on update; annotations bump the generation', () => {
  const old = deployment();
  create(old);
  old.metadata.generation = 4;
  const next = deployment({ selector: { matchLabels: { app: 'web', x: 'y' } } });
  assert.deepEqual(s.validateUpdate!(next, old).map(fieldErrorString), ['spec.selector: Invalid value: {"matchLabels":{"app":"web","x":"y"}}: field is immutable']);
  const annotated = deployment();
  create(annotated);
  annotated.metadata.generation = 4;
  annotated.metadata.annotations = { a: 'b' };
  s.prepareForUpdate!(annotated, old);
  assert.equal(annotated.metadata.generation, 5);
});

test('status updates: counts cannot exceed replicas, collisionCount not decremented', () => {
  const old = deployment();
  old.status = { collisionCount: 2 };
  const next = deployment();
  next.status = { replicas: 1, readyReplicas: 2, availableReplicas: 1, collisionCount: 1 };
  assert.deepEqual(s.validateStatusUpdate!(next, old).map(fieldErrorString), [
    'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
    'status.collisionCount: Invalid value: 1: cannot be decremented',
  ]);
});

test('printer: READY ready/desired, UP-TO-DATE, AVAILABLE, AGE, and the wide columns', () => {
  const d = deployment({ replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['z', 'a'] }] } });
  d.status = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 };
  assert.deepEqual(
    s.table!.columns.map((c) => [c.name, c.priority]),
    [['Name', 0], ['Ready', 0], ['Up-to-date', 0], ['Available', 0], ['Age', 0], ['Containers', 1], ['Images', 1], ['Selector', 1]],
  );
  assert.deepEqual(s.table!.row(d, now), ['web', '2/3', 3, 2, '10m', 'nginx,side', 'nginx:1.25,busybox', 'app=web,tier notin (a,z)']);
});
