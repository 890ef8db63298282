/**
 * One worker machine's processes: a private containerd, the kubelet, kube-proxy and the host-gw
 * route controller. `keelson up` starts one set per simulated node (inside the node's network
 * namespace); `keelson join` starts one set on the machine it runs on. Both stop them the same way.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CriClient } from '../cri/index.js';
import { ProcessManager, waitFor } from './process.js';
import { repoRoot, binary, type StateLayout } from './paths.js';

const exec = promisify(execFile);

export interface WorkerSpec {
  name: string;
  /** The node's InternalIP: the kubelet's --node-ip and the route controller's own address. */
  address: string;
  /** Run inside this network namespace (simulated machines); unset runs in the caller's. */
  netnsPath?: string;
  layout: ReturnType<StateLayout['node']>;
  caCert: string;
  /** The kubelet's client kubeconfig (system:node:<name>); the route controller uses it too. */
  kubeletKubeconfig: string;
  servingCert: string;
  servingKey: string;
  kubeProxyKubeconfig: string;
  clusterCIDR: string;
  dnsIP: string;
  clusterDomain: string;
  /** The sandbox ("pause") image reference. */
  pauseImage: string;
  /** containerd's registry hosts directory (config_path). */
  certsD: string;
}

/** Writes a file by renaming a temporary one next to it, unless it already holds `data`. */
export function writeAtomically(file: string, data: Buffer, mode: number): void {
  try {
    if (fs.readFileSync(file).equals(data)) return;
  } catch {
    // missing: write it
  }
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}

export function renderTemplate(file: string, vars: Record<string, string>): string {
  let text = fs.readFileSync(file, 'utf8');
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{{${k}}}`, v);
  return text;
}

/**
 * Starts a worker's processes (each only if not already running) and waits for its containerd.
 * `fail` turns a readiness timeout into an error naming the process and its log.
 */
export async function startWorker(pm: ProcessManager, w: WorkerSpec, fail: (name: string, e: unknown) => never): Promise<void> {
  const root = repoRoot();
  const node = process.execPath;
  const nl = w.layout;
  const alive = (name: string) => () => pm.running(name) !== undefined;
  if (w.netnsPath) await exec('nsenter', [`--net=${w.netnsPath}`, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']).catch(() => undefined);
  else await exec('sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=1']).catch(() => undefined);
  for (const d of [nl.dir, nl.containerdRoot, nl.containerdState, nl.runcRoot, nl.kubeletRoot, nl.cniConf, nl.cniHandoffConf, nl.cniCache, nl.ipam, nl.podLogs]) fs.mkdirSync(d, { recursive: true });
  const handoffBin = path.join(nl.dir, 'cni', 'handoff-bin');
  fs.mkdirSync(handoffBin, { recursive: true });
  writeAtomically(path.join(handoffBin, 'keelson-handoff'), fs.readFileSync(path.join(root, 'deploy/cni/handoff/keelson-handoff')), 0o755);
  if (!fs.existsSync(path.join(handoffBin, 'loopback'))) fs.symlinkSync('/usr/lib/cni/loopback', path.join(handoffBin, 'loopback'));
  // containerd reloads its CNI conf dir on every write: a file written in place can be read half-written.
  writeAtomically(path.join(nl.cniHandoffConf, '10-keelson-handoff.conflist'), fs.readFileSync(path.join(root, 'deploy/cni/handoff/10-keelson-handoff.conflist')), 0o644);
  fs.writeFileSync(
    nl.config,
    renderTemplate(path.join(root, 'deploy/containerd/config.toml'), {
      ROOT: nl.containerdRoot,
      STATE: nl.containerdState,
      SOCKET: nl.socket,
      RUNC_ROOT: nl.runcRoot,
      SANDBOX_IMAGE: w.pauseImage,
      CERTS_D: w.certsD,
      CNI_BIN_DIR: handoffBin,
      CNI_CONF_DIR: nl.cniHandoffConf,
    }),
  );
  pm.start({ name: `containerd-${w.name}`, command: 'containerd', args: ['--config', nl.config], netns: w.netnsPath });
  const cri = new CriClient({ endpoint: nl.socket, requestTimeoutMs: 10_000 });
  try {
    await waitFor(`containerd on ${w.name}`, async () => fs.existsSync(nl.socket) && !!(await cri.version()), 60_000, alive(`containerd-${w.name}`)).catch((e) => fail(`containerd-${w.name}`, e));
  } finally {
    cri.close();
  }
  pm.start({
    name: `kubelet-${w.name}`,
    command: node,
    netns: w.netnsPath,
    args: [
      binary('kubelet'),
      `--kubeconfig=${w.kubeletKubeconfig}`,
      `--hostname-override=${w.name}`,
      `--node-ip=${w.address}`,
      `--container-runtime-endpoint=unix://${nl.socket}`,
      `--cni-conf-dir=${nl.cniConf}`,
      '--cni-bin-dir=/usr/lib/cni',
      `--cni-cache-dir=${nl.cniCache}`,
      `--cni-ipam-data-dir=${nl.ipam}`,
      `--root-dir=${nl.kubeletRoot}`,
      `--pod-logs-dir=${nl.podLogs}`,
      `--cluster-dns=${w.dnsIP}`,
      `--cluster-domain=${w.clusterDomain}`,
      `--cgroup-root=/keelson/${w.name}`,
      '--port=10250',
      `--tls-cert-file=${w.servingCert}`,
      `--tls-private-key-file=${w.servingKey}`,
      `--client-ca-file=${w.caCert}`,
      '--authorization-mode=Webhook',
      '--authentication-token-webhook=true',
      '--anonymous-auth=false',
    ],
  });
  pm.start({
    name: `kube-proxy-${w.name}`,
    command: node,
    netns: w.netnsPath,
    args: [binary('kube-proxy'), `--kubeconfig=${w.kubeProxyKubeconfig}`, `--hostname-override=${w.name}`, `--cluster-cidr=${w.clusterCIDR}`, `--metrics-bind-address=${w.address}:10249`],
  });
  // The route controller only lists and watches Nodes: the node's own credentials are enough.
  pm.start({
    name: `route-controller-${w.name}`,
    command: node,
    netns: w.netnsPath,
    args: [binary('keelson'), 'route-controller', `--kubeconfig=${w.kubeletKubeconfig}`, `--node-name=${w.name}`, `--addresses=${w.address}`],
  });
}

