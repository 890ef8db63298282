import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createCA, issueCert, createSigningKey } from '../pki/certs.js';
import { X509Authenticator, userFromSubject } from './x509.js';
import { TokenFileAuthenticator, BearerTokenAuthenticator, splitCSVLine } from './token.js';
import { ServiceAccountTokenIssuer, ServiceAccountTokenAuthenticator, loadPublicKeys } from './serviceaccount.js';
import { ImpersonatingAuthenticator } from './impersonation.js';
import { FakeClusterState } from './fake-cluster-state.js';
import { StatusError } from '../api/errors.js';
import type { Authenticator, Authorizer, UserInfo } from './types.js';

const is401 = (e: unknown) => e instanceof StatusError && e.code === 401;
const fakeReq = (headers: Record<string, string | string[]>) => ({ headers, socket: {} }) as unknown as IncomingMessage;

test('x509: CN is the user, O the groups; other CAs, server-only certificates and expired ones are refused', async () => {
  const ca = await createCA('kubernetes');
  const other = await createCA('other');
  const a = new X509Authenticator(ca.certPem);
  const admin = await issueCert(ca, { commonName: 'kubernetes-admin', organizations: ['system:masters', 'team'], usage: 'client' });
  assert.deepEqual(a.verify(new X509Certificate(admin.certPem)), { username: 'kubernetes-admin', groups: ['system:masters', 'team', 'system:authenticated'] });
  const foreign = await issueCert(other, { commonName: 'mallory', usage: 'client' });
  assert.throws(() => a.verify(new X509Certificate(foreign.certPem)), is401);
  const serving = await issueCert(ca, { commonName: 'kube-apiserver', usage: 'server', dnsNames: ['localhost'] });
  assert.throws(() => a.verify(new X509Certificate(serving.certPem)), is401);
  const later = new X509Authenticator(ca.certPem, () => new Date(Date.now() + 400 * 86_400_000));
  assert.throws(() => later.verify(new X509Certificate(admin.certPem)), is401);
  assert.deepEqual(userFromSubject('O=system:nodes\nCN=system:node:n1'), { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] });
});

test('token file: CSV with quoted groups; unknown tokens are refused with 401', async () => {
  assert.deepEqual(splitCSVLine('tok,bob,42,"a,b"'), ['tok', 'bob', '42', 'a,b']);
  const f = new TokenFileAuthenticator('# comment\ns3cr3t,bob,42,"a,b"\nother,carol,43\n');
  assert.deepEqual((await f.authenticateToken('s3cr3t'))!.user, { username: 'bob', uid: '42', groups: ['a', 'b', 'system:authenticated'] });
  assert.equal(await f.authenticateToken('nope'), undefined);
  assert.ok(!JSON.stringify(f).includes('s3cr3t'));
  const bearer = new BearerTokenAuthenticator([f]);
  assert.equal((await bearer.authenticate(fakeReq({ authorization: 'Bearer other' })))!.username, 'carol');
  assert.equal(await bearer.authenticate(fakeReq({})), undefined);
  await assert.rejects(bearer.authenticate(fakeReq({ authorization: 'Bearer wrong' })), is401);
  assert.throws(() => new TokenFileAuthenticator('onlytoken\n'), /expected token,user,uid/);
});

