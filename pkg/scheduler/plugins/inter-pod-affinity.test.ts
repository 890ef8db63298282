import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeListers, filterEach, makeNode, makePod, nodeInfos, scoreEach, testHandle } from '../testing/fake.js';
import { InterPodAffinity } from './inter-pod-affinity.js';
import type { Pod } from '../api-types.js';

const zones = () => [makeNode('a1', { labels: { zone: 'a' } }), makeNode('a2', { labels: { zone: 'a' } }), makeNode('b1', { labels: { zone: 'b' } }), makeNode('nozone')];
const term = (app: string, topologyKey = 'zone', extra: object = {}) => ({ labelSelector: { matchLabels: { app } }, topologyKey, ...extra });
const ok = (r: Record<string, string>) => Object.keys(r).filter((k) => r[k] === 'ok');

function run(pod: Pod, existing: Pod[], listers = fakeListers()) {
  const nis = nodeInfos(zones(), existing);
  return filterEach(new InterPodAffinity(testHandle(nis, listers)), pod, nis);
}

test('required affinity: only nodes in a zone with a matching pod, and carrying the key', () => {
  const pod = makePod('web', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db')] } } });
  const r = run(pod, [makePod('db', { nodeName: 'a2', labels: { app: 'db' } })]);
  assert.deepEqual(ok(r), ['a1', 'a2']);
  assert.equal(r.b1, "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules");
  assert.equal(r.nozone, "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules");
});

test('required affinity to itself: the first pod of the group may go anywhere with the key', () => {
  const pod = makePod('web-0', { labels: { app: 'web' }, affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web')] } } });
  assert.deepEqual(ok(run(pod, [])), ['a1', 'a2', 'b1']);
});

test('required anti-affinity by hostname spreads replicas', () => {
  const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', 'kubernetes.io/hostname')] } };
  const pod = makePod('web-1', { labels: { app: 'web' }, affinity: anti });
  const r = run(pod, [makePod('web-0', { nodeName: 'a1', labels: { app: 'web' }, affinity: anti })]);
  assert.deepEqual(ok(r), ['a2', 'b1', 'nozone']);
  assert.equal(r.a1, "Unschedulable: node(s) didn't match pod anti-affinity rules");
});

test("existing pods' anti-affinity keeps the new pod out of their domain", () => {
  const guard = makePod('guard', { nodeName: 'b1', labels: { app: 'guard' }, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('noisy')] } } });
  const r = run(makePod('n', { labels: { app: 'noisy' } }), [guard]);
  assert.equal(r.b1, "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules");
  assert.deepEqual(ok(r), ['a1', 'a2', 'nozone']);
  assert.deepEqual(ok(run(makePod('q', { labels: { app: 'quiet' } }), [guard])), ['a1', 'a2', 'b1', 'nozone']);
});

test('namespaces and namespaceSelector decide whose pods count', () => {
  const listers = fakeListers();
  listers.namespaces.items = [
    { metadata: { name: 'default', labels: {} } },
    { metadata: { name: 'team-a', labels: { team: 'a' } } },
  ];
  const db = makePod('db', { namespace: 'team-a', nodeName: 'b1', labels: { app: 'db' } });
  const same = makePod('web', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db')] } } });
  assert.deepEqual(ok(run(same, [db], listers)), [], 'only its own namespace by default');
  const byName = makePod('web', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', 'zone', { namespaces: ['team-a'] })] } } });
  assert.deepEqual(ok(run(byName, [db], listers)), ['b1']);
  const bySelector = makePod('web', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', 'zone', { namespaceSelector: { matchLabels: { team: 'a' } } })] } } });
  assert.deepEqual(ok(run(bySelector, [db], listers)), ['b1']);
  const all = makePod('web', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', 'zone', { namespaceSelector: {} })] } } });
  assert.deepEqual(ok(run(all, [db], listers)), ['b1']);
});

test('preferred affinity and anti-affinity score by zone, min–max normalized', () => {
  const existing = [makePod('db', { nodeName: 'a1', labels: { app: 'db' } }), makePod('cache', { nodeName: 'b1', labels: { app: 'cache' } })];
  const nis = nodeInfos(zones(), existing);
  const pod = makePod('web', {
    affinity: {
      podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('db') }] },
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term('cache') }] },
    },
  });
  // raw: zone a +10, zone b −5, no zone 0 → normalized over [−5, 10].
  assert.deepEqual(scoreEach(new InterPodAffinity(testHandle(nis)), pod, nis), { a1: 100, a2: 100, b1: 0, nozone: 33 });
});

test("existing pods' required affinity to the new pod scores with hardPodAffinityWeight", () => {
  const fan = makePod('fan', { nodeName: 'b1', affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('star')] } } });
  const nis = nodeInfos(zones(), [fan]);
  assert.deepEqual(scoreEach(new InterPodAffinity(testHandle(nis)), makePod('s', { labels: { app: 'star' } }), nis), { a1: 0, a2: 0, b1: 100, nozone: 0 });
  assert.deepEqual(scoreEach(new InterPodAffinity(testHandle(nis), { hardPodAffinityWeight: 0 }), makePod('s', { labels: { app: 'star' } }), nis), { a1: 0, a2: 0, b1: 0, nozone: 0 });
});
