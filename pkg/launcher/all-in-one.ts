/**
 * The all-in-one mode of the launcher (`keelson up --all-in-one`): the same components, started
 * with the same flags, but sharing processes to save memory (each Node.js process costs 40+ MB
 * before it does anything):
 *   - `keelson-server`: kube-apiserver, kube-controller-manager, kube-scheduler, cluster-dns and
 *     the host's route controller;
 *   - `keelson-agent-<node>`, one per node inside the node's network namespace: kubelet,
 *     kube-proxy and the node's route controller.
 *
 * How: `up` starts processes through a ProcessManager; in this mode it gets an
 * AllInOneProcessManager, whose `start` writes a grouped component's spec into its group's
 * folder (`<state>/run/all-in-one/<group>/NNN-<name>.json`), starts the group's process if it does
 * not run yet, and records the group's pid under the component's name. So `up`'s health waits,
 * `down` and `status` keep working by component name. The group process (runGroup) picks the
 * specs up in order and runs each component by importing its binary (cmd/<component>/main.js)
 * with the spec's arguments as its argv: the component parses upstream's flags and calls its
 * run() exactly as it does in its own process. Every component module is evaluated once per
 * process, so a group holds at most one of each.
 *
 * A component that fails ends its process (its binary exits non-zero), and with it the group:
 * the launcher sees the component, and every other of the group, as not running.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProcessManager, type ProcessSpec } from './process.js';
import { binary } from './paths.js';

/** The group a launcher process belongs to in all-in-one mode, or undefined to run it on its own. */
export function groupOf(name: string): string | undefined {
  if (['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'cluster-dns', 'route-controller-host'].includes(name)) return 'keelson-server';
  const m = /^(?:kubelet|kube-proxy|route-controller)-(.+)$/.exec(name);
  if (m && m[1] !== 'host') return `keelson-agent-${m[1]}`;
  return undefined;
}

/**
 * V8's young generation grows to 3 x 16 MB semi-spaces by default, and an idle process keeps it.
 * Capped at 4 MB, the 1-node all-in-one cluster idles at about 290 MiB instead of 375 MiB
 * (bench/footprint.ts, measured on the 2-core test machine; 1 MB gave 275 MiB). The cost is more
 * frequent scavenges under load, which this mode (a small cluster on one machine) accepts; the
 * one-process-per-component mode keeps V8's defaults.
 */
export const groupV8Flags = ['--max-semi-space-size=4'];

interface GroupedSpec {
  name: string;
  /** args[0] is the component's main.js; the rest are its flags. */
  args: string[];
}

export class AllInOneProcessManager extends ProcessManager {
  groupDir(group: string): string {
    return path.join(this.runDir, 'all-in-one', group);
  }

  override start(spec: ProcessSpec): number {
    const group = groupOf(spec.name);
    if (!group || spec.command !== process.execPath) return super.start(spec);
    const existing = this.running(spec.name);
    if (existing) return existing;
    const dir = this.groupDir(group);
    let pid = this.running(group);
    if (!pid) fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const seq = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length;
    const grouped: GroupedSpec = { name: spec.name, args: spec.args };
    const file = path.join(dir, `${String(seq).padStart(3, '0')}-${spec.name}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(grouped));
    fs.renameSync(`${file}.tmp`, file);
    pid ??= super.start({
      name: group,
      command: process.execPath,
      args: [...groupV8Flags, binary(group.startsWith('keelson-agent-') ? 'keelson-agent' : 'keelson-server'), `--config-dir=${dir}`],
      netns: spec.netns,
      env: spec.env,
      cwd: spec.cwd,
    });
    fs.writeFileSync(this.pidFile(spec.name), String(pid));
    // Errors in `up` quote the component's log: it is the group's.
    const log = this.logFile(spec.name);
    fs.rmSync(log, { force: true });
    fs.symlinkSync(this.logFile(group), log);
    return pid;
  }
}

/**
 * Runs the components whose specs appear in `dir`, one after another in file order, in this
 * process, until `signal` aborts. Then the components stop through their own SIGTERM handling;
 * the process exits after `graceMs` if none of them has ended it by then.
 */
export async function runGroup(dir: string, signal: AbortSignal, log: (line: string) => void, graceMs = 10_000): Promise<void> {
  const started = new Set<string>();
  while (!signal.aborted) {
    let files: string[] = [];
    try {
      files = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort();
    } catch {
      // not there yet
    }
    for (const f of files) {
      if (started.has(f) || signal.aborted) continue;
      started.add(f);
      const spec = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as GroupedSpec;
      const [main, ...flags] = spec.args;
      if (!main) throw new Error(`${f}: no binary to run`);
      log(`starting ${spec.name}: ${path.basename(path.dirname(main))} ${flags.join(' ')}`);
      // The binary reads its flags from process.argv while its module is evaluated, which is
      // done when the import resolves; the next one is only set after that.
      const saved = process.argv;
      process.argv = [saved[0]!, main, ...flags];
      try {
        await import(pathToFileURL(main).href);
      } finally {
        process.argv = saved;
      }
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 200);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
  await new Promise((r) => setTimeout(r, graceMs));
}
