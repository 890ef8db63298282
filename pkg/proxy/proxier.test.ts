import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { EndpointSlice, Service } from '../api/types.js';
import { FakeClock, settle } from '../controller/framework/clock.js';
import { newMetricsRegistry } from '../metrics/registry.js';
import { Iptables, type Exec } from './iptables.js';
import { newProxyMetrics } from './metrics.js';
import { Proxier } from './proxier.js';
import { BoundedFrequencyRunner } from './sync-runner.js';
import { cleanupLeftovers } from './cleanup.js';

/** A pretend iptables: chains per table, jump rules as text, and every restore input. */
class FakeIptables {
  chains: Record<string, Set<string>> = { filter: new Set(['INPUT', 'FORWARD', 'OUTPUT']), nat: new Set(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']), mangle: new Set(['PREROUTING']) };
  rules = new Set<string>();
  restores: string[] = [];
  failRestore = false;
  commands: string[] = [];

  exec: Exec = async (cmd, args, stdin) => {
    this.commands.push([cmd, ...args].join(' '));
    const fail = (msg: string) => Promise.reject(Object.assign(new Error(msg), { stderr: msg }));
    if (cmd === 'iptables-save') {
      const t = args[1]!;
      return { stdout: `*${t}\n${[...this.chains[t]!].map((c) => `:${c} - [0:0]`).join('\n')}\nCOMMIT\n`, stderr: '' };
    }
    if (cmd === 'iptables-restore') {
      if (this.failRestore) return fail('iptables-restore: line 3 failed');
      this.restores.push(stdin ?? '');
      let t = '';
      for (const l of (stdin ?? '').split('\n')) {
        if (l.startsWith('*')) t = l.slice(1);
        else if (l.startsWith(':')) this.chains[t]!.add(l.slice(1).split(' ')[0]!);
        else if (l.startsWith('-X ')) this.chains[t]!.delete(l.slice(3));
      }
      return { stdout: '', stderr: '' };
    }
    const a = args.slice(2); // drop -w 5
    const t = a[1]!;
    const op = a[2]!;
    const chain = a[3]!;
    const rule = `${t} ${chain} ${a.slice(4).join(' ')}`;
    switch (op) {
      case '-N':
        if (this.chains[t]!.has(chain)) return fail('Chain already exists');
        this.chains[t]!.add(chain);
        break;
      case '-S':
      case '-F':
        if (!this.chains[t]!.has(chain)) return fail('No chain');
        break;
      case '-X':
        this.chains[t]!.delete(chain);
        break;
      case '-C':
        if (!this.rules.has(rule)) return fail('Bad rule');
        break;
      case '-I':
        this.rules.add(rule);
        break;
      case '-D':
        this.rules.delete(rule);
        break;
    }
    return { stdout: '', stderr: '' };
  };
}

const web: Service = { metadata: { namespace: 'ns', name: 'web' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80, protocol: 'TCP' }] } } as Service;
const webSlice = (ips: string[], trigger?: string): EndpointSlice =>
  ({
    metadata: { namespace: 'ns', name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' }, annotations: trigger ? { 'endpoints.kubernetes.io/last-change-trigger-time': trigger } : {} },
    addressType: 'IPv4',
    ports: [{ port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  }) as EndpointSlice;

function setup() {
  const fake = new FakeIptables();
  const clock = new FakeClock();
  const registry = newMetricsRegistry('test');
  const metrics = newProxyMetrics(registry);
  const state = { services: [web], slices: [webSlice(['10.244.1.5'])] };
  const proxier = new Proxier({
    iptables: new Iptables(fake.exec),
    clock,
    logger: pino({ level: 'silent' }),
    metrics,
    services: { list: () => state.services },
    endpointSlices: { list: () => state.slices },
    nodeName: 'node-a',
    clusterCIDR: '10.244.0.0/16',
    masqueradeAll: false,
    masqueradeBit: 14,
    nodePortAddresses: [],
    localhostNodePorts: true,
    syncPeriodMs: 30_000,
    minSyncPeriodMs: 1_000,
    nodeIPs: () => ['10.0.0.1'],
  });
  return { fake, clock, registry, proxier, state };
}

async function step(clock: FakeClock, ms: number) {
  clock.step(ms);
  await settle(20);
}

test('nothing is written until both informers synced; then jumps, canaries and one restore', async () => {
  const { fake, clock, proxier } = setup();
  proxier.onServicesSynced();
  await step(clock, 5_000);
  assert.equal(fake.restores.length, 0);
  proxier.onEndpointSlicesSynced();
  await step(clock, 0);
  assert.equal(fake.restores.length, 1);
  assert.ok(fake.rules.has('nat PREROUTING -m comment --comment kubernetes service portals -j KUBE-SERVICES'));
  assert.ok(fake.rules.has('nat POSTROUTING -m comment --comment kubernetes postrouting rules -j KUBE-POSTROUTING'));
  assert.ok(fake.rules.has('filter OUTPUT -m conntrack --ctstate NEW -m comment --comment kubernetes service portals -j KUBE-SERVICES'));
  assert.ok(fake.rules.has('filter INPUT -j KUBE-FIREWALL'));
  for (const t of ['mangle', 'nat', 'filter']) assert.ok(fake.chains[t]!.has('KUBE-PROXY-CANARY'), t);
  assert.match(fake.restores[0]!, /--to-destination 10\.244\.1\.5:8080/);
  await proxier.stop();
});

test('events coalesce within the min sync period; an unchanged state does not call iptables-restore', async () => {
  const { fake, clock, proxier, state, registry } = setup();
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  await step(clock, 0);
  assert.equal(fake.restores.length, 1);

  // Unchanged: a sync runs, no restore.
  proxier.onServiceChange();
  await step(clock, 1_000);
  assert.deepEqual(proxier.stats(), { syncs: 2, restores: 1 });

  // Three changes in a burst: one sync, one restore, with the new endpoints.
  state.slices = [webSlice(['10.244.1.5', '10.244.1.6'])];
  proxier.onEndpointSliceChange(state.slices[0]);
  await step(clock, 100);
  proxier.onEndpointSliceChange(state.slices[0]);
  proxier.onServiceChange();
  await step(clock, 100);
  assert.equal(fake.restores.length, 1, 'not before the min sync period');
  await step(clock, 1_000);
  assert.deepEqual(proxier.stats(), { syncs: 3, restores: 2 });
  assert.match(fake.restores[1]!, /10\.244\.1\.6:8080/);

  // The periodic sync runs after the sync period, without a restore.
  await step(clock, 30_000);
  assert.deepEqual(proxier.stats(), { syncs: 4, restores: 2 });
  const text = await registry.metrics();
  assert.match(text, /kubeproxy_sync_proxy_rules_duration_seconds_count 4/);
  assert.match(text, /kubeproxy_sync_proxy_rules_last_timestamp_seconds \d+/);
  assert.match(text, /kubeproxy_sync_proxy_rules_endpoint_changes_total 2/);
  assert.match(text, /kubeproxy_sync_proxy_rules_iptables_total\{table="nat"\} \d+/);
  await proxier.stop();
});

test('stale service chains from before are deleted; a flushed table (canary gone) forces a full resync', async () => {
  const { fake, clock, proxier } = setup();
  fake.chains.nat!.add('KUBE-SVC-LEFTOVERFROMBEFOR');
  fake.chains.nat!.add('DOCKER');
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  await step(clock, 0);
  assert.match(fake.restores[0]!, /^-X KUBE-SVC-LEFTOVERFROMBEFOR$/m);
  assert.ok(!fake.chains.nat!.has('KUBE-SVC-LEFTOVERFROMBEFOR'));
  assert.ok(fake.chains.nat!.has('DOCKER'));

  // Someone runs `iptables -t nat -F; iptables -t nat -X`.
  for (const c of [...fake.chains.nat!]) if (c.startsWith('KUBE-')) fake.chains.nat!.delete(c);
  for (const r of [...fake.rules]) if (r.startsWith('nat ')) fake.rules.delete(r);
  await step(clock, 30_000);
  assert.equal(fake.restores.length, 2);
  assert.ok(fake.chains.nat!.has('KUBE-PROXY-CANARY'));
  assert.ok(fake.rules.has('nat OUTPUT -m comment --comment kubernetes service portals -j KUBE-SERVICES'));
  await proxier.stop();
});

test('a failed restore is counted, makes /healthz unhealthy after two sync periods, and is retried', async () => {
  const { fake, clock, proxier, registry } = setup();
  fake.failRestore = true;
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  await step(clock, 0);
  assert.match(await registry.metrics(), /kubeproxy_sync_proxy_rules_iptables_restore_failures_total 1/);
  assert.equal(proxier.health().healthy, true);
  await step(clock, 30_000);
  assert.match(await registry.metrics(), /kubeproxy_sync_proxy_rules_iptables_restore_failures_total 2/);
  await step(clock, 30_000);
  assert.equal(proxier.health().healthy, false);
  fake.failRestore = false;
  await step(clock, 30_000);
  assert.equal(fake.restores.length, 1);
  assert.equal(proxier.health().healthy, true);
  await proxier.stop();
});

test('network programming latency is observed from the slice trigger time', async () => {
  const { clock, proxier, state, registry } = setup();
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  await step(clock, 0);
  await step(clock, 500);
  // The change happened 200ms ago; the sync may run 1s after the last one, 500ms from now.
  state.slices = [webSlice(['10.244.1.7'], new Date(clock.now() - 200).toISOString())];
  proxier.onEndpointSliceChange(state.slices[0]);
  await step(clock, 500);
  const text = await registry.metrics();
  assert.match(text, /kubeproxy_network_programming_duration_seconds_count 1/);
  assert.match(text, /kubeproxy_network_programming_duration_seconds_bucket\{le="0.5"\} 0/);
  assert.match(text, /kubeproxy_network_programming_duration_seconds_bucket\{le="1"\} 1/);
  await proxier.stop();
});

test('cleanup removes the jumps and every KUBE chain, and nothing else', async () => {
  const { fake, clock, proxier } = setup();
  fake.chains.nat!.add('DOCKER');
  fake.chains.filter!.add('CNI-FORWARD');
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  await step(clock, 0);
  await proxier.stop();
  assert.ok([...fake.chains.nat!].some((c) => c.startsWith('KUBE-SEP-')));
  const failed = await cleanupLeftovers(new Iptables(fake.exec), pino({ level: 'silent' }));
  assert.equal(failed, false);
  for (const t of ['nat', 'filter', 'mangle']) assert.deepEqual([...fake.chains[t]!].filter((c) => c.startsWith('KUBE-')), [], t);
  assert.equal(fake.rules.size, 0);
  assert.ok(fake.chains.nat!.has('DOCKER') && fake.chains.filter!.has('CNI-FORWARD'));
});

test('BoundedFrequencyRunner: min interval, coalescing, periodic runs, retry', async () => {
  const clock = new FakeClock();
  const runs: number[] = [];
  let release: (() => void) | undefined;
  const r = new BoundedFrequencyRunner(
    () => {
      runs.push(clock.now() - start);
      return new Promise<void>((res) => (release = res));
    },
    1_000,
    10_000,
    clock,
  );
  const start = clock.now();
  r.run();
  await step(clock, 0);
  assert.deepEqual(runs, [0]);
  r.run(); // while running: folds into one rerun after it finishes
  r.run();
  release!();
  await settle(10);
  await step(clock, 999);
  assert.deepEqual(runs, [0]);
  await step(clock, 1);
  assert.deepEqual(runs, [0, 1000]);
  release!();
  await settle(10);
  await step(clock, 10_000);
  assert.deepEqual(runs, [0, 1000, 11000], 'periodic run after the max interval');
  release!();
  await settle(10);
  r.retryAfter(3_000);
  await step(clock, 3_000);
  assert.deepEqual(runs, [0, 1000, 11000, 14000]);
  release!();
  await r.stop();
  await step(clock, 60_000);
  assert.equal(runs.length, 4);
});
