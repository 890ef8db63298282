/**
 * Background processes the launcher starts and later stops: each one detached, with its output
 * in `<state>/logs/<name>.log` and its pid in `<state>/run/<name>.pid`, so `keelson down` (a
 * different process) can find and stop it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Wrap the command in `nsenter --net=<path>` to run it inside a node's network namespace. */
  netns?: string;
  cwd?: string;
}

export class ProcessManager {
  constructor(readonly stateDir: string) {
    fs.mkdirSync(this.logDir, { recursive: true });
    fs.mkdirSync(this.runDir, { recursive: true });
  }

  get logDir(): string {
    return path.join(this.stateDir, 'logs');
  }

  get runDir(): string {
    return path.join(this.stateDir, 'run');
  }

  pidFile(name: string): string {
    return path.join(this.runDir, `${name}.pid`);
  }

  logFile(name: string): string {
    return path.join(this.logDir, `${name}.log`);
  }

  /** The pid of a running process started earlier, if it still runs. */
  running(name: string): number | undefined {
    try {
      const pid = Number(fs.readFileSync(this.pidFile(name), 'utf8').trim());
      if (!pid) return undefined;
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  /** Starts a process detached from the launcher; returns its pid. */
  start(spec: ProcessSpec): number {
    const existing = this.running(spec.name);
    if (existing) return existing;
    const out = fs.openSync(this.logFile(spec.name), 'a');
    const [cmd, args] = spec.netns ? ['nsenter', [`--net=${spec.netns}`, '--', spec.command, ...spec.args]] : [spec.command, spec.args];
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, ...(spec.env ?? {}) },
      cwd: spec.cwd,
    });
    fs.closeSync(out);
    if (!child.pid) throw new Error(`could not start ${spec.name}`);
    child.unref();
    fs.writeFileSync(this.pidFile(spec.name), String(child.pid));
    return child.pid;
  }

  /** Stops a process: SIGTERM, then SIGKILL after the grace period. */
  async stop(name: string, graceMs = 10_000): Promise<boolean> {
    const pid = this.running(name);
    fs.rmSync(this.pidFile(name), { force: true });
    if (!pid) return false;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return false;
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        return true;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone in the meantime
    }
    return true;
  }

  /** Names of every process with a pid file. */
  known(): string[] {
    try {
      return fs
        .readdirSync(this.runDir)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => f.slice(0, -4));
    } catch {
      return [];
    }
  }

  /** The last lines of a process's log, for error messages. */
  tail(name: string, lines = 20): string {
    try {
      return fs.readFileSync(this.logFile(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

/** Polls `check` until it returns true or the timeout passes. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, isAlive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (isAlive && !isAlive()) throw new Error(`${what}: the process exited`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
