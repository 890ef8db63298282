import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/cycle-state.js';
import { FakeClient, fakeListers, filterEach, makeNode, makePod, nodeInfos, testFramework } from '../testing/fake.js';
import { AnnSelectedNode, VolumeBinding } from './volume-binding.js';
import type { PersistentVolume } from '../api-types.js';

const nodes = () => [makeNode('a', { labels: { zone: 'a' } }), makeNode('b', { labels: { zone: 'b' } })];
const withClaim = (claim: string) => makePod('p', { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] });
const pvIn = (name: string, zone: string, extra: Partial<NonNullable<PersistentVolume['spec']>> = {}): PersistentVolume => ({
  metadata: { name },
  spec: {
    capacity: { storage: '10Gi' },
    accessModes: ['ReadWriteOnce'],
    storageClassName: 'local',
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: [zone] }] }] } },
    ...extra,
  },
  status: { phase: 'Available' },
});

function setup() {
  const listers = fakeListers();
  listers.storageClasses.items = [
    { metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' },
    { metadata: { name: 'dynamic' }, provisioner: 'example.com/csi', volumeBindingMode: 'WaitForFirstConsumer' },
    { metadata: { name: 'immediate' }, provisioner: 'example.com/csi', volumeBindingMode: 'Immediate' },
  ];
  const nis = nodeInfos(nodes());
  const client = new FakeClient(listers);
  const fwk = testFramework(nis, { listers, client });
  return { listers, nis, client, fwk, pl: new VolumeBinding(fwk) };
}

test('a pod without claims is skipped; a missing claim is unresolvable', () => {
  const { pl, nis } = setup();
  assert.deepEqual(filterEach(pl, makePod('p'), nis), { a: 'ok', b: 'ok' });
  assert.equal(filterEach(pl, withClaim('nope'), nis).a, 'UnschedulableAndUnresolvable: persistentvolumeclaim "nope" not found');
});

test("a bound claim follows its PV's node affinity", () => {
  const { pl, nis, listers } = setup();
  listers.persistentVolumes.items = [pvIn('pv-a', 'a')];
  listers.persistentVolumeClaims.items = [{ metadata: { name: 'c', namespace: 'default' }, spec: { volumeName: 'pv-a' } }];
  assert.deepEqual(filterEach(pl, withClaim('c'), nis), { a: 'ok', b: 'UnschedulableAndUnresolvable: node(s) had volume node affinity conflict' });
  listers.persistentVolumeClaims.items = [{ metadata: { name: 'c', namespace: 'default' }, spec: { volumeName: 'gone' } }];
  assert.equal(filterEach(pl, withClaim('c'), nis).a, 'UnschedulableAndUnresolvable: node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)');
});

test('an unbound claim of an Immediate class (or none) waits', () => {
  const { pl, nis, listers } = setup();
  listers.persistentVolumeClaims.items = [{ metadata: { name: 'c', namespace: 'default' }, spec: { storageClassName: 'immediate' } }];
  assert.equal(filterEach(pl, withClaim('c'), nis).a, 'UnschedulableAndUnresolvable: pod has unbound immediate PersistentVolumeClaims');
});

test('WaitForFirstConsumer: nodes with a fitting static PV; PreBind binds it', async () => {
  const { pl, nis, listers, client } = setup();
  listers.persistentVolumes.items = [pvIn('pv-b', 'b'), pvIn('pv-small', 'a', { capacity: { storage: '1Gi' } })];
  listers.persistentVolumeClaims.items = [{ metadata: { name: 'c', namespace: 'default', uid: 'u' }, spec: { storageClassName: 'local', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } } }];
  assert.deepEqual(filterEach(pl, withClaim('c'), nis), { a: "UnschedulableAndUnresolvable: node(s) didn't find available persistent volumes to bind", b: 'ok' });
  const state = new CycleState();
  const pod = withClaim('c');
  pl.preFilter(state, pod);
  for (const ni of nis) pl.filter(state, pod, ni);
  pl.reserve(state, pod, 'b');
  assert.ok((await pl.preBind(state, pod, 'b')).isSuccess());
  assert.equal(client.pvUpdates[0]!.spec!.claimRef!.name, 'c');
  assert.equal(client.pvcUpdates[0]!.spec!.volumeName, 'pv-b');
});

test('WaitForFirstConsumer with a provisioner: the claim gets the selected node', async () => {
  const { pl, nis, listers, client } = setup();
  listers.persistentVolumeClaims.items = [{ metadata: { name: 'c', namespace: 'default' }, spec: { storageClassName: 'dynamic', resources: { requests: { storage: '1Gi' } } } }];
  assert.deepEqual(filterEach(pl, withClaim('c'), nis), { a: 'ok', b: 'ok' });
  const state = new CycleState();
  const pod = withClaim('c');
  pl.preFilter(state, pod);
  for (const ni of nis) pl.filter(state, pod, ni);
  pl.reserve(state, pod, 'a');
  const done = pl.preBind(state, pod, 'a');
  // The provisioner binds the claim; PreBind then lets the pod bind.
  await new Promise((r) => setImmediate(r));
  assert.equal(client.pvcUpdates[0]!.metadata!.annotations![AnnSelectedNode], 'a');
  listers.persistentVolumeClaims.items = [{ ...client.pvcUpdates[0]!, spec: { ...client.pvcUpdates[0]!.spec, volumeName: 'pvc-123' } }];
  const fake = (pl as unknown as { handle: { clock: { step(ms: number): void } } }).handle.clock;
  fake.step(1000);
  assert.ok((await done).isSuccess());
});
