/**
 * Security end to end on a launcher cluster (one node): a pod's projected ServiceAccount token
 * authenticates from inside the pod against the `kubernetes` Service over https, and RBAC limits
 * it (the ServiceAccount is bound to `view` in its namespace: listing pods works, creating a
 * ConfigMap and reading Secrets are 403, no token is 401). The projected ca.crt is the cluster's CA.
 *
 * The client is busybox wget, which Debian builds to speak https through `openssl s_client` with
 * verification; the busybox image has no openssl, so the test copies the host's openssl and its
 * libraries into the pod (kubectl cp) and points SSL_CERT_FILE at the projected ca.crt: the
 * apiserver is verified against it, and without it the request fails. Run under the cluster lock:
 *   flock /tmp/keelson-cluster.lock npx node --test .build/<dir>/test/e2e/security.test.js
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { up, down, defaultClusterOptions, type ClusterOptions } from '../../pkg/launcher/cluster.js';
import { launcherClusterSkip, until } from '../harness/cluster.js';
import { execFileSync } from 'node:child_process';
import { kubectl, kubectlOK } from '../harness/kubectl.js';

const skip = launcherClusterSkip();
const V = '1.33';
const NS = 'sec';
let opts: ClusterOptions;
let kubeconfig = '';
const lines: string[] = [];

const k = (args: string[], input?: string) => kubectlOK(V, kubeconfig, args, { timeoutMs: 120_000, ...(input === undefined ? {} : { input }) });

before(async () => {
  if (skip) return;
  opts = { ...defaultClusterOptions(fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-security-'))), nodes: 1, log: (l) => lines.push(l) };
  kubeconfig = await up(opts);
});

after(async () => {
  if (skip || !opts) return;
  await down({ ...opts, reset: true });
});

/** The host's openssl with the libraries ldd names and the loader, behind an `openssl` script for /tmp/ssl in the pod. */
function opensslBundle(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-openssl-'));
  const bin = execFileSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).trim();
  const libs = [...execFileSync('ldd', [bin], { encoding: 'utf8' }).matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1]!);
  for (const lib of new Set(libs)) fs.copyFileSync(lib, path.join(dir, path.basename(lib)));
  const loader = libs.find((l) => path.basename(l).startsWith('ld-linux'))!;
  fs.copyFileSync(bin, path.join(dir, 'openssl.bin'));
  fs.writeFileSync(path.join(dir, 'openssl'), `#!/bin/sh\nexec /tmp/ssl/${path.basename(loader)} --library-path /tmp/ssl /tmp/ssl/openssl.bin "$@"\n`, { mode: 0o755 });
  return dir;
}

/** Runs a shell line in the client pod with the pod's own token in $T and openssl verifying against ca.crt. */
function inPod(script: string, withCA = true) {
  const env = `export PATH=/tmp/ssl:$PATH${withCA ? ' SSL_CERT_FILE=/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' : ''};`;
  return kubectl(V, kubeconfig, ['exec', '-n', NS, 'client', '--', 'sh', '-c', `${env} T=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token); ${script}`], { timeoutMs: 60_000 });
}

test('a pod\'s projected token authenticates against the kubernetes Service, and RBAC limits it', { skip }, async () => {
  await k(['create', 'namespace', NS]);
  await k(['create', 'serviceaccount', 'reader', '-n', NS]);
  await k(['create', 'rolebinding', 'reader-view', '--clusterrole=view', `--serviceaccount=${NS}:reader`, '-n', NS]);
  await k(['create', 'secret', 'generic', 'hidden', '--from-literal=k=v', '-n', NS]);
  await k(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client', namespace: NS },
    spec: { serviceAccountName: 'reader', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
  }));
  await until('the client pod', async () => JSON.parse(await k(['get', 'pod', 'client', '-n', NS, '-o', 'json'])).status.phase === 'Running');

  // The projected ca.crt is the cluster's CA, as the kubeconfig carries it.
  const caInPod = await k(['exec', '-n', NS, 'client', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt']);
  const kc = await k(['config', 'view', '--raw', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}']);
  assert.equal(caInPod.trim(), Buffer.from(kc, 'base64').toString('utf8').trim());
  assert.equal((await k(['exec', '-n', NS, 'client', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/namespace'])).trim(), NS);

  const bundle = opensslBundle();
  try {
    await k(['cp', bundle, `${NS}/client:/tmp/ssl`]);
  } finally {
    fs.rmSync(bundle, { recursive: true, force: true });
  }
  const api = 'https://kubernetes.default.svc';
  // Listing pods in its namespace: allowed by view (DNS and the Service may take a moment).
  const list = await until('a pod list from inside the pod', async () => {
    const r = await inPod(`wget -qO- --header "Authorization: Bearer $T" ${api}/api/v1/namespaces/${NS}/pods`);
    return r.code === 0 ? r.stdout : undefined;
  });
  const pods = JSON.parse(list);
  assert.equal(pods.kind, 'PodList');
  assert.ok(pods.items.some((p: any) => p.metadata.name === 'client'));

  // Creating a ConfigMap and reading Secrets: 403.
  const cm = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nope' } });
  const create = await inPod(`wget -qO- --header "Authorization: Bearer $T" --header "Content-Type: application/json" --post-data '${cm}' ${api}/api/v1/namespaces/${NS}/configmaps`);
  assert.notEqual(create.code, 0);
  assert.match(create.stderr, /403 Forbidden/);
  const secret = await inPod(`wget -qO- --header "Authorization: Bearer $T" ${api}/api/v1/namespaces/${NS}/secrets/hidden`);
  assert.notEqual(secret.code, 0);
  assert.match(secret.stderr, /403 Forbidden/);
  // Without the token: 401.
  const anon = await inPod(`wget -qO- ${api}/api/v1/namespaces/${NS}/pods`);
  assert.notEqual(anon.code, 0);
  assert.match(anon.stderr, /401 Unauthorized/);
  assert.equal((await kubectl(V, kubeconfig, ['get', 'configmap', 'nope', '-n', NS])).code, 1, 'nothing was created');
  // Without ca.crt the server's certificate does not verify: the client really checks it.
  const unverified = await inPod(`wget -qO- --header "Authorization: Bearer $T" ${api}/api/v1/namespaces/${NS}/pods`, false);
  assert.notEqual(unverified.code, 0);
});
