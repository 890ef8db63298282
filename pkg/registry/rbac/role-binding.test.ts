import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { roleBindingStrategy as rb } from './role-binding.js';
import { clusterRoleBindingStrategy as crb } from './cluster-role-binding.js';

const binding = (extra: Record<string, unknown>): StoredObject => ({ metadata: { name: 'b', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' }, ...extra });

function check(s: typeof rb, obj: StoredObject): string[] {
  s.defaults!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('defaults: the roleRef and User/Group subjects get the RBAC group, ServiceAccounts the core one', () => {
  const b = binding({ roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'default', namespace: 'default' }, { kind: 'Group', name: 'devs' }] });
  assert.deepEqual(check(rb, b), []);
  assert.equal(b.roleRef.apiGroup, 'rbac.authorization.k8s.io');
  assert.deepEqual(b.subjects.map((s: any) => s.apiGroup), ['rbac.authorization.k8s.io', '', 'rbac.authorization.k8s.io']);
});

test('roleRef and subjects', () => {
  assert.deepEqual(check(rb, binding({ roleRef: { kind: 'Pod', name: 'a/b', apiGroup: 'apps' }, subjects: [{ kind: 'Robot', name: '' }] })), [
    'roleRef.apiGroup: Unsupported value: "apps": supported values: "rbac.authorization.k8s.io"',
    'roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"',
    "roleRef.name: Invalid value: \"a/b\": may not contain '/'",
    'subjects[0].name: Required value',
    'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
  ]);
  assert.deepEqual(check(crb, binding({ roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] })), [
    'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    'subjects[0].namespace: Required value',
  ]);
  assert.deepEqual(check(rb, binding({ roleRef: { kind: 'Role' } })), ['roleRef.name: Required value']);
});

test('roleRef cannot change', () => {
  const old = binding({ roleRef: { kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' } });
  const next = binding({ roleRef: { kind: 'Role', name: 's', apiGroup: 'rbac.authorization.k8s.io' } });
  assert.deepEqual(rb.validateUpdate!(next, old).map(fieldErrorString), ['roleRef: Invalid value: {"kind":"Role","name":"s","apiGroup":"rbac.authorization.k8s.io"}: cannot change roleRef']);
  assert.deepEqual(crb.validateUpdate!(old, structuredClone(old)), []);
});

test('printer: ROLE, AGE, wide USERS GROUPS SERVICEACCOUNTS', () => {
  const b = binding({
    roleRef: { kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', name: 'alice' }, { kind: 'User', name: 'bob' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }],
  });
  assert.deepEqual(rb.table!.columns.map((c) => `${c.name}:${c.priority}`), ['Name:0', 'Role:0', 'Age:0', 'Users:1', 'Groups:1', 'ServiceAccounts:1']);
  assert.deepEqual(crb.table!.row(b, new Date('2024-01-01T00:02:00Z')), ['b', 'ClusterRole/view', '2m', 'alice, bob', 'devs', 'ns/sa']);
});
