/**
 * The host side of simulated worker machines: a bridge on the host, and per node a network
 * namespace joined to it by a veth pair (see docs/node-runtime.md: nodes run under
 * `nsenter --net`, never `ip netns exec`).
 *
 *   host: keelson0 10.200.0.1/24 ── veth ── node i: eth0 10.200.0.(10+i)/24, default via 10.200.0.1
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface NodeNetwork {
  name: string;
  /** The namespace's name under /var/run/netns. */
  netns: string;
  netnsPath: string;
  address: string;
  hostVeth: string;
}

export interface HostNetwork {
  bridge: string;
  /** The host's address on the bridge: apiserver, registry and DNS are reached on it. */
  address: string;
  prefix: number;
}

export const defaultHostNetwork: HostNetwork = { bridge: 'keelson0', address: '10.200.0.1', prefix: 24 };

async function ip(args: string[]): Promise<string> {
  return (await exec('ip', args)).stdout;
}

async function exists(args: string[]): Promise<boolean> {
  try {
    await ip(args);
    return true;
  } catch {
    return false;
  }
}

export async function ensureHostNetwork(h: HostNetwork): Promise<void> {
  if (!(await exists(['link', 'show', h.bridge]))) await ip(['link', 'add', h.bridge, 'type', 'bridge']);
  const addrs = await ip(['-4', 'addr', 'show', 'dev', h.bridge]);
  if (!addrs.includes(`${h.address}/${h.prefix}`)) await ip(['addr', 'add', `${h.address}/${h.prefix}`, 'dev', h.bridge]);
  await ip(['link', 'set', h.bridge, 'up']);
  fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
}

export function nodeNetwork(h: HostNetwork, index: number, name: string): NodeNetwork {
  const base = h.address.split('.').slice(0, 3).join('.');
  const netns = `keelson-${name}`;
  return { name, netns, netnsPath: `/var/run/netns/${netns}`, address: `${base}.${10 + index}`, hostVeth: `kv${index}-${name}`.slice(0, 15) };
}

/** Creates (or finds) a node's namespace and wiring. Idempotent. */
export async function ensureNodeNetwork(h: HostNetwork, n: NodeNetwork): Promise<void> {
  if (!fs.existsSync(n.netnsPath)) await ip(['netns', 'add', n.netns]);
  if (!(await exists(['link', 'show', n.hostVeth]))) {
    await ip(['link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns]);
  }
  await ip(['link', 'set', n.hostVeth, 'master', h.bridge]);
  await ip(['link', 'set', n.hostVeth, 'up']);
  const inNs = (args: string[]) => ip(['-n', n.netns, ...args]);
  await inNs(['link', 'set', 'lo', 'up']);
  const addrs = await inNs(['-4', 'addr', 'show', 'dev', 'eth0']);
  if (!addrs.includes(`${n.address}/${h.prefix}`)) await inNs(['addr', 'add', `${n.address}/${h.prefix}`, 'dev', 'eth0']);
  await inNs(['link', 'set', 'eth0', 'up']);
  await inNs(['route', 'replace', 'default', 'via', h.address]);
  // Pods behind the node's bridge reach the rest of the world through it.
  await exec('nsenter', [`--net=${n.netnsPath}`, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
}

/** Removes a node's namespace (and with it the veth pair, its bridges and its iptables rules). */
export async function removeNodeNetwork(n: NodeNetwork): Promise<void> {
  if (fs.existsSync(n.netnsPath)) await ip(['netns', 'del', n.netns]).catch(() => undefined);
  if (await exists(['link', 'show', n.hostVeth])) await ip(['link', 'del', n.hostVeth]).catch(() => undefined);
}

/** Removes the host bridge and every route keelson's route controller made on the host. */
export async function removeHostNetwork(h: HostNetwork): Promise<void> {
  const routes = await ip(['-4', 'route', 'show', 'proto', '199']).catch(() => '');
  for (const line of routes.split('\n').filter(Boolean)) {
    await ip(['route', 'del', ...line.trim().split(/\s+/)]).catch(() => undefined);
  }
  if (await exists(['link', 'show', h.bridge])) await ip(['link', 'del', h.bridge]).catch(() => undefined);
}

/** keelson's namespaces that exist now. */
export async function listNodeNamespaces(): Promise<string[]> {
  const out = await ip(['netns', 'list']).catch(() => '');
  return out
    .split('\n')
    .map((l) => l.split(/\s+/)[0]!)
    .filter((n) => n.startsWith('keelson-'));
}
