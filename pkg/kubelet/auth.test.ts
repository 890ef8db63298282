import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { KubeletAuthorizer, kubeletSubresource, kubeletVerb } from './auth.js';

function fakeReq(url: string, method: string, cn?: string, groups: string[] = []): http.IncomingMessage {
  const socket = cn ? { encrypted: true, authorized: true, getPeerCertificate: () => ({ subject: { CN: cn, O: groups } }) } : { encrypted: true, authorized: false, getPeerCertificate: () => ({}) };
  return { url, method, socket } as unknown as http.IncomingMessage;
}

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
