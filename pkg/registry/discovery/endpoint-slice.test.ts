import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { endpointSliceStrategy as s } from './endpoint-slice.js';

const slice = (extra: Record<string, unknown>): StoredObject => ({ metadata: { name: 'web-abc', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' }, ...extra });

function check(obj: StoredObject): string[] {
  s.defaults!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('ports default to TCP with an empty name', () => {
  const o = slice({ addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [] });
  assert.deepEqual(check(o), []);
  assert.deepEqual(o.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
});

test('addressType and endpoints', () => {
  assert.deepEqual(check(slice({})), ['addressType: Required value']);
  assert.deepEqual(check(slice({ addressType: 'IPX' })), ['addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"']);
  const o = slice({ addressType: 'IPv4', endpoints: [{ addresses: [] }, { addresses: ['10.0.0.300', '127.0.0.1', 'fe80::1'] }, { addresses: ['10.1.1.1'], hostname: 'Bad_Host' }] });
  assert.deepEqual(check(o), [
    'endpoints[0].addresses: Required value: must contain at least 1 address',
    'endpoints[1].addresses[0]: Invalid value: "10.0.0.300": must be a valid IPv4 address',
    'endpoints[1].addresses[1]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    'endpoints[1].addresses[2]: Invalid value: "fe80::1": must be a valid IPv4 address',
    `endpoints[2].hostname: Invalid value: "Bad_Host": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  ]);
  assert.deepEqual(check(slice({ addressType: 'FQDN', endpoints: [{ addresses: ['example'] }] })), ['endpoints[0].addresses[0]: Invalid value: "example": should be a domain with at least two segments separated by dots']);
});

test('ports: names unique, protocols known', () => {
  const o = slice({ addressType: 'IPv6', ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81, protocol: 'ICMP' }] });
  assert.deepEqual(check(o), ['ports[1].name: Duplicate value: "http"', 'ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"']);
});

test('addressType is immutable', () => {
  assert.deepEqual(s.validateUpdate!(slice({ addressType: 'IPv6' }), slice({ addressType: 'IPv4' })).map(fieldErrorString), ['addressType: Invalid value: "IPv6": field is immutable']);
});

test('printer: ADDRESSTYPE PORTS ENDPOINTS AGE', () => {
  const now = new Date('2024-01-01T00:01:00Z');
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
  const o = slice({ addressType: 'IPv4', ports: [{ port: 80 }, { port: 443 }, { name: 'x' }, { port: 9 }], endpoints: [{ addresses: ['10.0.0.1', '10.0.0.2'] }, { addresses: ['10.0.0.3', '10.0.0.4', '10.0.0.5'] }] });
  assert.deepEqual(s.table!.row(o, now), ['web-abc', 'IPv4', '80,443,x + 1 more...', '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...', '60s']);
  assert.deepEqual(s.table!.row(slice({ addressType: 'IPv4' }), now).slice(2, 4), ['<unset>', '<unset>']);
});
