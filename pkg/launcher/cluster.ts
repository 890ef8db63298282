/**
 * `keelson up` / `down` / `status`: a whole cluster on this machine. Every component runs as its
 * own process (as in Kubernetes); worker machines are simulated as network namespaces, each with
 * its own containerd, kubelet, kube-proxy and route controller, under `nsenter --net`.
 *
 * Steps of `up`, each gated on the previous one being ready:
 *   PKI → host network → etcd → kube-apiserver → controller-manager + scheduler → images and
 *   registry → per node: namespace, containerd, kubelet, kube-proxy, routes → cluster DNS →
 *   every node Ready.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensurePKI } from '../pki/pki.js';
import { loadKubeConfig } from '../client/kubeconfig.js';
import { RestClient, isAlreadyExists, isNotFound } from '../client/rest.js';
import { ProcessManager, waitFor, type ProcessSpec } from './process.js';
import { AllInOneProcessManager } from './all-in-one.js';
import { stateLayout, repoRoot, binary, readEnvFile } from './paths.js';
import { startWorker, stopWorker } from './worker.js';
import { defaultHostNetwork, ensureHostNetwork, ensureNodeNetwork, nodeNetwork, removeHostNetwork, removeNodeNetwork, listNodeNamespaces, type NodeNetwork } from './network.js';

const exec = promisify(execFile);

export interface ClusterOptions {
  stateDir: string;
  nodes: number;
  apiPort: number;
  etcdPort: number;
  clusterCIDR: string;
  serviceCIDR: string;
  dnsIP: string;
  clusterDomain: string;
  /** One line per step, as the user sees it. */
  log: (line: string) => void;
  /** More names and addresses for the apiserver's serving certificate (kubeadm's --apiserver-cert-extra-sans); used when it is first issued. */
  apiserverSANs?: string[];
  /** Run the control plane in one process and each node's kubelet and kube-proxy in another (pkg/launcher/all-in-one.ts). */
  allInOne?: boolean;
}

export function defaultClusterOptions(stateDir: string): ClusterOptions {
  return {
    stateDir,
    nodes: 1,
    apiPort: 6443,
    etcdPort: 2379,
    clusterCIDR: '10.244.0.0/16',
    serviceCIDR: '10.96.0.0/12',
    dnsIP: '10.96.0.10',
    clusterDomain: 'cluster.local',
    log: (l) => process.stdout.write(l + '\n'),
  };
}

const nodeName = (i: number) => `node-${i + 1}`;

function nodeNetworks(n: number): NodeNetwork[] {
  return Array.from({ length: n }, (_, i) => nodeNetwork(defaultHostNetwork, i, nodeName(i)));
}

/** Node count of an existing cluster, from its state (so `down` finds every node). */
function knownNodes(stateDir: string): string[] {
  try {
    return fs.readdirSync(path.join(stateDir, 'nodes'));
  } catch {
    return [];
  }
}

