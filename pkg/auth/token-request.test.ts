import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { StatusError } from '../api/errors.js';
import { createSigningKey } from '../pki/certs.js';
import { FakeClusterState } from './fake-cluster-state.js';
import { ServiceAccountTokenIssuer } from './serviceaccount.js';
import { tokenRequestHandler } from './token-request.js';

const iss = 'https://kubernetes.default.svc.cluster.local';
const state = new FakeClusterState()
  .add('', 'serviceaccounts', { metadata: { name: 'web', namespace: 'a', uid: 'sa-1' } })
  .add('', 'pods', { metadata: { name: 'p', namespace: 'a', uid: 'pod-1' }, spec: { serviceAccountName: 'web', nodeName: 'n1' } }, { metadata: { name: 'q', namespace: 'a', uid: 'pod-2' }, spec: { serviceAccountName: 'other', nodeName: 'n1' } });
const handler = tokenRequestHandler({ state, issuer: new ServiceAccountTokenIssuer({ issuers: [iss], signingKeyPem: createSigningKey().privatePem }), apiAudiences: [iss] });
const req = (body: any, user?: any) => handler({ namespace: 'a', name: 'web', body, user, dryRun: false, query: new URLSearchParams() });
const code = (n: number, re?: RegExp) => (e: unknown) => e instanceof StatusError && e.code === n && (!re || re.test(e.message));

test('TokenRequest defaults, audiences and duration', async () => {
  const r = (await req({})) as { code: number; body: any };
  assert.equal(r.code, 201);
  assert.equal(r.body.kind, 'TokenRequest');
  assert.deepEqual(r.body.spec.audiences, [iss]);
  assert.equal(r.body.spec.expirationSeconds, 3600);
  const c = decodeJwt(r.body.status.token);
  assert.equal((c.exp as number) - (c.iat as number), 3600);
  const custom = (await req({ spec: { audiences: ['vault'], expirationSeconds: 7200 } })).body as any;
  assert.deepEqual(decodeJwt(custom.status.token).aud, ['vault']);
  await assert.rejects(req({ spec: { expirationSeconds: 60 } }), code(422, /spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/));
  await assert.rejects(handler({ namespace: 'a', name: 'ghost', body: {}, dryRun: false, query: new URLSearchParams() }), code(404));
});

test('bound tokens: pod binding, uid and serviceaccount checks, kubelet extension, node restriction', async () => {
  const r = (await req({ spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'pod-1' }, expirationSeconds: 3607 } })).body as any;
  const c = decodeJwt(r.status.token) as any;
  assert.equal(c['kubernetes.io'].pod.name, 'p');
  assert.ok((c.exp as number) - (c.iat as number) > 300 * 86400, 'a kubelet token is extended');
  assert.equal(c['kubernetes.io'].warnafter, c.iat + 3607);
  assert.ok(Date.parse(r.status.expirationTimestamp) - Date.now() < 3700 * 1000, 'status reports the requested expiry');
  await assert.rejects(req({ spec: { boundObjectRef: { kind: 'Pod', name: 'p', uid: 'stale' } } }), code(409, /does not match the UID in record/));
  await assert.rejects(req({ spec: { boundObjectRef: { kind: 'Pod', name: 'q' } } }), code(400, /to pod running with different serviceaccount name/));
  await assert.rejects(req({ spec: { boundObjectRef: { kind: 'ConfigMap', name: 'x' } } }), code(400));
  const n1 = { username: 'system:node:n1', groups: ['system:nodes'] };
  const n2 = { username: 'system:node:n2', groups: ['system:nodes'] };
  assert.equal((await req({ spec: { boundObjectRef: { kind: 'Pod', name: 'p' } } }, n1)).code, 201);
  await assert.rejects(req({ spec: { boundObjectRef: { kind: 'Pod', name: 'p' } } }, n2), code(403));
  await assert.rejects(req({}, n1), code(403), 'a kubelet may not mint unbound tokens');
});
