/**
 * A private node runtime for end-to-end tests (docs/node-runtime.md): keelson's images served by a
 * registry on a free loopback port, and a containerd with its own config, root, state, socket and
 * runc root under a temporary directory, plus the folders and names a kubelet on that node uses
 * (CNI conf/cache/IPAM dirs, a bridge, a pod CIDR, a cgroup root). `stop()` removes everything
 * the test created, even after a failure: pods, shims, netns, the bridge and veths, iptables rules
 * naming the test's sandboxes or pod CIDR, mounts, cgroups and the directory.
 */
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort } from './etcd.js';
import { CriClient } from '../../pkg/cri/index.js';
import { CniNetwork, parseNetworkConfig } from '../../pkg/cni/index.js';
import { readEnvFile } from '../../pkg/launcher/paths.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (this file is test/harness/containerd.{ts,js} under it, or under a build dir). */
function repoRoot(): string {
  let d = here;
  for (;;) {
    const p = path.join(d, 'package.json');
    if (fs.existsSync(p) && JSON.parse(fs.readFileSync(p, 'utf8')).name === 'keelson') return d;
    const up = path.dirname(d);
    if (up === d) throw new Error('keelson repository root not found');
    d = up;
  }
}

/** Whether this machine can run the node e2e tests (root, containerd, runc, CNI plugins, image tools). */
export function nodeTestsSupported(): { ok: boolean; why?: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root' };
  for (const bin of ['containerd', 'runc', 'docker-registry', 'skopeo', 'umoci', 'iptables', 'ip']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return { ok: false, why: `${bin} is missing (hack/install-node-deps.sh)` };
    }
  }
  if (!fs.existsSync('/usr/lib/cni/bridge')) return { ok: false, why: 'containernetworking-plugins are missing' };
  return { ok: true };
}

export interface ImagesHandle {
  /** The registry process serving this test. */
  pid?: number;
  registry: string;
  certsD: string;
  busyboxVersion: string;
  busybox: string;
  pause: string;
  echo: string;
  stop(): Promise<void>;
}

async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      // A lock left by a dead process is taken over.
      const owner = Number(fs.readFileSync(file, 'utf8') || 0);
      let alive: boolean;
      try {
        if (owner) process.kill(owner, 0);
        alive = owner > 0;
      } catch {
        alive = false;
      }
      if (!alive) fs.rmSync(file, { force: true });
      else if (Date.now() > deadline) throw new Error(`lock ${file} held too long by ${owner}`);
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * Builds keelson's images if the shared image store lacks them (hack/images/build.sh, once per
 * machine), then serves that store from a registry of the test's own on a free port, with a
 * certs.d that sends docker.io and that port to it. The store is KEELSON_IMAGES_DIR or
 * <repo>/.state/images.
 */
