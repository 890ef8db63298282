import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, ResourceQuota } from '../../api/types.js';
import { computeUsage } from './usage.js';

const pod = (cpu: string | undefined, mem: string | undefined, phase = 'Running', extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  spec: { containers: [{ name: 'c', resources: cpu || mem ? { requests: { ...(cpu ? { cpu } : {}), ...(mem ? { memory: mem } : {}) }, limits: { ...(cpu ? { cpu } : {}) } } : {} }], ...extra },
  status: { phase },
});

test('counts objects and sums pod requests and limits, skipping terminated pods', () => {
  const quota: ResourceQuota = { spec: { hard: { pods: '10', 'count/configmaps': '5', configmaps: '5', 'requests.cpu': '4', 'requests.memory': '8Gi', 'limits.cpu': '4', services: '2', 'count/jobs.batch': '1' } } };
  const used = computeUsage(quota, {
    pods: [pod('500m', '1Gi'), pod('250m', '512Mi'), pod('1', '1Gi', 'Succeeded'), pod(undefined, undefined)],
    configmaps: [{}, {}],
    services: [],
  });
  assert.deepEqual(used, { pods: '3', 'count/configmaps': '2', configmaps: '2', 'requests.cpu': '750m', 'requests.memory': '1536Mi', 'limits.cpu': '750m', services: '0' });
});

test('scopes select the pods a quota counts', () => {
  const quota: ResourceQuota = { spec: { hard: { pods: '10', configmaps: '1' }, scopes: ['BestEffort'] } };
  assert.deepEqual(computeUsage(quota, { pods: [pod('1', undefined), pod(undefined, undefined)], configmaps: [{}] }), { pods: '1' });
  const terminating: ResourceQuota = { spec: { hard: { pods: '10' }, scopes: ['Terminating'] } };
  assert.deepEqual(computeUsage(terminating, { pods: [pod(undefined, undefined, 'Running', { activeDeadlineSeconds: 5 }), pod(undefined, undefined)] }), { pods: '1' });
});
