/**
 * `--use-service-account-credentials` against an apiserver with x509, ServiceAccount tokens and
 * RBAC: the manager (system:kube-controller-manager) creates each controller's ServiceAccount in
 * kube-system, and the controllers act under it within their bootstrap ClusterRoles.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { ConfigMap, ReplicaSet, ServiceAccount } from '../../pkg/api/types.js';
import { RestClient, resources } from '../../pkg/client/rest.js';
import { kubeConfigFromString } from '../../pkg/client/kubeconfig.js';
import { RealClock } from '../../pkg/controller/framework/clock.js';
import { newLogger } from '../../pkg/log/logger.js';
import { serviceAccountClient } from '../../pkg/controller-manager/service-account-credentials.js';
import { createNamespace, listPods, podTemplate, startControllerManager, waitFor, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startSecureApiserver, type SecureApiserver } from '../harness/pki.js';

let etcd: EtcdHandle;
let api: SecureApiserver;
let admin: RestClient;
let kcm: RunningControllerManager;

before(async () => {
  etcd = await startEtcd();
  api = await startSecureApiserver(etcd.endpoint);
  admin = new RestClient(kubeConfigFromString(fs.readFileSync(api.adminKubeconfig, 'utf8')), 'integration-test');
  kcm = startControllerManager(api.pki.controllerManagerKubeconfig, { controllers: ['replicaset', 'serviceaccount', 'root-ca-cert-publisher'], useServiceAccountCredentials: true, logLevel: (process.env.KCM_LOG as 'info') ?? 'silent' });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await admin?.close();
  await api?.stop();
  await etcd?.stop();
});

test('controllers run as their own ServiceAccounts and can do their work under RBAC', async () => {
  await createNamespace(admin, 'sa1');
  await admin.create<ReplicaSet>(resources.replicaSets, 'sa1', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
  await waitFor('2 pods from the replicaset controller', async () => (await listPods(admin, 'sa1')).length === 2);
  // The CA the manager trusts the apiserver with, published by root-ca-cert-publisher.
  const cm = await waitFor('kube-root-ca.crt', () => admin.get<ConfigMap>(resources.configMaps, 'sa1', 'kube-root-ca.crt'));
  assert.equal(cm.data!['ca.crt'], fs.readFileSync(api.pki.caCert, 'utf8'));
  for (const sa of ['replicaset-controller', 'service-account-controller', 'root-ca-cert-publisher']) await admin.get<ServiceAccount>(resources.serviceAccounts, 'kube-system', sa);
});

test('the controller client authenticates with a TokenRequest token as system:serviceaccount:kube-system:<name>', async () => {
  const manager = new RestClient(kubeConfigFromString(fs.readFileSync(api.pki.controllerManagerKubeconfig, 'utf8')), 'integration-test');
  const { client } = serviceAccountClient(manager, 'endpoint-controller', new RealClock(), newLogger('test', 'silent'));
  try {
    const review = await client.request<{ status: { userInfo: { username: string; groups: string[] } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    assert.equal(review.status.userInfo.username, 'system:serviceaccount:kube-system:endpoint-controller');
    assert.ok(review.status.userInfo.groups.includes('system:serviceaccounts:kube-system'));
    // system:controller:endpoint-controller may not delete namespaces.
    await assert.rejects(client.delete(resources.namespaces, undefined, 'sa1'), (e: { code?: number }) => e.code === 403);
  } finally {
    await client.close();
    await manager.close();
  }
});
