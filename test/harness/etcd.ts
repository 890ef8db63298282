/**
 * Starts a real etcd (the Debian `etcd` binary) on free loopback ports in a temporary data
 * directory, for integration tests. `stop` kills it and removes the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export interface EtcdHandle {
  endpoint: string;
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startEtcd(): Promise<EtcdHandle> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const proc = spawn(
    'etcd',
    [
      '--data-dir', dataDir,
      '--listen-client-urls', endpoint,
      '--advertise-client-urls', endpoint,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
      '--log-level', 'error',
      '--quota-backend-bytes', String(2 * 1024 * 1024 * 1024),
      // Frequent progress notifications keep the apiserver's watch caches current (see DESIGN).
      '--experimental-watch-progress-notify-interval', '1s',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 10000) stderr = stderr.slice(-5000);
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`etcd exited: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/health`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become healthy: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint, dataDir, process: proc, stop };
}

export interface EtcdClusterHandle {
  endpoints: string[];
  members: { name: string; endpoint: string; process: ChildProcess }[];
  /** SIGKILLs one member. */
  killMember(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts an n-member etcd cluster on loopback, for tests that need a quorum. */
export async function startEtcdCluster(n: number): Promise<EtcdClusterHandle> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-etcd-cluster-'));
  const ports = [];
  for (let i = 0; i < n; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initial = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',');
  const members = ports.map((p, i) => {
    const endpoint = `http://127.0.0.1:${p.client}`;
    const proc = spawn(
      'etcd',
      [
        '--name', `m${i}`,
        '--data-dir', path.join(base, `m${i}`),
        '--listen-client-urls', endpoint,
        '--advertise-client-urls', endpoint,
        '--listen-peer-urls', `http://127.0.0.1:${p.peer}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${p.peer}`,
        '--initial-cluster', initial,
        '--initial-cluster-state', 'new',
        '--log-level', 'error',
        '--experimental-watch-progress-notify-interval', '1s',
      ],
      { stdio: 'ignore' },
    );
    return { name: `m${i}`, endpoint, process: proc };
  });
  const kill = async (p: ChildProcess) => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
    }
  };
  const stop = async () => {
    await Promise.all(members.map((m) => kill(m.process)));
    fs.rmSync(base, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (const m of members) {
    for (;;) {
      try {
        const r = await fetch(`${m.endpoint}/health`);
        if (r.ok && ((await r.json()) as { health: string }).health === 'true') break;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error('etcd cluster did not become healthy');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { endpoints: members.map((m) => m.endpoint), members, killMember: (i) => kill(members[i]!.process), stop };
}
