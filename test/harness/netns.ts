/**
 * Network namespaces for tests: private namespaces joined by veth pairs, processes run inside
 * them with `nsenter --net` (see docs/node-runtime.md: not `ip netns exec`), and a bridge that
 * makes a loopback port of this namespace (the apiserver) reachable on loopback inside another
 * one through a unix socket, so no traffic leaves loopback or the test's own namespaces.
 *
 * Everything created is remembered; `cleanupNetns()` (and, as a last resort, process exit)
 * deletes the namespaces, which takes their veths, addresses, routes and iptables rules along.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const created = new Set<string>();
const children = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const n of created) {
      try {
        execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  });
}

/** Whether this machine can run the namespace tests: root, ip, nsenter and iptables. */
export function netnsSupported(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const bin of ['ip', 'nsenter', 'iptables', 'iptables-save', 'iptables-restore']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed`;
    }
  }
  return undefined;
}

export function run(cmd: string, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** A short unique name (interface names are limited to 15 characters). */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid % 100000}${Math.floor(Math.random() * 1000)}`.slice(0, 15);
}

export interface Netns {
  name: string;
  path: string;
  /** Runs a command inside the namespace and returns its stdout. */
  exec(cmd: string, args: string[], stdin?: string): Promise<string>;
  /** Starts a long-running process inside the namespace; it is killed by cleanupNetns. */
  spawn(cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv }): ChildProcess;
}

export async function createNetns(prefix = 'kt'): Promise<Netns> {
  installExitHook();
  const name = uniqueName(prefix);
  await run('ip', ['netns', 'add', name]);
  created.add(name);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const nsPath = `/var/run/netns/${name}`;
  return {
    name,
    path: nsPath,
    exec: (cmd, args, stdin) => run('nsenter', [`--net=${nsPath}`, '--', cmd, ...args], stdin),
    spawn: (cmd, args, opts = {}) => {
      const child = spawn('nsenter', [`--net=${nsPath}`, '--', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
  };
}

/** A veth pair from `a` to `b`, each end with its addresses (CIDR form), up. */
export async function connectVeth(a: Netns, aAddrs: string[], b: Netns, bAddrs: string[]): Promise<{ aIf: string; bIf: string }> {
  const aIf = uniqueName('va');
  const bIf = uniqueName('vb');
  await run('ip', ['link', 'add', aIf, 'netns', a.name, 'type', 'veth', 'peer', 'name', bIf, 'netns', b.name]);
  for (const [ns, ifname, addrs] of [
    [a, aIf, aAddrs],
    [b, bIf, bAddrs],
  ] as const) {
    for (const addr of addrs) await run('ip', ['-n', ns.name, 'addr', 'add', addr, 'dev', ifname]);
    await run('ip', ['-n', ns.name, 'link', 'set', ifname, 'up']);
  }
  return { aIf, bIf };
}

export async function addRoute(ns: Netns, ...route: string[]): Promise<void> {
  await run('ip', ['-n', ns.name, 'route', 'add', ...route]);
}

/** Kills the processes started in namespaces, deletes every namespace this process created. */
export async function cleanupNetns(): Promise<void> {
  for (const c of [...children]) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
  for (const fn of cleanups.splice(0)) fn();
  for (const n of [...created]) {
    await run('ip', ['netns', 'del', n]).catch(() => undefined);
    created.delete(n);
  }
}

/** Waits for a line on the process's stdout that matches; rejects if it exits first. */
export function waitForLine(child: ChildProcess, re: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${re}; stderr: ${err.slice(-2000)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = buf.split('\n').find((l) => re.test(l));
      if (m !== undefined) done(undefined, m);
    };
    const onErr = (d: Buffer) => (err += d.toString());
    const onExit = (code: number | null) => done(new Error(`process exited (${code}) before ${re}; stderr: ${err.slice(-2000)}`));
    const done = (e?: Error, l?: string) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      if (e) reject(e);
      else resolve(l!);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onErr);
    child.once('exit', onExit);
  });
}

/** A Node program run inside a namespace with `-e`. */
export function nodeIn(ns: Netns, script: string, args: string[] = []): Promise<string> {
  return ns.exec(process.execPath, ['-e', script, '--', ...args]);
}

/** Starts a TCP server in `ns` on ip:port answering every connection with `reply\n`. */
export async function startEchoServer(ns: Netns, ip: string, port: number, reply: string): Promise<ChildProcess> {
  const script = `
    const [ip, port, reply] = process.argv.slice(1);
    require('node:net').createServer((s) => { s.on('error', () => {}); s.end(reply + '\\n'); })
      .listen(Number(port), ip, () => console.log('listening'));`;
  const child = ns.spawn(process.execPath, ['-e', script, '--', ip, String(port), reply]);
  await waitForLine(child, /^listening$/);
  return child;
}

/**
 * Connects from inside `ns` to ip:port; answers the first line the server sent, or `error:<code>`.
 * `times` connections run one after another (one process), answers joined by ','.
 */
export async function tcpProbe(ns: Netns, ip: string, port: number, times = 1, timeoutMs = 3000): Promise<string[]> {
  const script = `
    const net = require('node:net');
    const [ip, port, times, timeout] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
    const one = () => new Promise((resolve) => {
      const s = net.connect({ host: ip, port });
      let buf = '';
      const t = setTimeout(() => { s.destroy(); resolve('error:TIMEOUT'); }, timeout);
      s.on('data', (d) => (buf += d));
      s.on('end', () => { clearTimeout(t); resolve(buf.trim()); });
      s.on('error', (e) => { clearTimeout(t); resolve('error:' + (e.code || e.message)); });
    });
    (async () => { const out = []; for (let i = 0; i < times; i++) out.push(await one()); console.log(out.join(',')); })();`;
  return (await nodeIn(ns, script, [ip, String(port), String(times), String(timeoutMs)])).trim().split(',');
}

/** GET http://url from inside the namespace; answers `status body`. */
export async function httpGetIn(ns: Netns, url: string): Promise<{ status: number; body: string }> {
  const script = `fetch(process.argv[1]).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })), (e) => console.log(JSON.stringify({ status: 0, body: String(e) })));`;
  return JSON.parse(await nodeIn(ns, script, [url])) as { status: number; body: string };
}

/**
 * Makes host 127.0.0.1:`hostPort` reachable as 127.0.0.1:`nsPort` inside `ns`: a listener in the
 * namespace pipes each connection into a unix socket (sockets on the file system cross network
 * namespaces), and a server here pipes that on to the host port.
 */
export async function bridgeLoopbackPort(ns: Netns, hostPort: number, nsPort: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-bridge-'));
  const sock = path.join(dir, 'bridge.sock');
  const server = net.createServer((c) => {
    const up = net.connect({ host: '127.0.0.1', port: hostPort });
    c.pipe(up).pipe(c);
    const close = () => {
      c.destroy();
      up.destroy();
    };
    c.on('error', close);
    up.on('error', close);
  });
  await new Promise<void>((r) => server.listen(sock, r));
  server.unref();
  cleanups.push(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const script = `
    const net = require('node:net');
    const [port, sock] = process.argv.slice(1);
    net.createServer((c) => {
      const up = net.connect(sock);
      c.pipe(up).pipe(c);
      const close = () => { c.destroy(); up.destroy(); };
      c.on('error', close); up.on('error', close);
    }).listen(Number(port), '127.0.0.1', () => console.log('listening'));`;
  const child = ns.spawn(process.execPath, ['-e', script, '--', String(nsPort), sock]);
  await waitForLine(child, /^listening$/);
}
