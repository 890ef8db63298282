import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, settle } from '../../controller/framework/clock.js';
import { defaultPlugins } from '../config/defaults.js';
import { inTreeRegistry } from '../plugins/registry.js';
import { FakeClient, fakeListers, makeNode, makePod, nodeInfos } from '../testing/fake.js';
import { Snapshot } from '../cache/snapshot.js';
import { CycleState } from './cycle-state.js';
import type { PermitPlugin, Plugin, PluginFactory, ReservePlugin } from './interface.js';
import { Framework } from './runtime.js';
import { Status } from './status.js';

class WaitingPermit implements PermitPlugin {
  readonly name = 'WaitingPermit';
  permit() {
    return { status: new Status('Wait'), timeoutMs: 5_000 };
  }
}

class RecordingReserve implements ReservePlugin {
  readonly name = 'RecordingReserve';
  log: string[] = [];
  constructor(private readonly fail: boolean) {}
  reserve(_s: CycleState, _p: unknown, node: string): Status {
    this.log.push(`reserve ${node}`);
    return this.fail ? Status.unschedulable('no room in the reservation book') : Status.success();
  }
  unreserve(_s: CycleState, _p: unknown, node: string): void {
    this.log.push(`unreserve ${node}`);
  }
}

function framework(extra: [string, Plugin][], point: 'permit' | 'reserve', clock = new FakeClock()) {
  const registry = inTreeRegistry();
  for (const [name, p] of extra) registry.set(name, (() => p) as PluginFactory);
  const plugins = { ...defaultPlugins(), [point]: { enabled: extra.map(([name]) => ({ name })) } };
  const snapshot = Snapshot.of(nodeInfos([makeNode('n1')]));
  return new Framework({
    profileName: 'default-scheduler',
    plugins,
    pluginArgs: new Map(),
    registry,
    listers: fakeListers(),
    client: new FakeClient(),
    nominator: { nominatedPodsForNode: () => [] },
    clock,
    snapshot: () => snapshot,
  });
}

test('Permit: a waiting pod binds once allowed', async () => {
  const f = framework([['WaitingPermit', new WaitingPermit()]], 'permit');
  const pod = makePod('p');
  assert.equal(f.runPermitPlugins(new CycleState(), pod, 'n1').code, 'Wait');
  const result = f.waitOnPermit(pod);
  f.getWaitingPod(pod.metadata!.uid!)!.allow('WaitingPermit');
  assert.ok((await result).isSuccess());
});

test('Permit: a waiting pod is rejected when its timeout passes', async () => {
  const clock = new FakeClock();
  const f = framework([['WaitingPermit', new WaitingPermit()]], 'permit', clock);
  const pod = makePod('p');
  f.runPermitPlugins(new CycleState(), pod, 'n1');
  const result = f.waitOnPermit(pod);
  clock.step(5_001);
  await settle();
  const s = await result;
  assert.equal(s.code, 'Unschedulable');
  assert.equal(s.message(), 'rejected due to timeout after waiting 5s at plugin WaitingPermit');
});

test('Reserve: a failure is reported with the plugin name; unreserve runs in reverse order', () => {
  const ok = new RecordingReserve(false);
  const bad = new RecordingReserve(true);
  Object.defineProperty(bad, 'name', { value: 'FailingReserve' });
  const f = framework([['RecordingReserve', ok], ['FailingReserve', bad]], 'reserve');
  const state = new CycleState();
  const pod = makePod('p');
  const s = f.runReservePluginsReserve(state, pod, 'n1');
  assert.equal(s.code, 'Unschedulable');
  assert.equal(s.plugin, 'FailingReserve');
  f.runReservePluginsUnreserve(state, pod, 'n1');
  assert.deepEqual(ok.log, ['reserve n1', 'unreserve n1']);
});

test('score: plugin scores are normalized, weighted and summed', () => {
  const f = framework([], 'reserve');
  const nis = nodeInfos([makeNode('a', { cpu: '4' }), makeNode('b', { cpu: '4' })], [makePod('e', { nodeName: 'b', cpu: '2' })]);
  const state = new CycleState();
  const pod = makePod('p', { cpu: '1' });
  assert.ok(f.runPreScorePlugins(state, pod, nis).isSuccess());
  const r = f.runScorePlugins(state, pod, nis);
  assert.ok(!(r instanceof Status));
  const { totals, byPlugin } = r as Exclude<typeof r, Status>;
  const expected = (name: string) => [...byPlugin].reduce((sum, [plugin, scores]) => sum + scores.find((s) => s.name === name)!.score * f.scorePlugins.find((p) => p.plugin.name === plugin)!.weight, 0);
  assert.equal(totals[0]!.score, expected('a'));
  assert.ok(totals[0]!.score > totals[1]!.score, 'the emptier node wins under LeastAllocated');
});
