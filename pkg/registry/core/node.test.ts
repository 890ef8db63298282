import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeStrategy as s, nodeRow } from './node.js';
import { fieldErrorString } from '../../api/field-errors.js';
import type { StoredObject } from '../../api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const node = (fields: Record<string, unknown> = {}, labels: Record<string, string> = {}): StoredObject =>
  ({ metadata: { name: 'node1', labels, creationTimestamp: '2024-04-30T12:00:00Z' }, ...fields }) as StoredObject;

test('nodes keep their status on create; allocatable defaults to capacity; podCIDR mirrors podCIDRs', () => {
  const o = node({ spec: { podCIDR: '10.244.1.0/24' }, status: { capacity: { cpu: '2', memory: '4026532Ki', pods: '110' } } });
  s.defaults!(o);
  s.prepareForCreate!(o);
  assert.deepEqual(s.validate!(o), []);
  assert.deepEqual(o.spec.podCIDRs, ['10.244.1.0/24']);
  assert.deepEqual(o.status.allocatable, { cpu: '2', memory: '4026532Ki', pods: '110' });
  const p = node({ spec: { podCIDRs: ['10.244.2.0/24'] } });
  s.defaults!(p);
  assert.equal(p.spec.podCIDR, '10.244.2.0/24');
});

test('validation and update rules', () => {
  const errs = (o: StoredObject) => s.validate!(o).map(fieldErrorString);
  assert.deepEqual(errs(node({ spec: { taints: [{ key: 'k', effect: 'Sometimes' }] } })), ['metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"']);
  assert.deepEqual(errs(node({ spec: { taints: [{ key: 'k', effect: 'NoSchedule' }, { key: 'k', effect: 'NoSchedule' }] } })), [
    'metadata.taints[1]: Duplicate value: {"key":"k","effect":"NoSchedule"}: taints must be unique by key and effect pair',
  ]);
  assert.deepEqual(errs(node({ status: { capacity: { pods: '1.5' } } })), ['status.capacity.pods: Invalid value: "1500m": must be an integer']);
  assert.deepEqual(errs(node({ spec: { podCIDRs: ['nope'] } })), ['spec.podCIDRs[0]: Invalid value: "nope": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)']);
  const old = node({ spec: { podCIDRs: ['10.244.1.0/24'], providerID: 'p1' } });
  assert.deepEqual(s.validateUpdate!(node({ spec: { podCIDRs: ['10.244.9.0/24'], providerID: 'p2' } }), old).map(fieldErrorString), [
    'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    'spec.providerID: Forbidden: node updates may not change providerID except from "" to valid',
  ]);
  assert.deepEqual(s.validateUpdate!(node({ spec: { podCIDRs: ['10.244.1.0/24'] } }), node()), []);
});

test('field selector', () => {
  assert.deepEqual(s.selectableFields!({ metadata: {} } as StoredObject), { 'spec.unschedulable': 'false' });
  assert.deepEqual(s.selectableFields!(node({ spec: { unschedulable: true } })), { 'spec.unschedulable': 'true' });
});

test('printer: status, roles, version and wide columns', () => {
  const status = {
    conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
    addresses: [{ type: 'InternalIP', address: '192.168.1.10' }, { type: 'Hostname', address: 'node1' }],
    nodeInfo: { kubeletVersion: 'v1.33.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-18-amd64', containerRuntimeVersion: 'containerd://1.7.24' },
  };
  const labels = { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': 'true', 'kubernetes.io/role': 'master' };
  assert.deepEqual(nodeRow(node({ status }, labels), now), [
    'node1',
    'Ready',
    'control-plane,master,worker',
    '24h',
    'v1.33.0',
    '192.168.1.10',
    '<none>',
    'Debian GNU/Linux 12 (bookworm)',
    '6.1.0-18-amd64',
    'containerd://1.7.24',
  ]);
  assert.deepEqual(nodeRow(node({ spec: { unschedulable: true }, status }), now).slice(1, 3), ['Ready,SchedulingDisabled', '<none>']);
  assert.deepEqual(nodeRow(node({ status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }), now)[1], 'NotReady');
  assert.deepEqual(nodeRow(node(), now).slice(1), ['Unknown', '<none>', '24h', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  assert.deepEqual(s.table!.columns.map((c) => c.name), ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime']);
});
