/**
 * The protobuf bodies kubectl 1.33 sends to the authentication and authorization endpoints
 * (SelfSubjectAccessReview, TokenRequest, SelfSubjectReview), against an apiserver that has them:
 * https with client certificates, ServiceAccount tokens and RBAC.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startSecureApiserver, type SecureApiserver } from '../harness/pki.js';
import { kubectl, kubectlOK } from '../harness/kubectl.js';

let etcd: EtcdHandle;
let api: SecureApiserver;
const V = '1.33';
const protobufBody = /Content-Type: application\/vnd\.kubernetes\.protobuf/;

before(async () => {
  etcd = await startEtcd();
  api = await startSecureApiserver(etcd.endpoint);
  await kubectlOK(V, api.adminKubeconfig, ['create', 'namespace', 'pb']);
  await kubectlOK(V, api.adminKubeconfig, ['create', 'serviceaccount', 'sa', '-n', 'pb']);
});

after(async () => {
  await api?.stop();
  await etcd?.stop();
});

test('auth can-i sends a protobuf SelfSubjectAccessReview', async () => {
  const r = await kubectl(V, api.adminKubeconfig, ['auth', 'can-i', 'create', 'pods', '-n', 'pb', '-v=8']);
  assert.equal(r.stdout.trim(), 'yes', r.stderr.slice(-2000));
  assert.match(r.stderr, protobufBody);
});

test('create token sends a protobuf TokenRequest', async () => {
  const r = await kubectl(V, api.adminKubeconfig, ['create', 'token', 'sa', '-n', 'pb', '-v=8']);
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  assert.match(r.stdout, /^ey/);
  assert.match(r.stderr, protobufBody);
});

test('auth whoami sends a protobuf SelfSubjectReview', async () => {
  const r = await kubectl(V, api.adminKubeconfig, ['auth', 'whoami', '-o', 'json', '-v=8']);
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  assert.equal(out.kind, 'SelfSubjectReview');
  assert.equal(out.status.userInfo.username, 'kubernetes-admin');
  assert.match(r.stderr, protobufBody);
});
