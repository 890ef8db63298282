/**
 * The kubelet's authentication beyond client certificates, as a kubeadm kubelet runs
 * (--anonymous-auth=false, --authentication-token-webhook, --authorization-mode=Webhook): a
 * ServiceAccount token is checked with a TokenReview through the node's own credentials and then
 * authorized by RBAC on nodes/metrics and nodes/proxy; a bad token and no credentials are 401.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startSecureApiserver, type SecureApiserver } from '../harness/pki.js';
import { kubectl, kubectlOK } from '../harness/kubectl.js';
import { nodeTestsSupported, startNodeRuntime, type NodeRuntime } from '../harness/containerd.js';
import { kubeletConfigFor, nodeNameFor, startKubelet, type KubeletHandle } from '../harness/kubelet.js';

const V = '1.33';
const support = nodeTestsSupported();

let etcd: EtcdHandle;
let api: SecureApiserver;
let node: NodeRuntime;
let kubelet: KubeletHandle;
let ca: string;

function kubeletGet(path: string, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${kubelet.url}${path}`, { ca, headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kubelet token authentication', { skip: support.ok ? false : support.why }, () => {
  before(async () => {
    etcd = await startEtcd();
    const nodeName = nodeNameFor('e2e-ktok');
    api = await startSecureApiserver(etcd.endpoint, { nodes: [{ name: nodeName, addresses: ['127.0.0.1'] }] });
    ca = fs.readFileSync(api.pki.caCert, 'utf8');
    node = await startNodeRuntime({ name: 'ktok' });
    const kl = api.pki.kubelets[nodeName]!;
    kubelet = await startKubelet(
      kubeletConfigFor(node, kl.kubeconfig, nodeName, {
        tlsCertFile: kl.servingCert,
        tlsPrivateKeyFile: kl.servingKey,
        clientCAFile: api.pki.caCert,
        authorizationMode: 'Webhook',
        anonymousAuth: false,
        authenticationTokenWebhook: true,
      }),
    );
  });

  after(async () => {
    await kubelet?.stop().catch(() => undefined);
    await node?.stop();
    await api?.stop();
    await etcd?.stop();
  });

  test('a ServiceAccount token is reviewed by the apiserver and authorized by RBAC; bad or no credentials are 401', async () => {
    const admin = api.adminKubeconfig;
    await kubectlOK(V, admin, ['create', 'serviceaccount', 'scraper', '-n', 'default']);
    await kubectlOK(V, admin, ['create', 'clusterrole', 'node-metrics-reader', '--verb=get', '--resource=nodes/metrics']);
    await kubectlOK(V, admin, ['create', 'clusterrolebinding', 'scraper-metrics', '--clusterrole=node-metrics-reader', '--serviceaccount=default:scraper']);
    await kubectlOK(V, admin, ['create', 'serviceaccount', 'prober', '-n', 'default']);
    await kubectlOK(V, admin, ['create', 'clusterrole', 'node-proxy', '--verb=get', '--resource=nodes/proxy']);
    await kubectlOK(V, admin, ['create', 'clusterrolebinding', 'prober-proxy', '--clusterrole=node-proxy', '--serviceaccount=default:prober']);
    try {
      const scraper = (await kubectlOK(V, admin, ['create', 'token', 'scraper', '-n', 'default'])).trim();
      const prober = (await kubectlOK(V, admin, ['create', 'token', 'prober', '-n', 'default'])).trim();

      const metrics = await kubeletGet('/metrics', scraper);
      assert.equal(metrics.status, 200, metrics.text);
      assert.match(metrics.text, /^# (HELP|TYPE) /m);
      const podsDenied = await kubeletGet('/pods', scraper);
      assert.equal(podsDenied.status, 403);
      assert.equal(podsDenied.text, 'Forbidden (user=system:serviceaccount:default:scraper, verb=get, resource=nodes, subresource=proxy)');

      const pods = await kubeletGet('/pods', prober);
      assert.equal(pods.status, 200, pods.text);
      assert.equal(JSON.parse(pods.text).kind, 'PodList');

      assert.equal((await kubeletGet('/pods', `${prober}x`)).status, 401);
      assert.equal((await kubeletGet('/pods', 'not-a-token')).status, 401);
      assert.equal((await kubeletGet('/pods')).status, 401, 'anonymous requests are refused with --anonymous-auth=false');
      assert.equal((await kubeletGet('/healthz')).status, 200);
    } finally {
      await kubectl(V, admin, ['delete', 'clusterrolebinding', 'scraper-metrics', 'prober-proxy']);
      await kubectl(V, admin, ['delete', 'clusterrole', 'node-metrics-reader', 'node-proxy']);
      await kubectl(V, admin, ['delete', 'serviceaccount', 'scraper', 'prober', '-n', 'default']);
    }
  });
});