export async function startImages(dir: string): Promise<ImagesHandle> {
  const root = repoRoot();
  const store = process.env.KEELSON_IMAGES_DIR ?? path.join(root, '.state', 'images');
  const bbVersion = execFileSync('sh', ['-c', "dpkg-query -W -f='${Version}' busybox-static | sed -E 's/^[0-9]+://; s/-[^-]*$//'"]).toString().trim();
  const tagFile = path.join(store, 'registry', 'data', 'docker', 'registry', 'v2', 'repositories', 'library', 'busybox', '_manifests', 'tags', bbVersion);
  const stamp = path.join(store, 'oci', 'stamp');
  await withLock(path.join(store, '.build.lock'), async () => {
    const scriptsHash = crypto
      .createHash('sha256')
      .update(fs.readFileSync(path.join(root, 'hack/images/build.sh')))
      .update(fs.readFileSync(path.join(root, 'hack/images/rootfs.sh')))
      .digest('hex')
      .slice(0, 16);
    const fresh = fs.existsSync(tagFile) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === `${bbVersion} ${scriptsHash}` && fs.existsSync(path.join(store, 'images.env'));
    if (fresh) return;
    const port = await freePort();
    const env = { ...process.env, KEELSON_REGISTRY_ADDR: `127.0.0.1:${port}` };
    try {
      await run(path.join(root, 'hack/images/build.sh'), [store], { env, maxBuffer: 16 << 20 });
    } finally {
      await run(path.join(root, 'hack/images/registry.sh'), ['stop', store], { env }).catch(() => undefined);
    }
  });
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const regDir = path.join(dir, 'registry');
  fs.mkdirSync(regDir, { recursive: true });
  const conf = path.join(regDir, 'config.yml');
  fs.writeFileSync(conf, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(store, 'registry', 'data')}\n  maintenance:\n    uploadpurging:\n      enabled: false\n    readonly:\n      enabled: true\nhttp:\n  addr: ${addr}\n`);
  const proc = spawn('docker-registry', ['serve', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    }
  };
  try {
    await waitFor('the test registry', async () => (await fetch(`http://${addr}/v2/`)).ok, 20_000);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}: ${stderr}`, { cause: e });
  }
  const certsD = path.join(dir, 'certs.d');
  for (const host of ['docker.io', addr]) {
    fs.mkdirSync(path.join(certsD, host), { recursive: true });
    fs.writeFileSync(path.join(certsD, host, 'hosts.toml'), `server = "http://${addr}"\n\n[host."http://${addr}"]\n  capabilities = ["pull", "resolve"]\n`);
  }
  const envs = readEnvFile(path.join(store, 'images.env'));
  const v = envs.KEELSON_BUSYBOX_VERSION ?? bbVersion;
  return {
    pid: proc.pid,
    registry: addr,
    certsD,
    busyboxVersion: v,
    busybox: `busybox:${v}`,
    pause: `${addr}/keelson/pause:busybox-${v}`,
    echo: `${addr}/keelson/echo-server:busybox-${v}`,
    stop,
  };
}

export interface NodeRuntime {
  dir: string;
  images: ImagesHandle;
  /** unix:///…/containerd.sock */
  endpoint: string;
  socket: string;
  cri: CriClient;
  /** Folders and names for the kubelet of this node. */
  rootDir: string;
  podLogsDir: string;
  cniConfDir: string;
  cniBinDirs: string[];
  cniCacheDir: string;
  cniIpamDataDir: string;
  bridge: string;
  podCIDR: string;
  cgroupRoot: string;
  /** Netns paths the node's sandboxes used (recorded for cleanup). */
  stop(): Promise<void>;
}

function routesInUse(): string {
  try {
    return execFileSync('ip', ['-4', 'route', 'show']).toString();
  } catch {
    return '';
  }
}

/** A /24 in 10.200.0.0–10.249.255.0 that no route on this host covers yet. */
function pickPodCIDR(): string {
  const routes = routesInUse();
  for (let i = 0; i < 100; i++) {
    const a = 200 + crypto.randomInt(50);
    const b = crypto.randomInt(256);
    const net = `10.${a}.${b}.`;
    if (!routes.includes(net) && !routes.includes(`10.${a}.0.0/16`)) return `${net}0/24`;
  }
  throw new Error('no free pod CIDR');
}

function mountsUnder(prefix: string): string[] {
  const out: string[] = [];
  try {
    for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const mp = line.split(' ')[4];
      if (mp && (mp === prefix || mp.startsWith(prefix + '/'))) out.push(mp.replace(/\\040/g, ' '));
    }
  } catch {
    // none
  }
  return out.sort((a, b) => b.length - a.length);
}

/** PIDs whose command line contains `needle` (our shims name our socket). */
function pidsWithCmdline(needle: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes(needle) && Number(e) !== process.pid) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/** Applies iptables-save style lines with iptables-restore --noflush, one at a time (a failure skips only that line). */
async function iptablesRestore(table: string, line: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const p = spawn('iptables-restore', ['--noflush'], { stdio: ['pipe', 'ignore', 'ignore'] });
    p.on('exit', () => resolve());
    p.on('error', () => resolve());
    p.stdin!.end(`*${table}\n${line}\nCOMMIT\n`);
  });
}

