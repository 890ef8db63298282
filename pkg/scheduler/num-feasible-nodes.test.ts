import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfiguration, defaultProfile } from './config/defaults.js';
import type { KubeSchedulerConfiguration } from './config/types.js';
import { CycleState } from './framework/cycle-state.js';
import { makeNode, makePod, testScheduler } from './testing/fake.js';

function config(global: number, profiles: { name: string; percentage?: number; noScore?: boolean }[] = [{ name: 'default-scheduler' }]): KubeSchedulerConfiguration {
  const c = defaultConfiguration();
  c.percentageOfNodesToScore = global;
  c.profiles = profiles.map((p) => {
    const prof = { ...defaultProfile(p.name), percentageOfNodesToScore: p.percentage };
    if (p.noScore) prof.plugins = { ...prof.plugins, score: { disabled: [{ name: '*' }] } };
    return prof;
  });
  return c;
}

// Upstream TestNumFeasibleNodesToFind's cases (schedule_one_test.go), plus the floors.
test('numFeasibleNodesToFind follows upstream: all nodes under 100, adaptive share, 100 at least', () => {
  const cases: { name: string; global: number; profile?: number; nodes: number; want: number }[] = [
    { name: 'unset, 10 nodes', global: 0, nodes: 10, want: 10 },
    { name: '40%, 10 nodes', global: 40, nodes: 10, want: 10 },
    { name: 'unset, 1000 nodes (50 - 1000/125 = 42%)', global: 0, nodes: 1000, want: 420 },
    { name: '40%, 1000 nodes', global: 40, nodes: 1000, want: 400 },
    { name: 'unset, 6000 nodes (floor 5%)', global: 0, nodes: 6000, want: 300 },
    { name: '40%, 6000 nodes', global: 40, nodes: 6000, want: 2400 },
    { name: 'profile 40% over unset global, 1000 nodes', global: 0, profile: 40, nodes: 1000, want: 400 },
    { name: 'profile 70% over global 40%, 1000 nodes', global: 40, profile: 70, nodes: 1000, want: 700 },
    { name: 'profile 0 (adaptive) over global 40%, 1000 nodes', global: 40, profile: 0, nodes: 1000, want: 420 },
    { name: 'profile 40%, 6000 nodes', global: 0, profile: 40, nodes: 6000, want: 2400 },
    { name: '5% of 1000 is under the floor of 100', global: 5, nodes: 1000, want: 100 },
    { name: 'exactly 100 nodes, adaptive 50% is raised to 100', global: 0, nodes: 100, want: 100 },
    { name: '99 nodes: all of them', global: 1, nodes: 99, want: 99 },
    { name: '100%', global: 100, nodes: 5000, want: 5000 },
  ];
  for (const c of cases) {
    const t = testScheduler({ config: config(c.global) });
    assert.equal(t.scheduler.numFeasibleNodesToFind(c.profile, c.nodes), c.want, c.name);
  }
});

function addNodes(t: ReturnType<typeof testScheduler>, n: number, taintedEvery = 0) {
  for (let i = 0; i < n; i++) {
    const taints = taintedEvery && i % taintedEvery === 0 ? [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' as const }] : undefined;
    t.scheduler.onNodeAdd(makeNode(`n${String(i).padStart(4, '0')}`, { taints }));
  }
}

test('a cycle stops at the share of feasible nodes, and the next one starts where it stopped', () => {
  const t = testScheduler({ config: config(50) });
  addNodes(t, 300);
  const fwk = t.scheduler.profiles.get('default-scheduler')!;
  const r1 = t.scheduler.schedulePod(fwk, new CycleState(), makePod('a', { uid: 'a' }));
  assert.equal(r1.feasibleNodes, 150);
  assert.equal(r1.evaluatedNodes, 150);
  assert.equal(t.scheduler.nextStartIndex, 150);
  const r2 = t.scheduler.schedulePod(fwk, new CycleState(), makePod('b', { uid: 'b' }));
  assert.equal(r2.feasibleNodes, 150);
  assert.equal(t.scheduler.nextStartIndex, 0, 'wrapped around');
});

test('nodes filtered out count as processed for the next start index', () => {
  const t = testScheduler({ config: config(50) });
  // Every third node is tainted: to find 150 feasible nodes a cycle looks at 225 (75 rejected).
  addNodes(t, 300, 3);
  const fwk = t.scheduler.profiles.get('default-scheduler')!;
  const r = t.scheduler.schedulePod(fwk, new CycleState(), makePod('a', { uid: 'a' }));
  assert.equal(r.feasibleNodes, 150);
  assert.equal(r.evaluatedNodes, 225, 'nodes 0..224: 150 feasible and the 75 tainted ones among them');
  assert.equal(t.scheduler.nextStartIndex, 225);
  // The next cycle starts at node 225 and wraps around: 225..299 (50 feasible), then 0..149 (100 more).
  const r2 = t.scheduler.schedulePod(fwk, new CycleState(), makePod('b', { uid: 'b' }));
  assert.equal(r2.feasibleNodes, 150);
  assert.equal(r2.evaluatedNodes, 75 + 150);
  assert.equal(t.scheduler.nextStartIndex, 150);
});

test('each profile uses its own percentage, else the global one; adaptive when 0', () => {
  const t = testScheduler({ config: config(0, [{ name: 'default-scheduler' }, { name: 'tenth', percentage: 10 }, { name: 'global', percentage: undefined }]) });
  addNodes(t, 1000);
  const state = () => new CycleState();
  assert.equal(t.scheduler.schedulePod(t.scheduler.profiles.get('default-scheduler')!, state(), makePod('a', { uid: 'a' })).evaluatedNodes, 420);
  assert.equal(t.scheduler.schedulePod(t.scheduler.profiles.get('tenth')!, state(), makePod('b', { uid: 'b' })).evaluatedNodes, 100);
  assert.equal(t.scheduler.schedulePod(t.scheduler.profiles.get('global')!, state(), makePod('c', { uid: 'c' })).evaluatedNodes, 420);
  assert.equal(t.scheduler.nextStartIndex, (420 + 100 + 420) % 1000);
});

test('without Score plugins the first feasible node is taken', () => {
  const t = testScheduler({ config: config(0, [{ name: 'default-scheduler', noScore: true }]) });
  addNodes(t, 200, 2);
  const fwk = t.scheduler.profiles.get('default-scheduler')!;
  assert.equal(fwk.hasScorePlugins(), false);
  const r = t.scheduler.schedulePod(fwk, new CycleState(), makePod('a', { uid: 'a' }));
  // Node 0 is tainted, node 1 fits.
  assert.equal(r.feasibleNodes, 1);
  assert.equal(r.suggestedHost, 'n0001');
  assert.equal(t.scheduler.nextStartIndex, 2);
});
