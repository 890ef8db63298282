import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { jobStrategy as s } from './job.js';

const uid = '0b6f6a9c-1c6e-4d33-9f59-0c6ff2f3a001';

function job(spec: Record<string, unknown> = {}, labels?: Record<string, string>): StoredObject {
  return {
    metadata: { name: 'pi', namespace: 'default', uid, creationTimestamp: '2024-01-01T00:00:00Z', ...(labels ? { labels } : {}) },
    spec: { template: { metadata: { labels: { app: 'pi' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } }, ...spec },
  };
}

function create(obj: StoredObject): string[] {
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('defaults as batch/v1: completions/parallelism 1, backoffLimit 6, NonIndexed, not suspended', () => {
  const j = job();
  assert.deepEqual(create(j), []);
  const { completions, parallelism, backoffLimit, completionMode, suspend, podReplacementPolicy, manualSelector } = j.spec;
  assert.deepEqual(
    { completions, parallelism, backoffLimit, completionMode, suspend, podReplacementPolicy, manualSelector },
    { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed', manualSelector: false },
  );
  // Only parallelism set: completions stays unset.
  const p = job({ parallelism: 3 });
  create(p);
  assert.equal(p.spec.completions, undefined);
  const withPolicy = job({ podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] } });
  assert.deepEqual(create(withPolicy), []);
  assert.equal(withPolicy.spec.podReplacementPolicy, 'Failed');
  assert.equal(withPolicy.spec.podFailurePolicy.rules[0].onPodConditions[0].status, 'True');
});

test('the generated selector and labels, copied to a Job without labels of its own', () => {
  const j = job();
  create(j);
  const generated = {
    app: 'pi',
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': 'pi',
    'controller-uid': uid,
    'job-name': 'pi',
  };
  assert.deepEqual(j.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
  assert.deepEqual(j.spec.template.metadata.labels, generated);
  assert.deepEqual(j.metadata.labels, generated);
  assert.deepEqual(j.status, {});
  // A Job with labels keeps them.
  const own = job({}, { team: 'a' });
  create(own);
  assert.deepEqual(own.metadata.labels, { team: 'a' });
});

test('restartPolicy must be OnFailure or Never', () => {
  const j = job();
  delete j.spec.template.spec.restartPolicy;
  assert.deepEqual(create(j), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);
  const always = job();
  always.spec.template.spec.restartPolicy = 'Always';
  assert.deepEqual(create(always), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);
});

test('manual selectors: must match the template; generated labels must be right', () => {
  const manual = job({ manualSelector: true, selector: { matchLabels: { app: 'other' } } });
  assert.deepEqual(create(manual), ['spec.template.metadata.labels: Invalid value: {"app":"pi"}: `selector` does not match template `labels`']);
  const wrong = job();
  wrong.spec.template.metadata.labels['controller-uid'] = 'someone-else';
  const errs = create(wrong);
  assert.equal(errs.length, 1);
  assert.match(errs[0]!, /^spec\.template\.metadata\.labels\[controller-uid\]: Invalid value: \{.*\}: 0b6f6a9c/);
});

test('negative counts and indexed jobs', () => {
  assert.deepEqual(create(job({ backoffLimit: -1, parallelism: -2 })), [
    'spec.parallelism: Invalid value: -2: must be greater than or equal to 0',
    'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0',
  ]);
  assert.deepEqual(create(job({ completionMode: 'Indexed', parallelism: 2 })), ['spec.completions: Required value: when completion mode is Indexed']);
  assert.deepEqual(create(job({ completionMode: 'Sometimes' })), ['spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"']);
});

test('updates: template, selector and completions are immutable; a suspended job may move', () => {
  const old = job();
  create(old);
  const next = structuredClone(old);
  next.spec.template.spec.containers[0].image = 'perl:2';
  next.spec.completions = 4;
  const errs = s.validateUpdate!(next, old).map(fieldErrorString);
  assert.equal(errs.length, 2);
  assert.equal(errs[0], 'spec.completions: Invalid value: 4: field is immutable');
  assert.match(errs[1]!, /^spec\.template: Invalid value: .*: field is immutable$/);
  const suspended = job({ suspend: true });
  create(suspended);
  const moved = structuredClone(suspended);
  moved.spec.template.spec.nodeSelector = { zone: 'b' };
  assert.deepEqual(s.validateUpdate!(moved, suspended), []);
});

test('status.successful is selectable', () => {
  const j = job();
  j.status = { succeeded: 2 };
  assert.deepEqual(s.selectableFields!(j), { 'status.successful': '2' });
  assert.deepEqual(s.selectableFields!(job()), { 'status.successful': '0' });
});

test('printer: STATUS, COMPLETIONS, DURATION, AGE and wide columns', () => {
  const now = new Date('2024-01-01T00:10:00Z');
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector']);
  const j = job();
  create(j);
  assert.deepEqual(s.table!.row(j, now), ['pi', 'Running', '0/1', '', '10m', 'pi', 'perl', `batch.kubernetes.io/controller-uid=${uid}`]);
  j.status = { succeeded: 1, startTime: '2024-01-01T00:01:00Z', completionTime: '2024-01-01T00:01:42Z', conditions: [{ type: 'Complete', status: 'True' }] };
  assert.deepEqual(s.table!.row(j, now).slice(1, 4), ['Complete', '1/1', '42s']);
  j.status = { startTime: '2024-01-01T00:05:00Z', conditions: [{ type: 'Suspended', status: 'True' }] };
  assert.deepEqual(s.table!.row(j, now).slice(1, 4), ['Suspended', '0/1', '5m']);
  j.status.conditions = [{ type: 'Failed', status: 'True' }];
  assert.equal(s.table!.row(j, now)[1], 'Failed');
  const par = job({ parallelism: 3 });
  create(par);
  assert.equal(s.table!.row(par, now)[2], '0/1 of 3');
});
