import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointsStrategy as s } from './endpoints.js';
import { serviceAccountStrategy as sa } from './service-account.js';
import { fieldErrorString } from '../../api/field-errors.js';
import type { StoredObject } from '../../api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ep = (subsets: unknown): StoredObject => ({ metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' }, subsets }) as StoredObject;

test('endpoints defaults and validation', () => {
  const o = ep([{ addresses: [{ ip: '10.1.0.5' }], ports: [{ port: 8080 }] }]);
  s.defaults!(o);
  assert.equal(o.subsets[0].ports[0].protocol, 'TCP');
  assert.deepEqual(s.validate!(o), []);
  assert.deepEqual(s.validate!(ep([{ ports: [{ port: 80, protocol: 'TCP' }] }])).map(fieldErrorString), ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`']);
  assert.deepEqual(s.validate!(ep([{ addresses: [{ ip: '127.0.0.1' }] }])).map(fieldErrorString), ['subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']);
  assert.deepEqual(
    s.validate!(ep([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80, protocol: 'TCP' }, { port: 81, protocol: 'TCP' }] }])).map(fieldErrorString),
    ['subsets[0].ports[0].name: Required value', 'subsets[0].ports[1].name: Required value'],
  );
});

test('endpoints printer', () => {
  assert.deepEqual(s.table!.row(ep(undefined), now), ['web', '<none>', '60m']);
  const many = ep([
    { addresses: [{ ip: '10.1.0.5' }, { ip: '10.1.0.6' }], ports: [{ port: 80 }] },
    { addresses: [{ ip: 'fd00::1' }, { ip: '10.1.0.7' }], ports: [{ port: 80 }] },
  ]);
  assert.equal(s.table!.row(many, now)[1], '10.1.0.5:80,10.1.0.6:80,[fd00::1]:80 + 1 more...');
  assert.equal(s.table!.row(ep([{ addresses: [{ ip: '10.1.0.5' }] }]), now)[1], '10.1.0.5');
});

test('service accounts keep secret names only; printer counts them', () => {
  const o = { metadata: { name: 'default', creationTimestamp: '2024-05-01T11:59:50Z' }, secrets: [{ name: 'tok', namespace: 'x', uid: 'u' }] } as StoredObject;
  sa.prepareForCreate!(o);
  assert.deepEqual(o.secrets, [{ name: 'tok' }]);
  assert.deepEqual(sa.table!.row(o, now), ['default', 1, '10s']);
});