/**
 * Deletes nat/filter iptables rules that mention any of `needles` (the test's sandbox IDs, its
 * pod CIDR's prefix), and the per-sandbox CNI chains they jump to. Shared chains (CNI-HOSTPORT-*,
 * CNI-FORWARD) are only pruned of such rules, never removed.
 */
async function cleanIptables(needles: string[]): Promise<void> {
  if (needles.length === 0) return;
  for (const table of ['nat', 'filter']) {
    let dump: string;
    try {
      dump = (await run('iptables-save', ['-t', table])).stdout;
    } catch {
      continue;
    }
    const lines = dump.split('\n');
    const chains = new Set<string>();
    for (const l of lines) {
      if (!l.startsWith('-A ') || !needles.some((n) => l.includes(n))) continue;
      const m = /-j (CNI-[\w-]+)/.exec(l);
      if (m && !/^CNI-(HOSTPORT-|FORWARD|ADMIN)/.test(m[1]!)) chains.add(m[1]!);
    }
    for (const l of lines) {
      if (!l.startsWith('-A ')) continue;
      const chain = l.split(' ')[1]!;
      if (chains.has(chain)) continue;
      if (needles.some((n) => l.includes(n)) || [...chains].some((c) => l.includes(`-j ${c}`))) await iptablesRestore(table, `-D${l.slice(2)}`);
    }
    for (const c of chains) {
      await iptablesRestore(table, `-F ${c}`);
      await iptablesRestore(table, `-X ${c}`);
    }
  }
}

