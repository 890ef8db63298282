import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { eventEventsV1Resource as def, eventEventsV1Strategy as s, eventToCore, eventFromCore } from './event.js';

const meta = { name: 'web.17c', namespace: 'default', uid: 'u', resourceVersion: '7', creationTimestamp: '2024-01-01T00:00:00Z' };

/** An events.k8s.io/v1 Event with every field set. */
const full: StoredObject = {
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: meta,
  eventTime: '2024-01-01T00:00:00.123456Z',
  series: { count: 3, lastObservedTime: '2024-01-01T00:05:00.000000Z' },
  reportingController: 'kubelet',
  reportingInstance: 'kubelet-node-1',
  action: 'Pulling',
  reason: 'BackOff',
  regarding: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'p', apiVersion: 'v1', resourceVersion: '5', fieldPath: 'spec.containers{web}' },
  related: { kind: 'Node', name: 'node-1' },
  note: 'Back-off pulling image',
  type: 'Warning',
  deprecatedSource: { component: 'kubelet', host: 'node-1' },
  deprecatedFirstTimestamp: '2024-01-01T00:00:00Z',
  deprecatedLastTimestamp: '2024-01-01T00:05:00Z',
  deprecatedCount: 3,
};

test('the stored core shape names each field as core/v1 does', () => {
  assert.deepEqual(def.conversion!.toStorage(full), {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: meta,
    involvedObject: full.regarding,
    message: 'Back-off pulling image',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: '2024-01-01T00:00:00Z',
    lastTimestamp: '2024-01-01T00:05:00Z',
    count: 3,
    reportingComponent: 'kubelet',
    eventTime: full.eventTime,
    series: full.series,
    action: 'Pulling',
    related: full.related,
    type: 'Warning',
    reason: 'BackOff',
    reportingInstance: 'kubelet-node-1',
  });
});

test('events.k8s.io → core → events.k8s.io round-trips, and core → events → core too', () => {
  assert.deepEqual(eventFromCore(eventToCore(full) as StoredObject), full);
  const core: StoredObject = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: meta,
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    reason: 'Scheduled',
    message: 'Successfully assigned default/web to node-1',
    source: { component: 'default-scheduler' },
    firstTimestamp: '2024-01-01T00:00:00Z',
    lastTimestamp: '2024-01-01T00:00:00Z',
    count: 1,
    type: 'Normal',
  };
  const asV1 = eventFromCore(core);
  assert.equal(asV1.note, core.message);
  assert.equal(asV1.eventTime, null);
  assert.deepEqual(eventToCore(asV1), core);
});

test('creating through events.k8s.io is strict; paths are the core names', () => {
  assert.deepEqual(s.validate!(full).map(fieldErrorString), [
    'firstTimestamp: Invalid value: "": needs to be unset',
    'lastTimestamp: Invalid value: "": needs to be unset',
    'count: Invalid value: "": needs to be unset',
    'source: Invalid value: "": needs to be unset',
  ]);
  const bare: StoredObject = { metadata: { name: 'e', namespace: 'default' }, regarding: { kind: 'Pod', name: 'web', namespace: 'other' }, type: 'Odd' };
  assert.deepEqual(s.validate!(bare).map(fieldErrorString), [
    'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    'eventTime: Required value',
    'type: Invalid value: "": has invalid value: Odd',
  ]);
  const noReporter: StoredObject = { metadata: { name: 'e', namespace: 'default' }, eventTime: '2024-01-01T00:00:00.000000Z', type: 'Normal', regarding: { namespace: 'default' } };
  const errs = s.validate!(noReporter).map(fieldErrorString);
  assert.equal(errs[0], 'reportingController: Required value');
  assert.deepEqual(errs.slice(-3), ['reportingInstance: Required value', 'action: Required value', 'reason: Required value']);
});

test('what an event recorded cannot change', () => {
  const old = structuredClone(full);
  const next = structuredClone(full);
  next.note = 'other';
  next.eventTime = '2024-01-01T00:00:00.1234569Z';
  assert.deepEqual(s.validateUpdate!(next, old).map(fieldErrorString), ['message: Invalid value: "other": field is immutable']);
});

test('field selectors use events.k8s.io names over the stored core object', () => {
  const fields = s.selectableFields!(eventToCore(full) as StoredObject);
  assert.equal(fields['regarding.name'], 'web');
  assert.equal(fields['regarding.fieldPath'], 'spec.containers{web}');
  assert.equal(fields.reportingController, 'kubelet');
  assert.equal(fields.type, 'Warning');
  assert.equal(fields['involvedObject.name'], undefined);
  assert.deepEqual(s.selectableFields!(full), fields);
});

test('printer: the core Event columns', () => {
  assert.deepEqual(
    s.table!.columns.map((c) => `${c.name}:${c.priority}`),
    ['Last Seen:0', 'Type:0', 'Reason:0', 'Object:0', 'Subobject:1', 'Source:1', 'Message:0', 'First Seen:1', 'Count:1', 'Name:1'],
  );
  const now = new Date('2024-01-01T00:10:00Z');
  assert.deepEqual(s.table!.row(full, now), ['5m', 'Warning', 'BackOff', 'pod/web', 'spec.containers{web}', 'kubelet, node-1', 'Back-off pulling image', '10m', 3, 'web.17c']);
  const single: StoredObject = { metadata: { name: 'x' }, eventTime: '2024-01-01T00:09:00.000000Z', reportingController: 'ctrl', regarding: { kind: 'Node' }, note: ' hi ', type: 'Normal', reason: 'R' };
  assert.deepEqual(s.table!.row(single, now), ['60s', 'Normal', 'R', 'node', '', 'ctrl', 'hi', '60s', 1, 'x']);
});
