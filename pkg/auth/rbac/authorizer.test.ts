import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClusterState } from '../fake-cluster-state.js';
import { RBACAuthorizer } from './authorizer.js';
import { aggregatedRules } from './bootstrap.js';
import { bootstrapClusterRoles } from './bootstrap-policy.js';
import { uncovered } from './escalation.js';
import type { AuthorizationAttributes, UserInfo } from '../types.js';
import type { StoredObject } from '../../api/types.js';

const G = 'rbac.authorization.k8s.io';
const alice: UserInfo = { username: 'alice', groups: ['devs', 'system:authenticated'] };
const sa: UserInfo = { username: 'system:serviceaccount:a:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated'] };

function attrs(user: UserInfo, verb: string, resource: string, extra: Partial<AuthorizationAttributes> = {}): AuthorizationAttributes {
  return { user, verb, isResourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', resource, ...extra };
}

function state() {
  return new FakeClusterState()
    .add(G, 'clusterroles',
      { metadata: { name: 'pod-reader' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] }] },
      { metadata: { name: 'one-cm' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'] }] },
      { metadata: { name: 'status-all' }, rules: [{ verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] }] },
      { metadata: { name: 'metrics' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/metrics', '/debug/*'] }] })
    .add(G, 'roles', { metadata: { name: 'deployer', namespace: 'a' }, rules: [{ verbs: ['*'], apiGroups: ['apps'], resources: ['deployments'] }] })
    .add(G, 'clusterrolebindings',
      { metadata: { name: 'devs-metrics' }, roleRef: { kind: 'ClusterRole', name: 'metrics' }, subjects: [{ kind: 'Group', name: 'devs' }] },
      { metadata: { name: 'alice-status' }, roleRef: { kind: 'ClusterRole', name: 'status-all' }, subjects: [{ kind: 'User', name: 'alice' }] })
    .add(G, 'rolebindings',
      { metadata: { name: 'alice-pods', namespace: 'a' }, roleRef: { kind: 'ClusterRole', name: 'pod-reader' }, subjects: [{ kind: 'User', name: 'alice' }] },
      { metadata: { name: 'bot-deployer', namespace: 'a' }, roleRef: { kind: 'Role', name: 'deployer' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] },
      { metadata: { name: 'bot-cm', namespace: 'a' }, roleRef: { kind: 'ClusterRole', name: 'one-cm' }, subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'a' }] });
}

test('RoleBindings grant in their namespace only; ClusterRoleBindings everywhere', () => {
  const z = new RBACAuthorizer(state());
  assert.equal(z.authorize(attrs(alice, 'list', 'pods', { namespace: 'a' })).decision, 'allow');
  assert.equal(z.authorize(attrs(alice, 'list', 'pods', { namespace: 'b' })).decision, 'noOpinion');
  assert.equal(z.authorize(attrs(alice, 'delete', 'pods', { namespace: 'a', name: 'x' })).decision, 'noOpinion');
  assert.equal(z.authorize(attrs(alice, 'get', 'pods', { namespace: 'a', name: 'x', subresource: 'log' })).decision, 'allow');
  assert.equal(z.authorize(attrs(alice, 'get', 'pods', { namespace: 'a', name: 'x', subresource: 'exec' })).decision, 'noOpinion');
  // */status in any group, cluster-wide.
  assert.equal(z.authorize(attrs(alice, 'update', 'deployments', { apiGroup: 'apps', namespace: 'q', name: 'd', subresource: 'status' })).decision, 'allow');
  assert.equal(z.authorize(attrs(alice, 'update', 'deployments', { apiGroup: 'apps', namespace: 'q', name: 'd' })).decision, 'noOpinion');
});

test('ServiceAccount subjects, Roles, verbs and resourceNames', () => {
  const z = new RBACAuthorizer(state());
  assert.equal(z.authorize(attrs(sa, 'patch', 'deployments', { apiGroup: 'apps', namespace: 'a', name: 'web' })).decision, 'allow');
  assert.equal(z.authorize(attrs(sa, 'patch', 'deployments', { apiGroup: 'extensions', namespace: 'a', name: 'web' })).decision, 'noOpinion');
  assert.equal(z.authorize(attrs(sa, 'get', 'configmaps', { namespace: 'a', name: 'app-config' })).decision, 'allow');
  assert.equal(z.authorize(attrs(sa, 'get', 'configmaps', { namespace: 'a', name: 'other' })).decision, 'noOpinion');
  assert.equal(z.authorize(attrs(sa, 'list', 'configmaps', { namespace: 'a' })).decision, 'noOpinion', 'a resourceNames rule never allows a list');
});

test('nonResourceURLs: exact paths and prefixes', () => {
  const z = new RBACAuthorizer(state());
  const nr = (path: string) => ({ user: alice, verb: 'get', isResourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '' });
  assert.equal(z.authorize(nr('/metrics')).decision, 'allow');
  assert.equal(z.authorize(nr('/debug/pprof/heap')).decision, 'allow');
  assert.equal(z.authorize(nr('/metricsx')).decision, 'noOpinion');
});

test('a namespace object is in its own namespace', () => {
  const s = state().add(G, 'roles', { metadata: { name: 'ns-read', namespace: 'a' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['namespaces'] }] });
  s.add(G, 'rolebindings', { metadata: { name: 'alice-ns', namespace: 'a' }, roleRef: { kind: 'Role', name: 'ns-read' }, subjects: [{ kind: 'User', name: 'alice' }] });
  const z = new RBACAuthorizer(s);
  assert.equal(z.authorize(attrs(alice, 'get', 'namespaces', { name: 'a' })).decision, 'allow');
  assert.equal(z.authorize(attrs(alice, 'get', 'namespaces', { name: 'b' })).decision, 'noOpinion');
});

test('the index follows changes', () => {
  const s = state();
  const z = new RBACAuthorizer(s);
  assert.equal(z.authorize(attrs(alice, 'list', 'pods', { namespace: 'a' })).decision, 'allow');
  s.remove(G, 'rolebindings', 'a', 'alice-pods');
  assert.equal(z.authorize(attrs(alice, 'list', 'pods', { namespace: 'a' })).decision, 'noOpinion');
});

test('aggregation: view gathers system:aggregate-to-view, edit includes view, admin includes edit', () => {
  const roles: StoredObject[] = bootstrapClusterRoles().map((r) => ({ ...r, metadata: r.metadata! }));
  const byName = (n: string) => roles.find((r) => r.metadata.name === n)!;
  const view = aggregatedRules(byName('view'), roles);
  assert.ok(view.some((r) => r.resources?.includes('pods') && r.verbs.includes('list')));
  assert.ok(!view.some((r) => r.resources?.includes('secrets')), 'view never reads secrets');
  byName('view').rules = view;
  const edit = aggregatedRules(byName('edit'), roles);
  assert.ok(edit.some((r) => r.resources?.includes('secrets') && r.verbs.includes('create')));
  assert.ok(edit.some((r) => r.resources?.includes('pods') && r.verbs.includes('list')), 'edit carries view');
});

test('escalation check: only rules the user holds are covered', () => {
  const owner = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }, { verbs: ['*'], apiGroups: ['apps'], resources: ['deployments'] }];
  assert.deepEqual(uncovered(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]), []);
  assert.deepEqual(uncovered(owner, [{ verbs: ['delete'], apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['x'] }]), []);
  assert.equal(uncovered(owner, [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }]).length, 1);
  assert.equal(uncovered(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods', 'secrets'] }]).length, 1);
  assert.equal(uncovered(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }]).length, 1);
});
