import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { roleStrategy, roleResource } from './role.js';
import { clusterRoleStrategy } from './cluster-role.js';

const role = (extra: Record<string, unknown>): StoredObject => ({ metadata: { name: 'r', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' }, ...extra });

test('rules need verbs, and api groups with resources or non-resource URLs', () => {
  assert.deepEqual(roleStrategy.validate!(role({ rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] })), []);
  assert.deepEqual(roleStrategy.validate!(role({ rules: [{ resources: ['pods'] }, { apiGroups: ['apps'], verbs: ['*'] }] })).map(fieldErrorString), [
    'rules[0].verbs: Required value: verbs must contain at least one value',
    'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
    'rules[1].resources: Required value: resource rules must supply at least one resource',
  ]);
  assert.deepEqual(roleStrategy.validate!(role({ rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] })).map(fieldErrorString), [
    'rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs',
  ]);
});

test('cluster roles may use non-resource URLs, not both kinds in one rule; aggregation needs selectors', () => {
  assert.deepEqual(clusterRoleStrategy.validate!(role({ rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] })), []);
  assert.deepEqual(clusterRoleStrategy.validate!(role({ rules: [{ nonResourceURLs: ['/metrics'], resources: ['pods'], verbs: ['get'] }] })).map(fieldErrorString), [
    'rules[0].nonResourceURLs: Invalid value: ["/metrics"]: rules cannot apply to both regular resources and non-resource URLs',
  ]);
  assert.deepEqual(clusterRoleStrategy.validate!(role({ aggregationRule: {} })).map(fieldErrorString), [
    'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
  ]);
});

test('names are path segments', () => {
  const v = roleResource.strategy.nameValidator!;
  assert.deepEqual(v('system:controller:foo'), []);
  assert.deepEqual(v('a/b'), ["may not contain '/'"]);
  assert.deepEqual(v('..'), ["may not be '..'"]);
});

test('printer: NAME and CREATED AT', () => {
  assert.deepEqual(roleStrategy.table!.columns.map((c) => `${c.name}:${c.type}`), ['Name:string', 'Created At:date']);
  assert.deepEqual(clusterRoleStrategy.table!.row(role({}), new Date()), ['r', '2024-01-01T00:00:00Z']);
});
