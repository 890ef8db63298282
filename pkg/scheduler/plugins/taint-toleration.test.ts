import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, makeNode, makePod, nodeInfos, scoreEach } from '../testing/fake.js';
import { TaintToleration } from './taint-toleration.js';

const cp = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

test('Filter: untolerated NoSchedule and NoExecute taints reject, with upstream text', () => {
  const nis = nodeInfos([
    makeNode('cp', { taints: [cp] }),
    makeNode('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] }),
    makeNode('soft', { taints: [{ key: 'x', value: 'y', effect: 'PreferNoSchedule' }] }),
  ]);
  assert.deepEqual(filterEach(new TaintToleration(), makePod('p'), nis), {
    cp: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }',
    gpu: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}',
    soft: 'ok',
  });
});

test('Filter: Exists, Equal and empty-key tolerations', () => {
  const nis = nodeInfos([makeNode('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })]);
  const f = (tolerations: object[]) => filterEach(new TaintToleration(), makePod('p', { tolerations }), nis).gpu;
  assert.equal(f([{ key: 'dedicated', operator: 'Exists' }]), 'ok');
  assert.equal(f([{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }]), 'ok');
  assert.equal(f([{ key: 'dedicated', value: 'cpu' }]), 'UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}');
  assert.equal(f([{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }]), 'UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}');
  assert.equal(f([{ operator: 'Exists' }]), 'ok');
});

test('Score: fewer untolerated PreferNoSchedule taints score higher', () => {
  const soft = (k: string) => ({ key: k, value: 'v', effect: 'PreferNoSchedule' });
  const nis = nodeInfos([makeNode('none'), makeNode('one', { taints: [soft('a')] }), makeNode('two', { taints: [soft('a'), soft('b')] })]);
  assert.deepEqual(scoreEach(new TaintToleration(), makePod('p'), nis), { none: 100, one: 50, two: 0 });
  assert.deepEqual(scoreEach(new TaintToleration(), makePod('p', { tolerations: [{ key: 'a', operator: 'Exists', effect: 'PreferNoSchedule' }] }), nis), { none: 100, one: 100, two: 0 });
});