test('ServiceAccount tokens: claims, audiences, expiry and bound objects', async () => {
  const key = createSigningKey();
  const iss = 'https://kubernetes.default.svc.cluster.local';
  let now = Date.now();
  const issuer = new ServiceAccountTokenIssuer({ issuers: [iss], signingKeyPem: key.privatePem, now: () => now });
  const state = new FakeClusterState()
    .add('', 'serviceaccounts', { metadata: { name: 'bot', namespace: 'a', uid: 'sa-uid' } })
    .add('', 'pods', { metadata: { name: 'p', namespace: 'a', uid: 'pod-uid' }, spec: { serviceAccountName: 'bot', nodeName: 'n1' } });
  const authn = new ServiceAccountTokenAuthenticator({ issuers: [iss], publicKeys: loadPublicKeys(key.publicPem), audiences: [iss], state, now: () => now });
  const sa = state.get('', 'serviceaccounts', 'a', 'bot')!;
  const { token } = await issuer.issue(sa, [iss], 3600, { kind: 'Pod', name: 'p', uid: 'pod-uid', nodeName: 'n1', nodeUID: 'node-uid' });
  const claims = decodeJwt(token) as any;
  assert.equal(claims.sub, 'system:serviceaccount:a:bot');
  assert.deepEqual(claims.aud, [iss]);
  assert.equal(claims['kubernetes.io'].pod.uid, 'pod-uid');
  assert.equal(claims['kubernetes.io'].node.name, 'n1');
  assert.equal(decodeProtectedHeader(token).alg, 'RS256');
  const r = (await authn.authenticateToken(token))!;
  assert.equal(r.user.username, 'system:serviceaccount:a:bot');
  assert.equal(r.user.uid, 'sa-uid');
  assert.deepEqual(r.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated']);
  assert.deepEqual(r.user.extra!['authentication.kubernetes.io/pod-name'], ['p']);
  assert.match(r.user.extra!['authentication.kubernetes.io/credential-id']![0]!, /^JTI=/);

  // Another audience, another issuer, expiry.
  const foreign = await issuer.issue(sa, ['vault'], 3600);
  await assert.rejects(authn.authenticateToken(foreign.token), is401);
  assert.ok(await authn.authenticateToken(foreign.token, ['vault']), 'a TokenReview for its audience accepts it');
  const otherIssuer = new ServiceAccountTokenIssuer({ issuers: ['https://elsewhere'], signingKeyPem: key.privatePem });
  assert.equal(await authn.authenticateToken((await otherIssuer.issue(sa, [iss], 3600)).token), undefined, 'not ours: left to other authenticators');
  assert.equal(await authn.authenticateToken('not.a.jwt'), undefined);
  now += 2 * 3600 * 1000;
  await assert.rejects(authn.authenticateToken(token), is401);
  now -= 2 * 3600 * 1000;

  // The bound pod recreated with a new uid, or the SA gone: refused.
  state.add('', 'pods', { metadata: { name: 'p', namespace: 'a', uid: 'new-uid' }, spec: { serviceAccountName: 'bot' } });
  await assert.rejects(authn.authenticateToken(token), is401);
  const unbound = await issuer.issue(sa, [iss], 3600);
  assert.ok(await authn.authenticateToken(unbound.token));
  state.remove('', 'serviceaccounts', 'a', 'bot');
  await assert.rejects(authn.authenticateToken(unbound.token), is401);
  // A token signed by another key.
  const stranger = new ServiceAccountTokenIssuer({ issuers: [iss], signingKeyPem: createSigningKey().privatePem });
  state.add('', 'serviceaccounts', sa);
  await assert.rejects(authn.authenticateToken((await stranger.issue(sa, [iss], 3600)).token), is401);
});

test('impersonation: each header needs the impersonate verb; ServiceAccount users get their groups', async () => {
  const checked: string[] = [];
  const authz: Authorizer = {
    authorize: (a) => {
      checked.push(`${a.resource}${a.subresource ? '/' + a.subresource : ''}:${a.namespace ?? ''}:${a.name}`);
      return a.user.username === 'admin' ? { decision: 'allow' } : { decision: 'noOpinion' };
    },
  };
  const as = (u: UserInfo): Authenticator => ({ authenticate: async () => u });
  const admin = new ImpersonatingAuthenticator([as({ username: 'admin', groups: ['system:authenticated'] })], authz);
  const u = (await admin.authenticate(fakeReq({ 'impersonate-user': 'jane', 'impersonate-group': 'devs, ops', 'impersonate-extra-scopes': 'view' })))!;
  assert.deepEqual(u, { username: 'jane', groups: ['devs', 'ops', 'system:authenticated'], extra: { scopes: ['view'] } });
  assert.deepEqual(checked, ['users::jane', 'groups::devs', 'groups::ops', 'userextras/scopes::view']);
  const s = (await admin.authenticate(fakeReq({ 'impersonate-user': 'system:serviceaccount:a:bot' })))!;
  assert.deepEqual(s.groups, ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated']);
  assert.ok(checked.includes('serviceaccounts:a:bot'));
  const plain = new ImpersonatingAuthenticator([as({ username: 'bob', groups: ['system:authenticated'] })], authz);
  await assert.rejects(plain.authenticate(fakeReq({ 'impersonate-user': 'admin' })), (e: unknown) => e instanceof StatusError && e.code === 403 && /users "admin" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope/.test(e.message));
  assert.equal((await plain.authenticate(fakeReq({})))!.username, 'bob');
});
