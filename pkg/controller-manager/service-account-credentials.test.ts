import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../controller/framework/clock.js';
import { newLogger } from '../log/logger.js';
import type { RestClient } from '../client/rest.js';
import { ApiError } from '../client/rest.js';
import { ServiceAccountTokenSource } from './service-account-credentials.js';

test('creates the ServiceAccount when missing, reuses a token, and renews it at 80% of its lifetime', async () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  let n = 0;
  const fake = {
    get: async () => {
      calls.push('get');
      throw new ApiError(404, undefined, 'not found');
    },
    create: async () => {
      calls.push('create');
      return {};
    },
    request: async (method: string, path: string) => {
      calls.push(`${method} ${path}`);
      return { status: { token: `t${++n}`, expirationTimestamp: new Date(clock.now() + 3600_000).toISOString() } };
    },
  } as unknown as RestClient;
  const src = new ServiceAccountTokenSource(fake, 'endpoint-controller', clock, newLogger('test', 'silent'));
  const [a, b] = await Promise.all([src.get(), src.get()]);
  assert.equal(a, 't1');
  assert.equal(b, 't1');
  assert.deepEqual(calls, ['get', 'create', 'POST /api/v1/namespaces/kube-system/serviceaccounts/endpoint-controller/token']);
  clock.step(2800_000);
  assert.equal(await src.get(), 't1');
  clock.step(100_000);
  assert.equal(await src.get(), 't2');
});
