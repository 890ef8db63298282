import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventStrategy as s, eventRow } from './event.js';
import { fieldErrorString } from '../../api/field-errors.js';
import type { StoredObject } from '../../api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ev = (fields: Record<string, unknown>, ns = 'default'): StoredObject => ({ metadata: { name: 'web.17a', namespace: ns }, ...fields }) as StoredObject;

test('involvedObject namespace must match', () => {
  const errs = (o: StoredObject) => s.validate!(o).map(fieldErrorString);
  assert.deepEqual(errs(ev({ involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' } })), []);
  assert.deepEqual(errs(ev({ involvedObject: { kind: 'Node', name: 'n' } })), []);
  assert.deepEqual(errs(ev({ involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' } })), ['involvedObject.namespace: Invalid value: "other": does not match event.namespace']);
  assert.deepEqual(errs(ev({ involvedObject: { kind: 'Node', name: 'n' } }, 'kube-system')), ['involvedObject.namespace: Invalid value: "": does not match event.namespace']);
  const modern = errs(ev({ eventTime: '2024-05-01T11:00:00.000000Z', involvedObject: { kind: 'Pod', namespace: 'default' } }));
  // As upstream, an empty reportingController is both missing and not a qualified name.
  assert.equal(modern[0], 'reportingController: Required value');
  assert.ok(modern.includes('reportingController: Invalid value: "": name part must be non-empty'));
  assert.deepEqual(modern.slice(-3), ['reportingInstance: Required value', 'action: Required value', 'reason: Required value']);
});

test('selectable fields', () => {
  const f = s.selectableFields!(ev({ involvedObject: { kind: 'Pod', name: 'p', uid: 'u1' }, reason: 'Started', type: 'Normal', reportingComponent: 'kubelet' }));
  assert.deepEqual(Object.keys(s.selectableFields!({ metadata: {} } as StoredObject)).sort(), [
    'involvedObject.apiVersion',
    'involvedObject.fieldPath',
    'involvedObject.kind',
    'involvedObject.name',
    'involvedObject.namespace',
    'involvedObject.resourceVersion',
    'involvedObject.uid',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ]);
  assert.equal(f['involvedObject.kind'], 'Pod');
  assert.equal(f.source, 'kubelet');
});

test('printer: columns and rows as upstream prints events', () => {
  assert.deepEqual(s.table!.columns.map((c) => `${c.name}/${c.priority}`), [
    'Last Seen/0',
    'Type/0',
    'Reason/0',
    'Object/0',
    'Subobject/1',
    'Source/1',
    'Message/0',
    'First Seen/1',
    'Count/1',
    'Name/1',
  ]);
  const legacy = ev({
    involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{web}' },
    reason: 'Pulled',
    message: 'Successfully pulled image  \n',
    type: 'Normal',
    source: { component: 'kubelet', host: 'node1' },
    firstTimestamp: '2024-05-01T11:50:00Z',
    lastTimestamp: '2024-05-01T11:58:00Z',
    count: 3,
  });
  assert.deepEqual(eventRow(legacy, now), ['2m', 'Normal', 'Pulled', 'pod/web-1', 'spec.containers{web}', 'kubelet, node1', 'Successfully pulled image', '10m', 3, 'web.17a']);
  const modern = ev({
    involvedObject: { kind: 'Node', name: 'n1' },
    reason: 'Starting',
    type: 'Warning',
    eventTime: '2024-05-01T11:59:30.000000Z',
    reportingComponent: 'kube-proxy',
    reportingInstance: 'kube-proxy-n1',
  });
  assert.deepEqual(eventRow(modern, now), ['30s', 'Warning', 'Starting', 'node/n1', '', 'kube-proxy, kube-proxy-n1', '', '30s', 1, 'web.17a']);
  const series = ev({ involvedObject: { kind: 'Pod' }, eventTime: '2024-05-01T11:00:00.000000Z', series: { count: 7, lastObservedTime: '2024-05-01T11:59:00.000000Z' } });
  assert.deepEqual([eventRow(series, now)[0], eventRow(series, now)[3], eventRow(series, now)[8]], ['60s', 'pod', 7]);
});
