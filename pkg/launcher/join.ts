/**
 * Adding a worker machine to a control plane that `keelson up` started.
 *
 *   control plane: keelson add-node <name> --address <ip> --out <dir>
 *     issues the node's kubelet client and serving certificates from the cluster CA and writes a
 *     join bundle: the CA, the kubelet's and kube-proxy's kubeconfigs, the kubelet's serving pair,
 *     containerd's registry hosts, and join.json with the cluster settings.
 *   worker:        keelson join --bundle <dir>
 *     copies the bundle into its state directory and starts containerd, the kubelet, kube-proxy
 *     and the route controller on this machine, then waits until the Node is Ready.
 *   worker:        keelson down   (finds the worker's state and stops only what join started)
 *
 * The bundle holds private keys: move it to the worker over a channel you trust, as kubeadm's
 * manual certificate mode asks. Bootstrap-token joining (TLS bootstrap with
 * CertificateSigningRequests) is not implemented.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensurePKI } from '../pki/pki.js';
import { loadKubeConfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { isDNS1123Subdomain } from '../api/validation.js';
import { ProcessManager, waitFor } from './process.js';
import { stateLayout, readEnvFile } from './paths.js';
import { startWorker, stopWorker } from './worker.js';

/** What a worker needs to know about the cluster besides its credentials (join.json). */
export interface JoinSettings {
  nodeName: string;
  address: string;
  server: string;
  clusterCIDR: string;
  dnsIP: string;
  clusterDomain: string;
  pauseImage: string;
}

export interface AddNodeOptions {
  /** The control plane's state directory (`keelson up --state-dir`). */
  stateDir: string;
  name: string;
  address: string;
  out: string;
  /** The apiserver URL the worker uses; defaults to the one in the control plane's admin.conf. */
  server?: string;
  clusterCIDR: string;
  dnsIP: string;
  clusterDomain: string;
}

const bundleFiles = {
  settings: 'join.json',
  ca: 'ca.crt',
  kubelet: 'kubelet.conf',
  servingCert: 'kubelet-serving.crt',
  servingKey: 'kubelet-serving.key',
  kubeProxy: 'kube-proxy.conf',
  certsD: 'certs.d',
};

export function validateNodeName(name: string): void {
  const errs = isDNS1123Subdomain(name);
  if (errs.length) throw new Error(`invalid node name ${JSON.stringify(name)}: ${errs.join('; ')}`);
}

/** Issues a node's certificates from the control plane's PKI and writes its join bundle. */
export async function addNode(o: AddNodeOptions): Promise<JoinSettings> {
  validateNodeName(o.name);
  if (net.isIP(o.address) === 0) throw new Error(`--address must be an IP address, not ${JSON.stringify(o.address)}`);
  const layout = stateLayout(o.stateDir);
  const admin = path.join(layout.pki, 'admin.conf');
  if (!fs.existsSync(path.join(layout.pki, 'ca.key')) || !fs.existsSync(admin)) throw new Error(`no control plane PKI in ${layout.pki}: run keelson up first`);
  const imagesEnv = path.join(layout.images, 'images.env');
  if (!fs.existsSync(imagesEnv)) throw new Error(`no images in ${layout.images}: run keelson up first`);
  const server = o.server ?? /^\s*server:\s*(\S+)/m.exec(fs.readFileSync(admin, 'utf8'))?.[1];
  if (!server) throw new Error(`cannot find the apiserver URL in ${admin}; pass --server`);
  const pki = await ensurePKI(layout.pki, { server, nodes: [{ name: o.name, addresses: [o.address] }] });
  const kl = pki.kubelets[o.name]!;
  const images = readEnvFile(imagesEnv);
  if (!images.KEELSON_PAUSE_IMAGE) throw new Error(`${imagesEnv} names no pause image: run keelson up again`);
  const settings: JoinSettings = {
    nodeName: o.name,
    address: o.address,
    server,
    clusterCIDR: o.clusterCIDR,
    dnsIP: o.dnsIP,
    clusterDomain: o.clusterDomain,
    pauseImage: images.KEELSON_PAUSE_IMAGE ?? '',
  };
  fs.mkdirSync(o.out, { recursive: true, mode: 0o700 });
  const put = (name: string, from: string, mode: number) => {
    fs.copyFileSync(from, path.join(o.out, name));
    fs.chmodSync(path.join(o.out, name), mode);
  };
  put(bundleFiles.ca, pki.caCert, 0o644);
  put(bundleFiles.kubelet, kl.kubeconfig, 0o600);
  put(bundleFiles.servingCert, kl.servingCert, 0o644);
  put(bundleFiles.servingKey, kl.servingKey, 0o600);
  put(bundleFiles.kubeProxy, pki.kubeProxyKubeconfig, 0o600);
  fs.cpSync(path.join(layout.images, 'certs.d'), path.join(o.out, bundleFiles.certsD), { recursive: true });
  fs.writeFileSync(path.join(o.out, bundleFiles.settings), JSON.stringify(settings, null, 2) + '\n');
  return settings;
}

