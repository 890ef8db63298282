import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClusterState } from './fake-cluster-state.js';
import { NodeAuthorizer } from './node-authorizer.js';
import type { AuthorizationAttributes } from './types.js';

const n1 = { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const at = (verb: string, resource: string, extra: Partial<AuthorizationAttributes> = {}): AuthorizationAttributes => ({ user: n1, verb, isResourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', resource, ...extra });

const state = () =>
  new FakeClusterState()
    .add('', 'pods',
      {
        metadata: { name: 'web', namespace: 'a' },
        spec: {
          nodeName: 'n1',
          serviceAccountName: 'web-sa',
          volumes: [{ name: 's', secret: { secretName: 'tls' } }, { name: 'c', projected: { sources: [{ configMap: { name: 'settings' } }] } }, { name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
          containers: [{ name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }] }],
        },
      },
      { metadata: { name: 'elsewhere', namespace: 'a' }, spec: { nodeName: 'n2', volumes: [{ name: 's', secret: { secretName: 'n2-only' } }], containers: [{ name: 'c' }] } })
    .add('', 'persistentvolumeclaims', { metadata: { name: 'data', namespace: 'a' }, spec: { volumeName: 'pv-1' } });

test('a kubelet reads only what its pods reference', () => {
  const z = new NodeAuthorizer(state());
  assert.equal(z.authorize(at('get', 'secrets', { namespace: 'a', name: 'tls' })).decision, 'allow');
  assert.equal(z.authorize(at('get', 'secrets', { namespace: 'a', name: 'env-secret' })).decision, 'allow');
  assert.equal(z.authorize(at('get', 'configmaps', { namespace: 'a', name: 'settings' })).decision, 'allow');
  assert.equal(z.authorize(at('get', 'persistentvolumeclaims', { namespace: 'a', name: 'data' })).decision, 'allow');
  assert.equal(z.authorize(at('get', 'persistentvolumes', { name: 'pv-1' })).decision, 'allow');
  const denied = z.authorize(at('get', 'secrets', { namespace: 'a', name: 'n2-only' }));
  assert.deepEqual(denied, { decision: 'noOpinion', reason: "no relationship found between node 'n1' and this object" });
  assert.equal(z.authorize(at('list', 'secrets', { namespace: 'a' })).decision, 'noOpinion');
  assert.equal(z.authorize(at('create', 'serviceaccounts', { namespace: 'a', name: 'web-sa', subresource: 'token' })).decision, 'allow');
  assert.equal(z.authorize(at('create', 'serviceaccounts', { namespace: 'a', name: 'default', subresource: 'token' })).decision, 'noOpinion');
});

test('leases: only its own in kube-node-lease; other requests get the system:node rules', () => {
  const z = new NodeAuthorizer(state());
  const lease = (verb: string, name?: string, namespace = 'kube-node-lease') => z.authorize(at(verb, 'leases', { apiGroup: 'coordination.k8s.io', namespace, name })).decision;
  assert.equal(lease('update', 'n1'), 'allow');
  assert.equal(lease('create'), 'allow');
  assert.equal(lease('update', 'n2'), 'noOpinion');
  assert.equal(lease('get', 'n1', 'default'), 'noOpinion');
  assert.equal(z.authorize(at('patch', 'nodes', { name: 'n1', subresource: 'status' })).decision, 'allow');
  assert.equal(z.authorize(at('watch', 'pods')).decision, 'allow');
  assert.equal(z.authorize(at('delete', 'namespaces', { name: 'a' })).decision, 'noOpinion');
  assert.equal(z.authorize({ ...at('get', 'secrets', { namespace: 'a', name: 'tls' }), user: { username: 'system:node:n1', groups: ['system:authenticated'] } }).decision, 'noOpinion', 'not in system:nodes: not a node');
});
