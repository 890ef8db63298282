import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { daemonSetStrategy as s, templateGenerationAnnotation } from './daemon-set.js';

function ds(spec: Record<string, unknown> = {}): StoredObject {
  return {
    metadata: { name: 'agent', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { 'kubernetes.io/os': 'linux', disk: 'ssd' }, containers: [{ name: 'a', image: 'busybox' }] } },
      ...spec,
    },
  };
}

function create(obj: StoredObject): string[] {
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('defaults: RollingUpdate maxUnavailable 1 maxSurge 0, history 10, template generation 1', () => {
  const d = ds();
  assert.deepEqual(create(d), []);
  assert.deepEqual(d.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(d.spec.revisionHistoryLimit, 10);
  assert.equal(d.metadata.annotations![templateGenerationAnnotation], '1');
  assert.deepEqual(d.status, { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 });
});

test('a template change is the next template generation', () => {
  const old = ds();
  create(old);
  const same = structuredClone(old);
  same.spec.minReadySeconds = 3;
  s.prepareForUpdate!(same, old);
  assert.equal(same.metadata.annotations![templateGenerationAnnotation], '1');
  const changed = structuredClone(old);
  changed.spec.template.spec.containers[0].image = 'busybox:2';
  changed.metadata.annotations![templateGenerationAnnotation] = '9';
  s.prepareForUpdate!(changed, old);
  assert.equal(changed.metadata.annotations![templateGenerationAnnotation], '2');
});

test('validation messages', () => {
  const d = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '10%' } } });
  d.spec.template.metadata.labels = { app: 'x' };
  assert.deepEqual(create(d), [
    'spec.template.metadata.labels: Invalid value: {"app":"x"}: `selector` does not match template `labels`',
    'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero',
  ]);
  const zero = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } });
  assert.deepEqual(create(zero), ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0']);
  const other = ds({ updateStrategy: { type: 'Sometimes' } });
  assert.deepEqual(create(other), ['spec.updateStrategy: Unsupported value: {"type":"Sometimes"}: supported values: "RollingUpdate", "OnDelete"']);
  assert.deepEqual(s.validateUpdate!(ds({ selector: { matchLabels: { app: 'z' } } }), ds()).map(fieldErrorString), [
    'spec.selector: Invalid value: {"matchLabels":{"app":"z"}}: field is immutable',
  ]);
});

test('printer: DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE and wide columns', () => {
  const d = ds();
  d.status = { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 1, numberAvailable: 2 };
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(s.table!.row(d, new Date('2024-01-01T00:00:30Z')), ['agent', 3, 3, 2, 1, 2, 'disk=ssd,kubernetes.io/os=linux', '30s', 'a', 'busybox', 'app=agent']);
  const none = ds();
  delete none.spec.template.spec.nodeSelector;
  assert.equal(s.table!.row(none, new Date())[6], '<none>');
});
