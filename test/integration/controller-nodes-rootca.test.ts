/**
 * The root CA publisher against a real etcd and apiserver: `kube-root-ca.crt` appears in a new
 * namespace and comes back when deleted or changed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigMap } from '../../pkg/api/types.js';
import { resources } from '../../pkg/client/rest.js';
import { createNamespace, startCluster, startControllerManager, waitFor, type Cluster, type RunningControllerManager } from '../../pkg/controller/testutil/integration.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';
let cluster: Cluster;
let kcm: RunningControllerManager;

before(async () => {
  cluster = await startCluster();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-ca-')), 'ca.crt');
  fs.writeFileSync(file, pem);
  kcm = startControllerManager(cluster.kubeconfig, { controllers: ['root-ca-cert-publisher'], rootCAFile: file });
  await kcm.url;
});

after(async () => {
  await kcm?.stop();
  await cluster?.stop();
});

const get = () => cluster.client.get<ConfigMap>(resources.configMaps, 'ca1', 'kube-root-ca.crt');

test('kube-root-ca.crt appears in a new namespace and is restored after a delete or an edit', async () => {
  await createNamespace(cluster.client, 'ca1');
  const cm = await waitFor('kube-root-ca.crt', get);
  assert.deepEqual(cm.data, { 'ca.crt': pem });
  assert.match(cm.metadata!.annotations!['kubernetes.io/description']!, /CA bundle/);

  await cluster.client.update<ConfigMap>(resources.configMaps, { ...cm, data: { 'ca.crt': 'tampered' } });
  await waitFor('restored data', async () => (await get()).data?.['ca.crt'] === pem);

  await cluster.client.delete(resources.configMaps, 'ca1', 'kube-root-ca.crt');
  await waitFor('recreated', async () => (await get()).metadata!.uid !== cm.metadata!.uid);
});
