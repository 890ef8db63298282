/**
 * Runs a kube-apiserver for tests: in-process (fast, for most tests) or as a child process (for
 * tests that kill or restart it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, defaultApiserverConfig, type ApiserverConfig } from '../../pkg/apiserver/server.js';
import { freePort } from './etcd.js';

export interface ApiserverHandle {
  url: string;
  kubeconfig: string;
  stop(): Promise<void>;
}

/** Writes a kubeconfig for a plain-http apiserver. */
export function writeKubeconfig(url: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-kubeconfig-'));
  const file = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: keelson
  cluster:
    server: ${url}
contexts:
- name: keelson
  context:
    cluster: keelson
    user: admin
current-context: keelson
users:
- name: admin
  user: {}
`,
  );
  return file;
}

export async function startApiserver(etcdEndpoint: string, overrides: Partial<ApiserverConfig> = {}): Promise<ApiserverHandle> {
  const ac = new AbortController();
  let resolveUrl!: (u: string) => void;
  const urlP = new Promise<string>((r) => (resolveUrl = r));
  const config: ApiserverConfig = {
    ...defaultApiserverConfig(),
    etcdServers: [etcdEndpoint],
    port: 0,
    logLevel: 'silent',
    ...overrides,
    onListening: (a) => resolveUrl(a.url),
  };
  const done = run(config, ac.signal);
  const url = await Promise.race([urlP, done.then(() => Promise.reject(new Error('apiserver exited before listening')))]);
  const kubeconfig = writeKubeconfig(url);
  return {
    url,
    kubeconfig,
    stop: async () => {
      ac.abort();
      await done;
      fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
    },
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));
const mainJs = path.resolve(here, '../../cmd/kube-apiserver/main.js');

export interface ApiserverProcess {
  url: string;
  port: number;
  process: ChildProcess;
  /** SIGKILL, then wait for exit. */
  kill(): Promise<void>;
}

/** Starts the apiserver binary as a child process on the given (or a free) port. */
export async function spawnApiserver(etcdEndpoint: string, port?: number, extraArgs: string[] = []): Promise<ApiserverProcess> {
  const p = port ?? (await freePort());
  const proc = spawn(process.execPath, [mainJs, `--etcd-servers=${etcdEndpoint}`, `--secure-port=${p}`, '--log-level=warn', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-5000)));
  const url = `http://127.0.0.1:${p}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`apiserver exited: ${stderr}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`apiserver not ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port: p,
    process: proc,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await new Promise((r) => proc.once('exit', r));
      }
    },
  };
}
