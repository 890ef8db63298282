import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLabels, parseTaints } from './config.js';

test('--register-with-taints and --node-labels parse as upstream writes them', () => {
  assert.deepEqual(parseTaints('dedicated=gpu:NoSchedule,node-role.kubernetes.io/control-plane:NoExecute'), [
    { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
    { key: 'node-role.kubernetes.io/control-plane', effect: 'NoExecute' },
  ]);
  assert.throws(() => parseTaints('bad'), /invalid taint spec/);
  assert.deepEqual(parseTaints(''), []);
  assert.deepEqual(parseLabels('a=1, topology.kubernetes.io/zone=z1'), { a: '1', 'topology.kubernetes.io/zone': 'z1' });
  assert.throws(() => parseLabels('novalue'), /invalid label/);
});
