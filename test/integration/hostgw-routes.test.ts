/** The host-gw route controller against a real apiserver and the kernel's routing table in a private network namespace. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startEtcd } from '../harness/etcd.js';
import { startApiserver } from '../harness/apiserver.js';
import { req } from '../harness/client.js';
import { runRouteController, iprouteTable } from '../../pkg/hostgw/route-controller.js';
import { newLogger } from '../../pkg/log/logger.js';

const ns = `keelson-rt-${process.pid}`;

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('routes follow nodes as they come, change and go', async () => {
  const etcd = await startEtcd();
  const api = await startApiserver(etcd.endpoint);
  execFileSync('ip', ['netns', 'add', ns]);
  const ac = new AbortController();
  let done: Promise<void> | undefined;
  try {
    // A veth pair inside the namespace gives it a connected 10.200.0.0/24 to route through.
    execFileSync('ip', ['-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '10.200.0.1/24', 'dev', 'v0']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'v0', 'up']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'v1', 'up']);
    const table = iprouteTable(ns);
    const mkNode = (name: string, cidr: string, ip: string) =>
      req(api.url, 'POST', '/api/v1/nodes', { metadata: { name }, spec: { podCIDR: cidr, podCIDRs: [cidr] }, status: { addresses: [{ type: 'InternalIP', address: ip }] } });
    await mkNode('n1', '10.244.1.0/24', '10.200.0.11');
    done = runRouteController({ kubeconfig: api.kubeconfig, addresses: ['10.200.0.1'], logger: newLogger('test', 'silent'), table }, ac.signal);
    await until(async () => (await table.list()).some((r) => r.dst === '10.244.1.0/24' && r.via === '10.200.0.11'), 'the route to n1');
    await mkNode('n2', '10.244.2.0/24', '10.200.0.12');
    await until(async () => (await table.list()).length === 2, 'the route to n2');
    await req(api.url, 'DELETE', '/api/v1/nodes/n1');
    await until(async () => (await table.list()).every((r) => r.dst !== '10.244.1.0/24'), 'the route to n1 to go');
    assert.deepEqual(await table.list(), [{ dst: '10.244.2.0/24', via: '10.200.0.12' }]);
    // A route someone else made is left alone.
    execFileSync('ip', ['-n', ns, 'route', 'add', '10.250.0.0/24', 'via', '10.200.0.99']);
    await mkNode('n3', '10.244.3.0/24', '10.200.0.13');
    await until(async () => (await table.list()).length === 2, 'the route to n3');
    const all = execFileSync('ip', ['-n', ns, 'route', 'show']).toString();
    assert.match(all, /10\.250\.0\.0\/24 via 10\.200\.0\.99/);
  } finally {
    ac.abort();
    await done;
    execFileSync('ip', ['netns', 'del', ns]);
    await api.stop();
    await etcd.stop();
  }
});
