import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expand, makeEnvironment, expandCommand, ContainerConfigError, formatMap } from './env.js';
import type { Pod } from '../api/types.js';
import type { ObjectSource } from './object-source.js';

test('expand follows upstream: known refs replaced, unknown kept, $$ escapes', () => {
  const m = new Map([['A', 'x'], ['B', 'y']]);
  const l = (n: string) => m.get(n);
  assert.equal(expand('$(A)-$(B)', l), 'x-y');
  assert.equal(expand('$(C)', l), '$(C)');
  assert.equal(expand('$$(A)', l), '$(A)');
  assert.equal(expand('a$b$', l), 'a$b$');
  assert.equal(expand('$(A', l), '$(A');
});

const objects: ObjectSource = {
  configMap: async (_ns, name) => (name === 'cm' ? { data: { color: 'blue', 'bad key': 'x', SIZE: '3' } } : null),
  secret: async (_ns, name) => (name === 's' ? { data: { password: Buffer.from('hunter2').toString('base64') } } : null),
  serviceAccountToken: async () => null,
};

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'web', tier: 'fe' } },
  spec: { nodeName: 'n1', serviceAccountName: 'default', containers: [{ name: 'c', image: 'busybox', resources: { requests: { memory: '64Mi' }, limits: { cpu: '500m' } } }] },
};
const ctx = { pod, hostIP: '192.0.2.1', podIPs: ['10.1.0.5'], node: { cpuMilli: 2000, memoryBytes: 8 << 30, ephemeralStorageBytes: 1 << 30 }, objects };

test('env: envFrom, then env in order, with refs of every kind', async () => {
  const invalid: string[] = [];
  const env = await makeEnvironment(
    {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
      env: [
        { name: 'CM_color', value: 'overridden-$(CM_SIZE)' },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } },
        { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
        { name: 'MEM_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'password' } } },
        { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cm', key: 'color' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'missing', key: 'x', optional: true } } },
        { name: 'MSG', value: 'pod $(POD) on $(NODE)' },
      ],
    },
    { ...ctx, onInvalidKeys: (_s, k) => invalid.push(...k) },
  );
  const m = Object.fromEntries(env);
  assert.deepEqual(invalid, ['CM_bad key']);
  assert.equal(m.CM_color, 'overridden-3');
  assert.equal(m.POD, 'p');
  assert.equal(m.APP, 'web');
  assert.equal(m.IP, '10.1.0.5');
  assert.equal(m.HOST, '192.0.2.1');
  assert.equal(m.NODE, 'n1');
  assert.equal(m.MEM_MI, '64');
  assert.equal(m.CPU_LIMIT, '500');
  assert.equal(m.MEM_LIMIT, String(8 << 30));
  assert.equal(m.PW, 'hunter2');
  assert.equal(m.COLOR, 'blue');
  assert.ok(!('OPT' in m));
  assert.equal(m.MSG, 'pod p on n1');
  assert.deepEqual(expandCommand(['echo', '$(POD)', '$$(POD)'], env), ['echo', 'p', '$(POD)']);
});

test('env: missing references fail with upstream messages', async () => {
  await assert.rejects(makeEnvironment({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }, ctx), (e: unknown) => e instanceof ContainerConfigError && e.message === 'configmap "nope" not found');
  await assert.rejects(makeEnvironment({ name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }, ctx), /couldn't find key k in Secret ns\/s/);
  await assert.rejects(makeEnvironment({ name: 'c', envFrom: [{ secretRef: { name: 'gone' } }] }, ctx), /secret "gone" not found/);
});

test('formatMap writes sorted k="v" lines', () => {
  assert.equal(formatMap({ b: '2', a: 'x"y' }), 'a="x\\"y"\nb="2"');
});
