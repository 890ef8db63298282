/**
 * The kube-apiserver binary with upstream's security flags: https with client certificates,
 * ServiceAccount keys, Node,RBAC by default, anonymous limited to health paths; and encryption
 * key rotation across a restart, rewritten with rewriteStale.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { startEtcd, freePort, type EtcdHandle } from '../harness/etcd.js';
import { startSecureApiserver, httpsRequest } from '../harness/pki.js';
import { kubectlOK } from '../harness/kubectl.js';
import { ensurePKI } from '../../pkg/pki/pki.js';
import { EncryptionTransformer, rewriteStale } from '../../pkg/auth/encryption.js';
import { builtinResources } from '../../pkg/registry/resources.js';

let etcd: EtcdHandle;
const mainJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cmd/kube-apiserver/main.js');

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  await etcd?.stop();
});

function etcdGet(key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('etcdctl', [`--endpoints=${etcd.endpoint}`, 'get', key, '--print-value-only'], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'latin1' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

test('the binary serves https with x509, ServiceAccount tokens and RBAC from its flags', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-flags-'));
  const port = await freePort();
  const pki = await ensurePKI(dir, { server: `https://127.0.0.1:${port}` });
  const proc = spawn(process.execPath, [
    mainJs,
    `--etcd-servers=${etcd.endpoint}`,
    `--secure-port=${port}`,
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    '--enable-admission-plugins=NodeRestriction',
    '--log-level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const ca = fs.readFileSync(pki.caCert, 'utf8');
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`apiserver exited: ${stderr}`);
      const r = await httpsRequest(`https://127.0.0.1:${port}/readyz`, { ca }).catch(() => undefined);
      if (r?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`not ready: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await httpsRequest(`https://127.0.0.1:${port}/api/v1/namespaces`, { ca })).status, 401);
    await kubectlOK('1.33', pki.adminKubeconfig, ['create', 'serviceaccount', 'bot', '-n', 'default']);
    const token = (await kubectlOK('1.33', pki.adminKubeconfig, ['create', 'token', 'bot'])).trim();
    const denied = await httpsRequest(`https://127.0.0.1:${port}/api/v1/namespaces/default/pods`, { ca, headers: { Authorization: `Bearer ${token}` } });
    assert.equal(denied.status, 403);
    assert.match(denied.body.message, /User "system:serviceaccount:default:bot" cannot list resource "pods"/);
    const roles = await kubectlOK('1.33', pki.adminKubeconfig, ['get', 'clusterrole', 'view', '-o', 'json']);
    assert.ok(JSON.parse(roles).rules.some((r: any) => r.resources?.includes('pods')), 'view is aggregated from system:aggregate-to-view');
  } finally {
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('key rotation: a new first key reads old data, and rewriteStale re-encrypts it', async () => {
  const key1 = { name: 'key1', secret: randomBytes(32).toString('base64') };
  const key2 = { name: 'key2', secret: randomBytes(32).toString('base64') };
  const cfg = (providers: unknown[]) => ({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources: ['secrets'], providers }] });
  const first = await startSecureApiserver(etcd.endpoint, { encryptionConfig: cfg([{ aesgcm: { keys: [key1] } }]) });
  await kubectlOK('1.33', first.adminKubeconfig, ['create', 'secret', 'generic', 'rot', '--from-literal=k=rotate-me-please']);
  await first.stop();
  assert.match(await etcdGet('/registry/secrets/default/rot'), /^k8s:enc:aesgcm:v1:key1:/);

  const rotated = cfg([{ secretbox: { keys: [key2] } }, { aesgcm: { keys: [key1] } }]);
  const second = await startSecureApiserver(etcd.endpoint, { encryptionConfig: rotated });
  try {
    const s = JSON.parse(await kubectlOK('1.33', second.adminKubeconfig, ['get', 'secret', 'rot', '-o', 'json']));
    assert.equal(Buffer.from(s.data.k, 'base64').toString(), 'rotate-me-please');
    const client = new Etcd3({ hosts: etcd.endpoint.replace(/^http:\/\//, '') });
    try {
      const n = await rewriteStale(client as never, new EncryptionTransformer(rotated, builtinResources), '/registry/secrets/');
      assert.ok(n >= 1);
    } finally {
      client.close();
    }
    const raw = await etcdGet('/registry/secrets/default/rot');
    assert.match(raw, /^k8s:enc:secretbox:v1:key2:/);
    assert.ok(!raw.includes('rotate-me-please'));
    const again = JSON.parse(await kubectlOK('1.33', second.adminKubeconfig, ['get', 'secret', 'rot', '-o', 'json']));
    assert.equal(Buffer.from(again.data.k, 'base64').toString(), 'rotate-me-please');
  } finally {
    await second.stop();
  }
});