/**
 * Stops a worker's processes and removes what they left on the machine: pod sandboxes (before
 * their containerd, or shims and containers outlive it), kube-proxy's chains, mounts under the
 * node's directories and stale IPAM records.
 */
export async function stopWorker(pm: ProcessManager, w: { name: string; netnsPath?: string; layout: ReturnType<StateLayout['node']> }, log: (line: string) => void): Promise<void> {
  const nl = w.layout;
  const stopNamed = async (name: string) => {
    if (await pm.stop(name)) log(`stopped ${name}`);
  };
  await stopNamed(`route-controller-${w.name}`);
  await stopNamed(`kubelet-${w.name}`);
  if (pm.running(`containerd-${w.name}`)) {
    const cri = new CriClient({ endpoint: nl.socket, requestTimeoutMs: 10_000 });
    try {
      for (const sb of await cri.listPodSandbox({})) {
        await cri.stopPodSandbox(sb.id).catch(() => undefined);
        await cri.removePodSandbox(sb.id).catch(() => undefined);
      }
    } catch {
      // containerd is not answering; the shims are killed below
    } finally {
      cri.close();
    }
  }
  const cleanup = [process.execPath, binary('kube-proxy'), '--cleanup'];
  if (!w.netnsPath) await exec(cleanup[0]!, cleanup.slice(1)).catch(() => undefined);
  else if (fs.existsSync(w.netnsPath)) await exec('nsenter', [`--net=${w.netnsPath}`, ...cleanup]).catch(() => undefined);
  await stopNamed(`kube-proxy-${w.name}`);
  await stopNamed(`containerd-${w.name}`);
  killByCmdline(nl.socket);
  unmountUnder(nl.dir);
  unmountUnder(nl.containerdState);
  // Pod IPs were released with their sandboxes; what host-local still records is stale.
  fs.rmSync(nl.ipam, { recursive: true, force: true });
}

export function killByCmdline(needle: string): void {
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(needle)) process.kill(Number(e), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export function unmountUnder(prefix: string): void {
  let mounts: string[];
  try {
    mounts = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((mp) => mp === prefix || mp.startsWith(prefix + '/'))
      .sort((a, b) => b.length - a.length);
  } catch {
    return;
  }
  for (const mp of mounts) {
    try {
      execFileSync('umount', ['-l', mp]);
    } catch {
      // already gone
    }
  }
}
