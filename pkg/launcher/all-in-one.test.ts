import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupOf, runGroup } from './all-in-one.js';
import { componentOf, footprintOf } from '../../bench/footprint.js';

test('groupOf: control-plane components share keelson-server, node components their node agent, the rest run alone', () => {
  for (const n of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'cluster-dns', 'route-controller-host']) assert.equal(groupOf(n), 'keelson-server', n);
  assert.equal(groupOf('kubelet-node-1'), 'keelson-agent-node-1');
  assert.equal(groupOf('kube-proxy-node-2'), 'keelson-agent-node-2');
  assert.equal(groupOf('route-controller-node-3'), 'keelson-agent-node-3');
  for (const n of ['etcd', 'containerd-node-1', 'keelson-server']) assert.equal(groupOf(n), undefined, n);
});

test('runGroup runs each spec once, in file order, with its flags as process.argv, and returns after the signal', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-aio-unit-'));
  try {
    const out = path.join(dir, 'argv.log');
    const mains = ['a', 'b'].map((n) => {
      const f = path.join(dir, `${n}.mjs`);
      fs.writeFileSync(f, `import fs from 'node:fs';\nfs.appendFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(1)) + '\\n');\n`);
      return f;
    });
    const specs = path.join(dir, 'specs');
    fs.mkdirSync(specs);
    fs.writeFileSync(path.join(specs, '000-a.json'), JSON.stringify({ name: 'a', args: [mains[0], '--x=1'] }));
    const ac = new AbortController();
    const argvBefore = process.argv;
    const done = runGroup(specs, ac.signal, () => undefined, 0);
    // A spec written later is picked up too.
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(path.join(specs, '001-b.json'), JSON.stringify({ name: 'b', args: [mains[1], '--y', 'two'] }));
    const deadline = Date.now() + 10_000;
    while ((fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n').length : 0) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await done;
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      [mains[0], '--x=1'],
      [mains[1], '--y', 'two'],
    ]);
    assert.equal(process.argv, argvBefore);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('footprint sums each process once: a group pid recorded under several names counts for the group', () => {
  const rows = [
    { name: 'etcd', pid: 1 },
    { name: 'kube-apiserver', pid: 2 },
    { name: 'kube-scheduler', pid: 2 },
    { name: 'keelson-server', pid: 2 },
    { name: 'kubelet-node-1', pid: 3 },
    { name: 'keelson-agent-node-1', pid: 3 },
    { name: 'containerd-node-1', pid: 4 },
    { name: 'kube-proxy-node-1' },
  ];
  const rss: Record<number, number> = { 1: 1000, 2: 100, 3: 50, 4: 1000 };
  const r = footprintOf(rows, (pid) => rss[pid] ?? NaN);
  assert.deepEqual(r.perComponent, { server: 100, agent: 50 });
  assert.equal(r.sum, 150);
  assert.equal(componentOf('route-controller-host'), 'route_controller');
  assert.equal(componentOf('kube-proxy-node-12'), 'kube_proxy');
  assert.equal(componentOf('containerd-node-1'), undefined);
});