/** What a node runtime leaves on the host, recorded in <dir>/owner.json for cleanup after a crash. */
interface OwnerInfo {
  /** The test process that owns the node. */
  pid: number;
  dir: string;
  bridge: string;
  podCIDR: string;
  cgroupRoot: string;
  socket: string;
  containerdPid?: number;
  registryPid?: number;
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * Removes everything a node runtime created, whether its containerd still answers (a normal stop)
 * or its test process died (a sweep): CNI attachments from the kubelet's cache, sandboxes,
 * containerd and its shims and containers, network namespaces, veths and the bridge, iptables
 * rules naming the node's sandboxes or pod CIDR, mounts, cgroups, the registry and the directory.
 */
async function cleanupNode(info: OwnerInfo, cri?: CriClient): Promise<void> {
  const { dir, bridge, podCIDR, cgroupRoot, socket } = info;
  const netns = new Set<string>();
  const sandboxIds = new Set<string>();
  // Undo every attachment the kubelet left in its CNI cache (iptables rules, IPs, veths).
  const results = path.join(dir, 'cni', 'cache', 'results');
  for (const f of fs.existsSync(results) ? fs.readdirSync(results) : []) {
    try {
      const entry = JSON.parse(fs.readFileSync(path.join(results, f), 'utf8'));
      sandboxIds.add(entry.containerId);
      if (entry.netns) netns.add(entry.netns);
      const conf = parseNetworkConfig(Buffer.from(entry.config, 'base64').toString('utf8'), false);
      const net = new CniNetwork(conf, { binDirs: ['/usr/lib/cni'], cacheDir: path.join(dir, 'cni', 'cache') });
      await net.del({ containerID: entry.containerId, netns: entry.netns && fs.existsSync(entry.netns) ? entry.netns : '', ifName: entry.ifName, args: entry.cniArgs ?? [] });
    } catch {
      // the sweeps below are the fallback
    }
  }
  // Stop every pod through CRI, so containerd tears down its own state cleanly.
  if (cri && alive(info.containerdPid)) {
    try {
      for (const s of await cri.listPodSandbox({})) {
        sandboxIds.add(s.id);
        try {
          const st = await cri.podSandboxStatus(s.id, true);
          const ns = JSON.parse(st.info?.info ?? '{}')?.runtimeSpec?.linux?.namespaces?.find((n: { type: string }) => n.type === 'network')?.path;
          if (ns) netns.add(ns);
        } catch {
          // gone
        }
        await cri.stopPodSandbox(s.id).catch(() => undefined);
        await cri.removePodSandbox(s.id).catch(() => undefined);
      }
    } catch {
      // containerd is not answering: the kill below handles it
    }
  }
  cri?.close();
  if (info.containerdPid && alive(info.containerdPid)) {
    process.kill(info.containerdPid, 'SIGTERM');
    if (!(await waitGone(info.containerdPid, 5_000))) {
      process.kill(info.containerdPid, 'SIGKILL');
      await waitGone(info.containerdPid, 5_000);
    }
  }
  // Shims (and through them containers) this containerd started name its socket.
  for (const pid of pidsWithCmdline(socket)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const runcRoot = path.join(dir, 'containerd', 'state', 'runc', 'k8s.io');
  if (fs.existsSync(runcRoot)) {
    try {
      const list = JSON.parse((await run('runc', ['--root', runcRoot, 'list', '--format', 'json'])).stdout || '[]') as { id: string; pid: number }[] | null;
      for (const c of list ?? []) {
        try {
          if (c.pid) process.kill(c.pid, 'SIGKILL');
        } catch {
          // gone
        }
        await run('runc', ['--root', runcRoot, 'delete', '--force', c.id]).catch(() => undefined);
      }
    } catch {
      // no runc state
    }
  }
  // veths on our bridge (their peers name the pods' namespaces), then the bridge.
  try {
    const links = (await run('ip', ['-o', 'link', 'show', 'master', bridge])).stdout;
    for (const m of links.matchAll(/^\d+: ([^@:]+)[^\n]*?(?:link-netns (\S+))?$/gm)) {
      if (m[2]) netns.add(`/var/run/netns/${m[2]}`);
      await run('ip', ['link', 'del', m[1]!]).catch(() => undefined);
    }
  } catch {
    // no bridge
  }
  await run('ip', ['link', 'del', bridge]).catch(() => undefined);
  for (const ns of netns) {
    if (!ns.startsWith('/var/run/netns/cni-') && !ns.startsWith('/run/netns/cni-')) continue;
    await run('umount', [ns]).catch(() => undefined);
    fs.rmSync(ns, { force: true });
  }
  const prefix = podCIDR.replace(/\.0\/24$/, '.');
  await cleanIptables([`-s ${prefix}`, `-d ${prefix}`, podCIDR, ...sandboxIds]);
  for (const mp of mountsUnder(dir)) await run('umount', ['-l', mp]).catch(() => undefined);
  const { removeCgroupRoot } = await import('../../pkg/kubelet/cgroups.js');
  removeCgroupRoot(cgroupRoot);
  if (info.registryPid && alive(info.registryPid)) process.kill(info.registryPid, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Cleans up node runtimes whose test process died without cleaning up (killed by a timeout). */
async function sweepStaleNodeRuntimes(): Promise<void> {
  for (const e of fs.readdirSync(os.tmpdir())) {
    if (!e.startsWith('keelson-node-')) continue;
    const f = path.join(os.tmpdir(), e, 'owner.json');
    let info: OwnerInfo;
    try {
      info = JSON.parse(fs.readFileSync(f, 'utf8'));
    } catch {
      continue;
    }
    if (alive(info.pid)) continue;
    await cleanupNode(info).catch(() => undefined);
  }
}

/** Stops of live node runtimes, run if the test process is told to stop. */
const liveStops = new Set<() => Promise<void>>();
let signalsHooked = false;
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      const all = Promise.allSettled([...liveStops].map((f) => f()));
      const timer = setTimeout(() => process.exit(1), 30_000);
      void all.then(() => {
        clearTimeout(timer);
        process.exit(1);
      });
    });
  }
}

