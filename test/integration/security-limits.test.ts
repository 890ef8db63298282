/**
 * Request timeouts and admission warnings, against a real etcd: a write held up in admission
 * until its deadline passes gets upstream's 504 Status and is not stored; a malformed `?timeout=`
 * is a 400; watches are exempt. PodSecurity `warn` findings reach stock kubectl 1.33 as
 * `Warning: would violate PodSecurity …`, for pods and for a Deployment's pod template.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { startSecureApiserver, type SecureApiserver } from '../harness/pki.js';
import { kubectl, kubectlOK } from '../harness/kubectl.js';
import { currentRequestContext } from '../../pkg/apiserver/request-context.js';
import type { AdmissionPlugin } from '../../pkg/admission/types.js';

const V = '1.33';
let etcd: EtcdHandle;
let plain: ApiserverHandle;
let secure: SecureApiserver;

/** Holds configmaps named "slow" in admission until their request's deadline passes: slow, but deterministically so. */
const slowUntilDeadline: AdmissionPlugin = {
  name: 'SlowForTest',
  async validate(a) {
    if (a.def.plural !== 'configmaps' || a.name !== 'slow') return;
    const signal = currentRequestContext()?.signal;
    if (!signal) throw new Error('no request deadline in the admission context');
    if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
  },
};

before(async () => {
  etcd = await startEtcd();
  plain = await startApiserver(etcd.endpoint, { admission: () => [slowUntilDeadline] });
  secure = await startSecureApiserver(etcd.endpoint);
});

after(async () => {
  await secure?.stop();
  await plain?.stop();
  await etcd?.stop();
});

function request(url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, { method, headers: data ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: any;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

test('a write that runs past ?timeout= gets upstream\'s 504 and is not stored', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'slow' }, data: { a: 'b' } };
  const r = await request(`${plain.url}/api/v1/namespaces/default/configmaps?timeout=200ms`, 'POST', cm);
  assert.equal(r.status, 504);
  assert.deepEqual(r.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Timeout: request did not complete within requested timeout - context deadline exceeded',
    reason: 'Timeout',
    details: {},
    code: 504,
  });
  // The handler stopped at admission: nothing was stored, and the server still answers.
  const got = await request(`${plain.url}/api/v1/namespaces/default/configmaps/slow`);
  assert.equal(got.status, 404);
  const fast = await request(`${plain.url}/api/v1/namespaces/default/configmaps?timeout=30s`, 'POST', { ...cm, metadata: { name: 'fast' } });
  assert.equal(fast.status, 201);
  await request(`${plain.url}/api/v1/namespaces/default/configmaps/fast`, 'DELETE');
});

test('a malformed ?timeout= is a 400 with upstream\'s message; watches ignore ?timeout=', async () => {
  const r = await request(`${plain.url}/api/v1/namespaces/default/configmaps?timeout=soon`);
  assert.equal(r.status, 400);
  assert.equal(r.body.reason, 'BadRequest');
  assert.equal(r.body.message, 'invalid timeout specified in the request URL - time: invalid duration "soon"');
  const w = await request(`${plain.url}/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&timeout=1ms`);
  assert.equal(w.status, 200);
});

test('PodSecurity warn findings reach kubectl as warnings, for pods and pod templates', async () => {
  const admin = secure.adminKubeconfig;
  await kubectlOK(V, admin, ['create', 'namespace', 'psw']);
  try {
    // No controller-manager here: the namespace's default ServiceAccount is made by hand.
    await kubectlOK(V, admin, ['create', 'serviceaccount', 'default', '-n', 'psw']);
    await kubectlOK(V, admin, ['label', 'namespace', 'psw', 'pod-security.kubernetes.io/warn=restricted', 'pod-security.kubernetes.io/audit=baseline']);
    const pod = await kubectl(V, admin, ['run', 'web', '-n', 'psw', '--image=registry.k8s.io/pause:3.10']);
    assert.equal(pod.code, 0, pod.stderr);
    assert.match(
      pod.stderr,
      /^Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "web" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities \(container "web" must set securityContext.capabilities.drop=\["ALL"\]\), runAsNonRoot != true \(pod or container "web" must set securityContext.runAsNonRoot=true\), seccompProfile \(pod or container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"\)$/m,
    );
    assert.match(pod.stdout, /pod\/web created/);
    const deploy = await kubectl(V, admin, ['create', 'deployment', 'app', '-n', 'psw', '--image=registry.k8s.io/pause:3.10']);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.match(deploy.stderr, /^Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "pause" must set/m);
    // A compliant pod gets no warning.
    const ok = await kubectl(V, admin, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'tight', namespace: 'psw' },
        spec: {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
        },
      }),
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /PodSecurity/);
  } finally {
    await kubectl(V, admin, ['delete', 'namespace', 'psw', '--wait=false']);
  }
});