export async function up(opts: ClusterOptions): Promise<string> {
  const started = Date.now();
  const layout = stateLayout(opts.stateDir);
  const pm = opts.allInOne ? new AllInOneProcessManager(opts.stateDir) : new ProcessManager(opts.stateDir);
  const host = defaultHostNetwork;
  const nodes = nodeNetworks(opts.nodes);
  const node = process.execPath;
  const root = repoRoot();
  const steps = 8;
  let step = 0;
  const say = (what: string) => opts.log(`[${++step}/${steps}] ${what}`);
  const alive = (name: string) => () => pm.running(name) !== undefined;
  const start = (spec: ProcessSpec) => pm.start(spec);
  const fail = (name: string, e: unknown): never => {
    throw new Error(`${name} did not come up: ${e instanceof Error ? e.message : String(e)}\n--- last lines of ${pm.logFile(name)} ---\n${pm.tail(name)}`);
  };

  say('certificates and kubeconfigs');
  const server = `https://${host.address}:${opts.apiPort}`;
  const pki = await ensurePKI(layout.pki, { server, nodes: nodes.map((n) => ({ name: n.name, addresses: [n.address] })), apiserverSANs: [host.address, ...(opts.apiserverSANs ?? [])] });

  say('host network and etcd');
  await ensureHostNetwork(host);
  fs.mkdirSync(layout.etcd, { recursive: true });
  const etcdURL = `http://127.0.0.1:${opts.etcdPort}`;
  start({
    name: 'etcd',
    command: 'etcd',
    args: [
      '--data-dir', layout.etcd,
      '--listen-client-urls', etcdURL,
      '--advertise-client-urls', etcdURL,
      '--listen-peer-urls', `http://127.0.0.1:${opts.etcdPort + 1}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${opts.etcdPort + 1}`,
      '--initial-cluster', `default=http://127.0.0.1:${opts.etcdPort + 1}`,
      '--log-level', 'warn',
      // Progress notifications keep the apiserver's watch caches current between writes.
      '--experimental-watch-progress-notify-interval', '1s',
    ],
  });
  await waitFor('etcd', async () => (await fetch(`${etcdURL}/health`)).ok, 30_000, alive('etcd')).catch((e) => fail('etcd', e));

  say('kube-apiserver');
  start({
    name: 'kube-apiserver',
    command: node,
    args: [
      binary('kube-apiserver'),
      `--etcd-servers=${etcdURL}`,
      '--bind-address=0.0.0.0',
      `--secure-port=${opts.apiPort}`,
      `--advertise-address=${host.address}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--kubelet-client-certificate=${pki.apiserverKubeletClientCert}`,
      `--kubelet-client-key=${pki.apiserverKubeletClientKey}`,
      `--kubelet-certificate-authority=${pki.caCert}`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-account-issuer=https://kubernetes.default.svc.${opts.clusterDomain}`,
      '--authorization-mode=Node,RBAC',
      `--service-cluster-ip-range=${opts.serviceCIDR}`,
    ],
  });
  const admin = new RestClient(loadKubeConfig(pki.adminKubeconfig), 'keelson-launcher');
  await waitFor('kube-apiserver', async () => (await admin.request('GET', '/readyz').then(() => true)), 90_000, alive('kube-apiserver')).catch((e) => fail('kube-apiserver', e));

  say('kube-controller-manager and kube-scheduler');
  start({
    name: 'kube-controller-manager',
    command: node,
    args: [
      binary('kube-controller-manager'),
      `--kubeconfig=${pki.controllerManagerKubeconfig}`,
      '--leader-elect=true',
      // Each controller acts as its own ServiceAccount with upstream's system:controller:* role.
      '--use-service-account-credentials=true',
      `--root-ca-file=${pki.caCert}`,
      '--allocate-node-cidrs=true',
      `--cluster-cidr=${opts.clusterCIDR}`,
      '--bind-address=127.0.0.1',
      '--secure-port=10257',
    ],
  });
  start({
    name: 'kube-scheduler',
    command: node,
    args: [binary('kube-scheduler'), `--kubeconfig=${pki.schedulerKubeconfig}`, '--leader-elect=true', '--bind-address=127.0.0.1', '--secure-port=10259'],
  });
  await waitFor('kube-controller-manager', async () => (await fetch('http://127.0.0.1:10257/healthz')).ok, 60_000, alive('kube-controller-manager')).catch((e) => fail('kube-controller-manager', e));
  await waitFor('kube-scheduler', async () => (await fetch('http://127.0.0.1:10259/healthz')).ok, 60_000, alive('kube-scheduler')).catch((e) => fail('kube-scheduler', e));

  say('images and the local registry');
  const registryAddr = `${host.address}:5000`;
  await exec(path.join(root, 'hack/images/build.sh'), [layout.images], { env: { ...process.env, KEELSON_REGISTRY_ADDR: registryAddr }, maxBuffer: 32 << 20 }).catch((e) => {
    throw new Error(`building the images failed: ${(e as { stderr?: string }).stderr ?? e}`);
  });
  const images = readEnvFile(path.join(layout.images, 'images.env'));
  const pause = `${registryAddr}/keelson/pause:busybox-${images.KEELSON_BUSYBOX_VERSION}`;
  const certsD = path.join(layout.images, 'certs.d');

  say(`worker nodes (${nodes.length}): containerd, kubelet, kube-proxy, routes`);
  start({ name: 'route-controller-host', command: node, args: [binary('keelson'), 'route-controller', `--kubeconfig=${pki.adminKubeconfig}`, `--addresses=${host.address}`] });
  for (const n of nodes) {
    await ensureNodeNetwork(host, n);
    const kl = pki.kubelets[n.name]!;
    await startWorker(
      pm,
      {
        name: n.name,
        address: n.address,
        netnsPath: n.netnsPath,
        layout: layout.node(n.name),
        caCert: pki.caCert,
        kubeletKubeconfig: kl.kubeconfig,
        servingCert: kl.servingCert,
        servingKey: kl.servingKey,
        kubeProxyKubeconfig: pki.kubeProxyKubeconfig,
        clusterCIDR: opts.clusterCIDR,
        dnsIP: opts.dnsIP,
        clusterDomain: opts.clusterDomain,
        pauseImage: pause,
        certsD,
      },
      fail,
    );
  }

  say('cluster DNS');
  start({
    name: 'cluster-dns',
    command: node,
    args: [binary('cluster-dns'), `--kubeconfig=${pki.adminKubeconfig}`, `--listen=${host.address}:53`, `--cluster-domain=${opts.clusterDomain}`, '--metrics-bind-address=127.0.0.1:9153'],
  });
  await ensureDNSService(admin, opts.dnsIP, host.address);

  say('waiting for the nodes to be Ready');
  await waitFor(
    'Ready nodes',
    async () => {
      const list = await admin.request<{ items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] }>('GET', '/api/v1/nodes');
      const ready = list.items.filter((i) => i.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((i) => i.metadata.name);
      return nodes.every((n) => ready.includes(n.name));
    },
    180_000,
  ).catch((e) => fail(`kubelet-${nodes[0]!.name}`, e));
  const kubeconfig = pki.adminKubeconfig;
  opts.log(`cluster is up in ${((Date.now() - started) / 1000).toFixed(0)}s with ${nodes.length} node(s); logs in ${pm.logDir}`);
  return kubeconfig;
}

