/**
 * Runs one CNI plugin binary per the spec: parameters in the environment, the network
 * configuration on stdin, the result (or an error object) on stdout.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** A CNI error, with the spec's code, msg and details as the plugin reported them. */
export class CniError extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly details: string,
    readonly plugin: string,
  ) {
    super(`plugin type="${plugin}" failed (code ${code}): ${msg}${details ? `: ${details}` : ''}`);
  }
}

export interface PluginInvocation {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS';
  containerID?: string;
  netns?: string;
  ifName?: string;
  /** `K=V` pairs joined with `;` into CNI_ARGS. */
  args?: [string, string][];
  /** Directories searched for plugin binaries, also passed as CNI_PATH. */
  binDirs: string[];
  timeoutMs?: number;
  /** Extra environment (e.g. PATH for plugins that run iptables). */
  env?: NodeJS.ProcessEnv;
}

/** Finds a plugin binary in the bin dirs, as libcni's FindInPath does. */
export function findPlugin(type: string, binDirs: string[]): string {
  if (type.includes('/') || type.includes('\\')) throw new Error(`invalid CNI plugin name ${JSON.stringify(type)}`);
  for (const dir of binDirs) {
    const p = path.join(dir, type);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not in this directory
    }
  }
  throw new CniError(-1, `failed to find plugin "${type}" in path [${binDirs.join(' ')}]`, '', type);
}

/** Runs a plugin and answers its parsed stdout (undefined when it printed nothing). */
export function execPlugin(type: string, stdin: unknown, inv: PluginInvocation): Promise<any> {
  const bin = findPlugin(type, inv.binDirs);
  const env: NodeJS.ProcessEnv = {
    ...(inv.env ?? process.env),
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerID ?? '',
    CNI_NETNS: inv.netns ?? '',
    CNI_IFNAME: inv.ifName ?? '',
    CNI_ARGS: (inv.args ?? []).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: inv.binDirs.join(path.delimiter),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, inv.timeoutMs ?? 120_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CniError(-1, `cannot run ${bin}: ${e.message}`, '', type));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8').trim();
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (timedOut) return reject(new CniError(-1, `plugin timed out after ${inv.timeoutMs ?? 120_000}ms`, stderr, type));
      if (code !== 0) {
        // Per the spec the error is JSON on stdout; fall back to whatever the plugin printed.
        try {
          const e = JSON.parse(stdout);
          return reject(new CniError(Number(e.code ?? -1), String(e.msg ?? 'unknown error'), String(e.details ?? stderr ?? ''), type));
        } catch {
          return reject(new CniError(-1, `exit status ${code}`, stdout || stderr, type));
        }
      }
      if (!stdout) return resolve(undefined);
      try {
        resolve(JSON.parse(stdout));
      } catch (e) {
        reject(new CniError(-1, `invalid result: ${(e as Error).message}`, stdout, type));
      }
    });
    child.stdin.on('error', () => {
      // A plugin that exits without reading stdin closes the pipe; its exit status tells the story.
    });
    child.stdin.end(JSON.stringify(stdin));
  });
}
