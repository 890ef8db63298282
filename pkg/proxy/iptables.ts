/**
 * The iptables commands kube-proxy runs (upstream's pkg/util/iptables runner): chains and jump
 * rules one at a time with `iptables`, everything else in one `iptables-restore --noflush`.
 * Commands go through an injectable executor so tests can record them.
 */
import { execFile } from 'node:child_process';

export type Table = 'filter' | 'nat' | 'mangle';

/** Runs a command with optional stdin; resolves with its output, rejects with stderr on failure. */
export type Exec = (cmd: string, args: readonly string[], stdin?: string) => Promise<{ stdout: string; stderr: string }>;

export class ExecError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'ExecError';
  }
}

export const execCommand: Exec = (cmd, args, stdin) =>
  new Promise((resolve, reject) => {
    const child = execFile(cmd, [...args], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        const code = typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as any).code as number) : null;
        reject(new ExecError(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`, code, stderr));
      } else resolve({ stdout, stderr });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });

/** How long to wait for the xtables lock, in seconds (upstream waits too). */
const lockWaitSeconds = '5';

export class Iptables {
  constructor(
    private readonly exec: Exec = execCommand,
    private readonly bin = { iptables: 'iptables', save: 'iptables-save', restore: 'iptables-restore' },
  ) {}

  private run(args: string[]): Promise<{ stdout: string; stderr: string }> {
    return this.exec(this.bin.iptables, ['-w', lockWaitSeconds, ...args]);
  }

  /** Creates the chain unless it exists; true if it existed. */
  async ensureChain(table: Table, chain: string): Promise<boolean> {
    try {
      await this.run(['-t', table, '-N', chain]);
      return false;
    } catch (e) {
      if (await this.chainExists(table, chain)) return true;
      throw e;
    }
  }

  async chainExists(table: Table, chain: string): Promise<boolean> {
    try {
      await this.run(['-t', table, '-S', chain, '1']);
      return true;
    } catch {
      return false;
    }
  }

  /** Inserts the rule at the top of `chain` unless an identical one is there (`-C`); true if it existed. */
  async ensureRulePrepended(table: Table, chain: string, args: readonly string[]): Promise<boolean> {
    try {
      await this.run(['-t', table, '-C', chain, ...args]);
      return true;
    } catch {
      await this.run(['-t', table, '-I', chain, ...args]);
      return false;
    }
  }

  /** Deletes every copy of the rule; no error when there is none. */
  async deleteRule(table: Table, chain: string, args: readonly string[]): Promise<void> {
    for (let i = 0; i < 100; i++) {
      try {
        await this.run(['-t', table, '-C', chain, ...args]);
      } catch {
        return;
      }
      await this.run(['-t', table, '-D', chain, ...args]);
    }
  }

  /** Flushes and deletes a chain; no error when it does not exist. */
  async deleteChain(table: Table, chain: string): Promise<void> {
    if (!(await this.chainExists(table, chain))) return;
    await this.run(['-t', table, '-F', chain]);
    await this.run(['-t', table, '-X', chain]);
  }

  /** `iptables-save -t <table>`. */
  async save(table: Table): Promise<string> {
    return (await this.exec(this.bin.save, ['-t', table])).stdout;
  }

  /** Applies restore input atomically per table, never flushing chains it does not declare. */
  async restore(input: string): Promise<void> {
    await this.exec(this.bin.restore, ['-w', lockWaitSeconds, '--noflush', '--counters'], input);
  }
}
