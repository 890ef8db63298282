import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { KubeletAuthorizer, kubeletSubresource, kubeletVerb } from './auth.js';

function fakeReq(url: string, method: string, cn?: string, groups: string[] = [], headers: Record<string, string> = {}): http.IncomingMessage {
  const socket = cn ? { encrypted: true, authorized: true, getPeerCertificate: () => ({ subject: { CN: cn, O: groups } }) } : { encrypted: true, authorized: false, getPeerCertificate: () => ({}) };
  return { url, method, socket, headers } as unknown as http.IncomingMessage;
}

const bearer = (token: string) => fakeReq('/pods', 'GET', undefined, [], { authorization: `Bearer ${token}` });

test('paths map to nodes subresources as upstream', () => {
  assert.equal(kubeletSubresource('/stats/summary'), 'stats');
  assert.equal(kubeletSubresource('/stats'), 'stats');
  assert.equal(kubeletSubresource('/metrics'), 'metrics');
  assert.equal(kubeletSubresource('/metrics/cadvisor'), 'metrics');
  assert.equal(kubeletSubresource('/logs/'), 'log');
  for (const p of ['/exec/a/b/c', '/attach/a/b/c', '/portForward/a/b', '/containerLogs/a/b/c', '/run/a/b/c', '/pods', '/statsx']) assert.equal(kubeletSubresource(p), 'proxy', p);
  assert.equal(kubeletVerb('POST'), 'create');
  assert.equal(kubeletVerb('GET'), 'get');
});

test('healthz is open, no certificate is 401, Webhook answers are cached', async () => {
  const reviews: any[] = [];
  let now = 0;
  const a = new KubeletAuthorizer({
    nodeName: 'n1',
    mode: 'Webhook',
    now: () => now,
    subjectAccessReview: async (r: any) => {
      reviews.push(r);
      return { status: { allowed: r.spec.groups.includes('system:masters') } };
    },
  });
  assert.equal(await a.check(fakeReq('/healthz', 'GET')), undefined);
  assert.equal((await a.check(fakeReq('/pods', 'GET')))?.code, 401);
  assert.equal(await a.check(fakeReq('/containerLogs/a/b/c', 'GET', 'admin', ['system:masters'])), undefined);
  assert.equal(await a.check(fakeReq('/containerLogs/a/b/c', 'GET', 'admin', ['system:masters'])), undefined);
  assert.equal(reviews.length, 1);
  assert.deepEqual(reviews[0].spec.resourceAttributes, { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'n1', version: 'v1' });
  assert.equal((await a.check(fakeReq('/stats/summary', 'GET', 'system:node:n2', ['system:nodes'])))?.code, 403);
  now += 31_000;
  assert.equal((await a.check(fakeReq('/stats/summary', 'GET', 'system:node:n2', ['system:nodes'])))?.code, 403);
  assert.equal(reviews.length, 3);
  const allow = new KubeletAuthorizer({ nodeName: 'n1', mode: 'AlwaysAllow' });
  assert.equal(await allow.check(fakeReq('/pods', 'GET', 'anyone')), undefined);
  assert.equal((await allow.check(fakeReq('/pods', 'GET')))?.code, 401);
});

test('bearer tokens go to a TokenReview, cached for the TTL; bad ones are 401 even with anonymous allowed', async () => {
  const tokenReviews: any[] = [];
  const sars: any[] = [];
  let now = 0;
  let apiserverUp = true;
  const a = new KubeletAuthorizer({
    nodeName: 'n1',
    mode: 'Webhook',
    anonymous: true,
    now: () => now,
    tokenCacheTTLMs: 120_000,
    tokenReview: async (r: any) => {
      if (!apiserverUp) throw new Error('connection refused');
      tokenReviews.push(r);
      if (r.spec.token === 'good') return { status: { authenticated: true, user: { username: 'system:serviceaccount:a:bot', uid: 'u1', groups: ['system:serviceaccounts', 'system:serviceaccounts:a'] } } };
      return { status: { authenticated: false, error: 'invalid bearer token' } };
    },
    subjectAccessReview: async (r: any) => {
      sars.push(r);
      return { status: { allowed: r.spec.user === 'system:serviceaccount:a:bot' } };
    },
  });
  assert.equal(await a.check(bearer('good')), undefined);
  assert.deepEqual(tokenReviews[0], { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'good' } });
  assert.deepEqual(sars[0].spec.groups, ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated']);
  assert.equal(sars[0].spec.uid, 'u1');
  assert.equal(await a.check(bearer('good')), undefined);
  assert.equal(tokenReviews.length, 1, 'the second request is answered from the cache');
  assert.equal((await a.check(bearer('bad')))?.code, 401);
  assert.equal((await a.check(fakeReq('/pods', 'GET', undefined, [], { authorization: 'Bearer' })))?.code, 401);
  now += 121_000;
  apiserverUp = false;
  assert.equal((await a.check(bearer('good')))?.code, 401, 'expired from the cache and the apiserver cannot be asked');
  apiserverUp = true;
  assert.equal(await a.check(bearer('good')), undefined);
  // Anonymous: system:anonymous in system:unauthenticated, authorized like anyone (here denied).
  const anon = await a.check(fakeReq('/pods', 'GET'));
  assert.equal(anon?.code, 403);
  assert.match(anon!.message, /user=system:anonymous/);
  assert.deepEqual(sars.at(-1).spec.groups, ['system:unauthenticated']);
});

test('without the token webhook bearer tokens are 401; without anonymous-auth so is no credential', async () => {
  const a = new KubeletAuthorizer({ nodeName: 'n1', mode: 'AlwaysAllow' });
  assert.equal((await a.check(bearer('good')))?.code, 401);
  assert.equal((await a.check(fakeReq('/pods', 'GET')))?.code, 401);
  const open = new KubeletAuthorizer({ nodeName: 'n1', mode: 'AlwaysAllow', anonymous: true });
  assert.equal(await open.check(fakeReq('/pods', 'GET')), undefined);
  assert.deepEqual(await open.authenticate(fakeReq('/pods', 'GET')), { name: 'system:anonymous', groups: ['system:unauthenticated'] });
  // A certificate that does not verify is refused, not treated as anonymous.
  const badCert = { url: '/pods', method: 'GET', headers: {}, socket: { encrypted: true, authorized: false, getPeerCertificate: () => ({ subject: { CN: 'mallory' } }) } } as unknown as http.IncomingMessage;
  assert.equal((await open.check(badCert))?.code, 401);
});
