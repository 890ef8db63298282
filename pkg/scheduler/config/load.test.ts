import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inTreeRegistry } from '../plugins/registry.js';
import { defaultPlugins } from './defaults.js';
import { expandPlugins } from './expand.js';
import { ConfigError, parseConfiguration } from './load.js';
import { testHandle } from '../testing/fake.js';
import type { Plugin } from '../framework/interface.js';
import type { Plugins } from './types.js';

const handle = testHandle([]);
const registry = inTreeRegistry();
const instances = new Map<string, Plugin>();
const instance = (n: string) => {
  let p = instances.get(n);
  if (!p) instances.set(n, (p = registry.get(n)!(undefined, handle)));
  return p;
};

test('defaults: one profile, upstream order of filters and score weights', () => {
  const c = parseConfiguration('apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n');
  assert.equal(c.profiles.length, 1);
  assert.equal(c.profiles[0]!.schedulerName, 'default-scheduler');
  assert.equal(c.leaderElection.leaderElect, true);
  assert.equal(c.leaderElection.leaseDurationMs, 15_000);
  const sets = expandPlugins(c.profiles[0]!.plugins, instance);
  assert.deepEqual(sets.filter, ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity']);
  assert.deepEqual(sets.score, [
    { name: 'TaintToleration', weight: 3 },
    { name: 'NodeAffinity', weight: 2 },
    { name: 'NodeResourcesFit', weight: 1 },
    { name: 'PodTopologySpread', weight: 2 },
    { name: 'InterPodAffinity', weight: 2 },
    { name: 'NodeResourcesBalancedAllocation', weight: 1 },
    { name: 'ImageLocality', weight: 1 },
  ]);
  assert.deepEqual(sets.postFilter, ['DefaultPreemption']);
  assert.deepEqual(sets.queueSort, ['PrioritySort']);
  assert.deepEqual(sets.bind, ['DefaultBinder']);
  assert.deepEqual(sets.preEnqueue, ['SchedulingGates']);
});

test('profiles by schedulerName, plugins disabled and re-weighted per extension point, pluginConfig', () => {
  const c = parseConfiguration(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
  leaseDuration: 5s
percentageOfNodesToScore: 50
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
      - name: ImageLocality
      enabled:
      - name: NodeResourcesFit
        weight: 5
    postFilter:
      disabled:
      - name: '*'
  pluginConfig:
  - name: NodeResourcesFit
    args:
      apiVersion: kubescheduler.config.k8s.io/v1
      kind: NodeResourcesFitArgs
      scoringStrategy:
        type: MostAllocated
  - name: PodTopologySpread
    args:
      defaultingType: List
      defaultConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
`);
  assert.equal(c.leaderElection.leaderElect, false);
  assert.equal(c.leaderElection.leaseDurationMs, 5000);
  assert.equal(c.percentageOfNodesToScore, 50);
  assert.deepEqual(c.profiles.map((p) => p.schedulerName), ['default-scheduler', 'bin-packer']);
  const packer = c.profiles[1]!;
  const sets = expandPlugins(packer.plugins, instance);
  assert.deepEqual(sets.score, [
    { name: 'NodeResourcesFit', weight: 5 },
    { name: 'TaintToleration', weight: 3 },
    { name: 'NodeAffinity', weight: 2 },
    { name: 'PodTopologySpread', weight: 2 },
    { name: 'InterPodAffinity', weight: 2 },
  ]);
  assert.deepEqual(sets.postFilter, []);
  assert.ok(sets.filter.includes('NodeResourcesFit'), 'disabling a score plugin leaves its filter');
  assert.deepEqual(packer.pluginConfig[0], { name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } });
});

test('multiPoint can disable a default everywhere and add plugins', () => {
  const c = parseConfiguration(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    multiPoint:
      disabled:
      - name: ImageLocality
      - name: InterPodAffinity
`);
  const sets = expandPlugins(c.profiles[0]!.plugins, instance);
  assert.ok(!sets.filter.includes('InterPodAffinity'));
  assert.ok(!sets.score.some((s) => s.name === 'ImageLocality' || s.name === 'InterPodAffinity'));
});

test('errors: wrong version, duplicate profile names, unknown plugins, bad weights', () => {
  assert.throws(() => parseConfiguration('apiVersion: kubescheduler.config.k8s.io/v1beta1\nkind: KubeSchedulerConfiguration\n'), ConfigError);
  assert.throws(
    () => parseConfiguration('apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: a\n- schedulerName: a\n'),
    /profiles\[1\]\.schedulerName: Duplicate value: "a"/,
  );
  assert.throws(() => parseConfiguration('apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    score:\n      enabled:\n      - name: X\n        weight: -1\n'), /weight/);
  const plugins: Plugins = { ...defaultPlugins(), filter: { enabled: [{ name: 'NoSuchPlugin' }] } };
  assert.throws(() => expandPlugins(plugins, (n) => {
    const f = registry.get(n);
    if (!f) throw new Error(`plugin "${n}" does not exist`);
    return instance(n);
  }), /plugin "NoSuchPlugin" does not exist/);
  assert.throws(() => expandPlugins({ ...defaultPlugins(), score: { enabled: [{ name: 'NodeName' }] } }, instance), /does not extend score plugin/);
});
