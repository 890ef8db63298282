import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CniNetwork, resultIPs, podCniArgs } from './network.js';
import { parseNetworkConfig, loadFirstNetwork } from './config.js';
import { CniError } from './exec.js';

/** A fake plugin: logs its command, env and stdin, and answers a result naming itself. */
function fakePlugins(dir: string, log: string): void {
  const script = (name: string, fail = false) => `#!/bin/sh
in=$(cat)
printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "${name}" "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_ARGS" "$in" >> ${log}
${fail ? `if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.0.0","code":11,"msg":"no addresses left","details":"range full"}'; exit 1; fi` : ''}
if [ "$CNI_COMMAND" = ADD ]; then
  echo '{"cniVersion":"1.0.0","interfaces":[{"name":"cni0"},{"name":"eth0","sandbox":"'"$CNI_NETNS"'"}],"ips":[{"interface":0,"address":"10.9.0.1/24"},{"interface":1,"address":"10.9.0.7/24","gateway":"10.9.0.1"}],"by":"${name}"}'
fi
`;
  for (const n of ['one', 'two']) fs.writeFileSync(path.join(dir, n), script(n), { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'broken'), script('broken', true), { mode: 0o755 });
}

function readLog(log: string): { plugin: string; command: string; id: string; netns: string; args: string; conf: any }[] {
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [plugin, command, id, netns, args, conf] = l.split('\t');
      return { plugin, command, id, netns, args, conf: JSON.parse(conf) };
    });
}

test('ADD chains prevResult in order, DEL runs in reverse from the cache, CHECK uses the cached result', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-cni-'));
  try {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const log = path.join(dir, 'log');
    fakePlugins(bin, log);
    const bytes = JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'one', x: 1 }, { type: 'two', capabilities: { portMappings: true } }] });
    const net = new CniNetwork(parseNetworkConfig(bytes, false), { binDirs: ['/nonexistent', bin], cacheDir: path.join(dir, 'cache') });
    const rt = {
      containerID: 'sb1',
      netns: '/var/run/netns/x',
      ifName: 'eth0',
      args: podCniArgs({ namespace: 'ns', name: 'p', uid: 'u-1' }, 'sb1'),
      capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], bandwidth: { ingressRate: 1 } },
    };
    const result = await net.add(rt);
    assert.equal(result.by, 'two');
    assert.deepEqual(resultIPs(result), ['10.9.0.7']);
    let calls = readLog(log);
    assert.deepEqual(calls.map((c) => `${c.plugin} ${c.command}`), ['one ADD', 'two ADD']);
    assert.equal(calls[0].conf.prevResult, undefined);
    assert.equal(calls[0].conf.name, 'net');
    assert.equal(calls[0].conf.cniVersion, '1.0.0');
    assert.equal(calls[0].conf.runtimeConfig, undefined, 'no capability declared, no runtimeConfig');
    assert.equal(calls[1].conf.prevResult.by, 'one');
    assert.deepEqual(calls[1].conf.runtimeConfig, { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
    assert.equal(calls[0].args, 'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=sb1;K8S_POD_UID=u-1');
    assert.equal(calls[0].netns, '/var/run/netns/x');
    assert.ok(fs.existsSync(path.join(dir, 'cache', 'results', 'net-sb1-eth0')));

    fs.rmSync(log);
    await net.check(rt);
    calls = readLog(log);
    assert.deepEqual(calls.map((c) => `${c.plugin} ${c.command}`), ['one CHECK', 'two CHECK']);
    assert.equal(calls[0].conf.prevResult.by, 'two');

    // DEL with a different (changed) configuration still undoes what ADD ran.
    fs.rmSync(log);
    const changed = new CniNetwork(parseNetworkConfig(JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'two' }] }), false), {
      binDirs: [bin],
      cacheDir: path.join(dir, 'cache'),
    });
    await changed.del({ ...rt, args: [], capabilityArgs: undefined });
    calls = readLog(log);
    assert.deepEqual(calls.map((c) => `${c.plugin} ${c.command}`), ['two DEL', 'one DEL']);
    assert.equal(calls[0].conf.prevResult.by, 'two');
    assert.equal(calls[1].conf.x, 1);
    assert.match(calls[0].args, /K8S_POD_UID=u-1/);
    assert.ok(!fs.existsSync(path.join(dir, 'cache', 'results', 'net-sb1-eth0')));

    // DEL without a cache still runs, with no prevResult.
    fs.rmSync(log);
    await net.del(rt);
    calls = readLog(log);
    assert.deepEqual(calls.map((c) => `${c.plugin} ${c.command}`), ['two DEL', 'one DEL']);
    assert.equal(calls[0].conf.prevResult, undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('plugin errors come from the JSON on stdout; a missing plugin is an error', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-cni-'));
  try {
    const log = path.join(dir, 'log');
    fakePlugins(dir, log);
    const net = new CniNetwork(parseNetworkConfig(JSON.stringify({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'one' }, { type: 'broken' }] }), false), { binDirs: [dir], cacheDir: dir });
    const rt = { containerID: 'c', netns: '/x', ifName: 'eth0', args: [] as [string, string][] };
    await assert.rejects(net.add(rt), (e: unknown) => e instanceof CniError && e.code === 11 && e.msg === 'no addresses left' && e.details === 'range full');
    const missing = new CniNetwork(parseNetworkConfig(JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'nope' }), true), { binDirs: [dir], cacheDir: dir });
    await assert.rejects(missing.add(rt), /failed to find plugin "nope"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadFirstNetwork takes the first valid file in lexical order; .conf is a list of one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-cni-'));
  try {
    assert.equal(loadFirstNetwork(dir), null);
    fs.writeFileSync(path.join(dir, '05-bad.conflist'), '{not json');
    fs.writeFileSync(path.join(dir, '10-b.conf'), JSON.stringify({ cniVersion: '0.3.1', name: 'b', type: 'bridge', bridge: 'x' }));
    fs.writeFileSync(path.join(dir, '20-a.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'a', plugins: [{ type: 'ptp' }] }));
    const bad: string[] = [];
    const n = loadFirstNetwork(dir, (f) => bad.push(path.basename(f)))!;
    assert.deepEqual(bad, ['05-bad.conflist']);
    assert.equal(n.name, 'b');
    assert.equal(n.cniVersion, '0.3.1');
    assert.deepEqual(n.plugins, [{ type: 'bridge', bridge: 'x' }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('resultIPs reads 0.2.0 and 1.0.0 results', () => {
  assert.deepEqual(resultIPs({ cniVersion: '0.2.0', ip4: { ip: '10.1.0.3/16' }, ip6: { ip: 'fd00::3/64' } }), ['10.1.0.3', 'fd00::3']);
  assert.deepEqual(resultIPs({ cniVersion: '0.3.1', ips: [{ version: '4', address: '10.2.0.4/24' }] }), ['10.2.0.4']);
  assert.deepEqual(resultIPs(undefined), []);
});
