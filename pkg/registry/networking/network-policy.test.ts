import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { networkPolicyStrategy as s } from './network-policy.js';

const np = (spec: Record<string, unknown>): StoredObject => ({ metadata: { name: 'np', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' }, spec });

function check(obj: StoredObject): string[] {
  s.defaults!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('policyTypes default to Ingress, and Egress too with egress rules; ports to TCP', () => {
  const a = np({ podSelector: {} });
  assert.deepEqual(check(a), []);
  assert.deepEqual(a.spec.policyTypes, ['Ingress']);
  const b = np({ podSelector: {}, egress: [{ ports: [{ port: 53 }] }] });
  assert.deepEqual(check(b), []);
  assert.deepEqual(b.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(b.spec.egress[0].ports[0].protocol, 'TCP');
  const c = np({ podSelector: {}, policyTypes: ['Egress'] });
  check(c);
  assert.deepEqual(c.spec.policyTypes, ['Egress']);
});

test('ports, peers and ipBlocks', () => {
  const o = np({
    podSelector: {},
    ingress: [
      {
        ports: [{ port: 0 }, { port: 'http', endPort: 90 }, { port: 100, endPort: 90 }],
        from: [{}, { ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24', '10.0.1.0/24'] }, podSelector: {} }, { ipBlock: { cidr: 'nope' } }],
      },
    ],
    policyTypes: ['Ingress', 'Sideways'],
  });
  assert.deepEqual(check(o), [
    'spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ingress[0].ports[1].endPort: Invalid value: 90: may not be specified when `port` is non-numeric',
    'spec.ingress[0].ports[2].endPort: Invalid value: 100: must be greater than or equal to `port`',
    'spec.ingress[0].from[0]: Required value: must specify a peer',
    'spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`',
    'spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer',
    'spec.ingress[0].from[2].ipBlock.cidr: Invalid value: "nope": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
  ]);
});

test('printer: POD-SELECTOR and AGE', () => {
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Pod-Selector', 'Age']);
  const now = new Date('2024-01-01T00:00:09Z');
  assert.deepEqual(s.table!.row(np({ podSelector: { matchLabels: { app: 'web' } } }), now), ['np', 'app=web', '9s']);
  assert.deepEqual(s.table!.row(np({ podSelector: {} }), now), ['np', '<none>', '9s']);
});
