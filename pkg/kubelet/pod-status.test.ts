import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podPhase } from './pod-status.js';
import type { Pod } from './types.js';

const pod = (restartPolicy: string): Pod => ({ metadata: { name: 'p' }, spec: { restartPolicy, containers: [] } });
const running = { name: 'a', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } };
const ok = { name: 'a', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } };
const failed = { name: 'a', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1 } } };
const crashLoop = { name: 'a', image: '', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } };
const creating = { name: 'a', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } };

test('pod phase follows upstream getPhase', () => {
  assert.equal(podPhase(pod('Always'), [], [running]), 'Running');
  assert.equal(podPhase(pod('Always'), [], [creating]), 'Pending');
  assert.equal(podPhase(pod('Always'), [], [crashLoop]), 'Running');
  assert.equal(podPhase(pod('Always'), [], [ok]), 'Running');
  assert.equal(podPhase(pod('Never'), [], [ok]), 'Succeeded');
  assert.equal(podPhase(pod('Never'), [], [failed]), 'Failed');
  assert.equal(podPhase(pod('OnFailure'), [], [failed]), 'Running');
  assert.equal(podPhase(pod('OnFailure'), [], [ok, ok]), 'Succeeded');
  assert.equal(podPhase(pod('Always'), [creating], [creating]), 'Pending');
  assert.equal(podPhase(pod('Never'), [failed], [creating]), 'Failed');
  assert.equal(podPhase(pod('Always'), [crashLoop], [creating]), 'Pending');
  // A deleted pod whose containers all stopped is terminal whatever its policy.
  assert.equal(podPhase(pod('Always'), [], [failed], true), 'Failed');
  assert.equal(podPhase(pod('Always'), [], [ok], true), 'Succeeded');
});