/** Starts images + a private containerd; the caller runs a kubelet against it. */
export async function startNodeRuntime(opts: { name?: string } = {}): Promise<NodeRuntime> {
  await sweepStaleNodeRuntimes();
  hookSignals();
  const root = repoRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `keelson-node-${opts.name ?? 'e2e'}-`));
  const suffix = crypto.randomBytes(3).toString('hex');
  const bridge = `kb${suffix}`;
  const podCIDR = pickPodCIDR();
  const cgroupRoot = `/keelson-test-${suffix}`;
  const socket = path.join(dir, 'containerd', 'containerd.sock');
  const info: OwnerInfo = { pid: process.pid, dir, bridge, podCIDR, cgroupRoot, socket };
  const saveInfo = () => fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify(info));
  saveInfo();
  let images: ImagesHandle | undefined;
  let proc: ChildProcess | undefined;
  let cri: CriClient | undefined;
  let stderr = '';
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    liveStops.delete(stop);
    await cleanupNode(info, cri);
    await images?.stop();
  };
  liveStops.add(stop);

  try {
    images = await startImages(dir);
    info.registryPid = images.pid;
    saveInfo();
    const handoffBin = path.join(dir, 'containerd-cni', 'bin');
    const handoffConf = path.join(dir, 'containerd-cni', 'net.d');
    fs.mkdirSync(handoffBin, { recursive: true });
    fs.mkdirSync(handoffConf, { recursive: true });
    fs.copyFileSync(path.join(root, 'deploy/cni/handoff/keelson-handoff'), path.join(handoffBin, 'keelson-handoff'));
    fs.chmodSync(path.join(handoffBin, 'keelson-handoff'), 0o755);
    fs.symlinkSync('/usr/lib/cni/loopback', path.join(handoffBin, 'loopback'));
    fs.copyFileSync(path.join(root, 'deploy/cni/handoff/10-keelson-handoff.conflist'), path.join(handoffConf, '10-keelson-handoff.conflist'));
    const cdir = path.join(dir, 'containerd');
    fs.mkdirSync(cdir, { recursive: true });
    const config = fs
      .readFileSync(path.join(root, 'deploy/containerd/config.toml'), 'utf8')
      .replaceAll('{{ROOT}}', path.join(cdir, 'root'))
      .replaceAll('{{STATE}}', path.join(cdir, 'state'))
      .replaceAll('{{SOCKET}}', socket)
      .replaceAll('{{RUNC_ROOT}}', path.join(cdir, 'state', 'runc'))
      .replaceAll('{{SANDBOX_IMAGE}}', images.pause)
      .replaceAll('{{CERTS_D}}', images.certsD)
      .replaceAll('{{CNI_BIN_DIR}}', handoffBin)
      .replaceAll('{{CNI_CONF_DIR}}', handoffConf);
    fs.writeFileSync(path.join(cdir, 'config.toml'), config);
    proc = spawn('containerd', ['--config', path.join(cdir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    info.containerdPid = proc.pid;
    saveInfo();
    proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    cri = new CriClient({ endpoint: socket, requestTimeoutMs: 30_000 });
    await waitFor('containerd', async () => {
      if (proc!.exitCode !== null) throw new Error(`containerd exited: ${stderr}`);
      if (!fs.existsSync(socket)) return false;
      await cri!.version();
      return true;
    }, 30_000);
    const node: NodeRuntime = {
      dir,
      images,
      endpoint: `unix://${socket}`,
      socket,
      cri,
      rootDir: path.join(dir, 'kubelet'),
      podLogsDir: path.join(dir, 'pod-logs'),
      cniConfDir: path.join(dir, 'cni', 'net.d'),
      cniBinDirs: ['/usr/lib/cni'],
      cniCacheDir: path.join(dir, 'cni', 'cache'),
      cniIpamDataDir: path.join(dir, 'cni', 'networks'),
      bridge,
      podCIDR,
      cgroupRoot,
      stop,
    };
    return node;
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}