/** The worker's own copy of its bundle, under its state directory. */
function workerDir(stateDir: string): string {
  return path.join(stateDir, 'worker');
}

export function readJoinSettings(dir: string): JoinSettings {
  const file = path.join(dir, bundleFiles.settings);
  let s: Partial<JoinSettings>;
  try {
    s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<JoinSettings>;
  } catch (e) {
    throw new Error(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  for (const k of ['nodeName', 'address', 'server', 'clusterCIDR', 'dnsIP', 'clusterDomain', 'pauseImage'] as const) {
    if (typeof s[k] !== 'string' || !s[k]) throw new Error(`${file}: ${k} is missing`);
  }
  validateNodeName(s.nodeName!);
  return s as JoinSettings;
}

/** Whether a state directory belongs to a joined worker rather than a control plane. */
export function isWorkerState(stateDir: string): boolean {
  return fs.existsSync(path.join(workerDir(stateDir), bundleFiles.settings));
}

export interface JoinOptions {
  bundle: string;
  stateDir: string;
  log: (line: string) => void;
  /** How long to wait for the Node to turn Ready. */
  readyTimeoutMs?: number;
}

/** Starts this machine's worker processes from a join bundle and waits for its Node to be Ready. */
export async function join(o: JoinOptions): Promise<JoinSettings> {
  const settings = readJoinSettings(o.bundle);
  const dir = workerDir(o.stateDir);
  if (path.resolve(o.bundle) !== path.resolve(dir)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.cpSync(o.bundle, dir, { recursive: true });
  }
  const f = (name: string) => path.join(dir, name);
  const layout = stateLayout(o.stateDir);
  const pm = new ProcessManager(o.stateDir);
  const fail = (name: string, e: unknown): never => {
    throw new Error(`${name} did not come up: ${e instanceof Error ? e.message : String(e)}\n--- last lines of ${pm.logFile(name)} ---\n${pm.tail(name)}`);
  };
  o.log(`[1/2] ${settings.nodeName}: containerd, kubelet, kube-proxy, routes`);
  await startWorker(
    pm,
    {
      name: settings.nodeName,
      address: settings.address,
      layout: layout.node(settings.nodeName),
      caCert: f(bundleFiles.ca),
      kubeletKubeconfig: f(bundleFiles.kubelet),
      servingCert: f(bundleFiles.servingCert),
      servingKey: f(bundleFiles.servingKey),
      kubeProxyKubeconfig: f(bundleFiles.kubeProxy),
      clusterCIDR: settings.clusterCIDR,
      dnsIP: settings.dnsIP,
      clusterDomain: settings.clusterDomain,
      pauseImage: settings.pauseImage,
      certsD: f(bundleFiles.certsD),
    },
    fail,
  );
  o.log(`[2/2] waiting for node ${settings.nodeName} to be Ready`);
  const client = new RestClient(loadKubeConfig(f(bundleFiles.kubelet)), 'keelson-join');
  await waitFor(
    `node ${settings.nodeName} Ready`,
    async () => {
      const node = await client.request<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', `/api/v1/nodes/${settings.nodeName}`);
      return !!node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    },
    o.readyTimeoutMs ?? 180_000,
    () => pm.running(`kubelet-${settings.nodeName}`) !== undefined,
  ).catch((e) => fail(`kubelet-${settings.nodeName}`, e));
  return settings;
}

/** Stops what `join` started on this machine; with reset, also deletes the worker's state. */
export async function leave(o: { stateDir: string; reset?: boolean; log: (line: string) => void }): Promise<void> {
  const settings = readJoinSettings(workerDir(o.stateDir));
  const layout = stateLayout(o.stateDir);
  const pm = new ProcessManager(o.stateDir);
  await stopWorker(pm, { name: settings.nodeName, layout: layout.node(settings.nodeName) }, o.log);
  for (const name of pm.known()) if (await pm.stop(name)) o.log(`stopped ${name}`);
  fs.rmSync(path.join('/run/keelson', settings.nodeName), { recursive: true, force: true });
  if (o.reset) {
    fs.rmSync(o.stateDir, { recursive: true, force: true });
    o.log(`removed ${o.stateDir}`);
  }
}