/** The kube-dns Service at the DNS IP, backed by cluster-dns on the host's bridge address. */
async function ensureDNSService(admin: RestClient, dnsIP: string, dnsAddress: string): Promise<void> {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' } },
    spec: {
      clusterIP: dnsIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  };
  // Existing first: a create naming a taken ClusterIP fails on the IP before the name.
  const existing = await admin.request('GET', '/api/v1/namespaces/kube-system/services/kube-dns').catch((e) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
  if (!existing) {
    await admin.request('POST', '/api/v1/namespaces/kube-system/services', { body: svc }).catch((e) => {
      if (!isAlreadyExists(e)) throw e;
    });
  }
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kube-dns-host', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'keelson-launcher' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [dnsAddress], conditions: { ready: true } }],
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      { name: 'metrics', port: 9153, protocol: 'TCP' },
    ],
  };
  await admin.request('POST', '/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices', { body: slice }).catch((e) => {
    if (!isAlreadyExists(e)) throw e;
  });
}

/** Stops everything `up` started and removes what it made on the host; the state stays unless reset. */
export async function down(opts: ClusterOptions & { reset?: boolean }): Promise<void> {
  const layout = stateLayout(opts.stateDir);
  const pm = new ProcessManager(opts.stateDir);
  const names = knownNodes(opts.stateDir);
  const stopNamed = async (name: string) => {
    if (await pm.stop(name)) opts.log(`stopped ${name}`);
  };
  await stopNamed('cluster-dns');
  await stopNamed('route-controller-host');
  await stopNamed('kube-scheduler');
  await stopNamed('kube-controller-manager');
  for (const name of names) {
    const n = nodeNetworks(names.length).find((x) => x.name === name) ?? nodeNetwork(defaultHostNetwork, 0, name);
    await stopWorker(pm, { name, netnsPath: n.netnsPath, layout: layout.node(name) }, opts.log);
    await removeNodeNetwork(n);
  }
  for (const ns of await listNodeNamespaces()) await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
  await stopNamed('kube-apiserver');
  await stopNamed('etcd');
  await exec(path.join(repoRoot(), 'hack/images/registry.sh'), ['stop', layout.images], { env: { ...process.env, KEELSON_REGISTRY_ADDR: `${defaultHostNetwork.address}:5000` } }).catch(() => undefined);
  for (const name of pm.known()) await stopNamed(name);
  await removeHostNetwork(defaultHostNetwork);
  fs.rmSync('/run/keelson', { recursive: true, force: true });
  if (opts.reset) {
    fs.rmSync(opts.stateDir, { recursive: true, force: true });
    opts.log(`removed ${opts.stateDir}`);
  }
}

export function status(opts: ClusterOptions): { name: string; pid?: number }[] {
  const pm = new ProcessManager(opts.stateDir);
  return pm.known().map((name) => ({ name, pid: pm.running(name) }));
}
