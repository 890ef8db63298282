import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { ensurePKI } from './pki.js';

test('ensurePKI writes a CA, serving and client certificates and kubeconfigs, and is idempotent', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-pki-'));
  try {
    const paths = await ensurePKI(dir, { server: 'https://127.0.0.1:6443', nodes: [{ name: 'n1', addresses: ['10.0.0.5'] }] });
    const ca = new X509Certificate(fs.readFileSync(paths.caCert));
    assert.ok(ca.ca);
    const api = new X509Certificate(fs.readFileSync(paths.apiserverCert));
    assert.ok(api.verify(ca.publicKey));
    for (const san of ['DNS:kubernetes.default.svc.cluster.local', 'DNS:localhost', 'IP Address:10.96.0.1', 'IP Address:127.0.0.1', 'IP Address:10.0.0.5']) {
      assert.ok(api.subjectAltName!.includes(san), `${san} in ${api.subjectAltName}`);
    }
    const kc = parse(fs.readFileSync(paths.adminKubeconfig, 'utf8'));
    const admin = new X509Certificate(Buffer.from(kc.users[0].user['client-certificate-data'], 'base64'));
    assert.match(admin.subject, /O=system:masters/);
    assert.match(admin.subject, /CN=kubernetes-admin/);
    assert.ok(admin.verify(ca.publicKey));
    const kubelet = new X509Certificate(fs.readFileSync(paths.kubelets.n1!.clientCert));
    assert.match(kubelet.subject, /CN=system:node:n1/);
    assert.match(kubelet.subject, /O=system:nodes/);
    const serving = new X509Certificate(fs.readFileSync(paths.kubelets.n1!.servingCert));
    assert.ok(serving.subjectAltName!.includes('DNS:n1'));
    assert.match(fs.readFileSync(paths.serviceAccountKey, 'utf8'), /BEGIN PRIVATE KEY/);
    assert.match(new X509Certificate(fs.readFileSync(paths.apiserverKubeletClientCert)).subject, /CN=kube-apiserver-kubelet-client/);
    assert.equal(fs.statSync(paths.caKey).mode & 0o077, 0, 'private keys are not readable by others');

    const before = fs.readFileSync(paths.apiserverCert, 'utf8');
    const again = await ensurePKI(dir, { server: 'https://127.0.0.1:6443', nodes: [{ name: 'n1' }, { name: 'n2' }] });
    assert.equal(fs.readFileSync(again.apiserverCert, 'utf8'), before);
    const n2 = new X509Certificate(fs.readFileSync(again.kubelets.n2!.clientCert));
    assert.ok(n2.verify(ca.publicKey), 'a node added later is signed by the same CA');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
