/**
 * The cluster PKI on disk, laid out like kubeadm's /etc/kubernetes/pki plus one kubeconfig per
 * component. `ensurePKI` creates whatever is missing and keeps what exists, so the launcher can
 * call it at every start and a new node only adds its own certificates.
 */
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { createCA, loadCA, issueCert, createSigningKey, type CertificateAuthority, type CertRequest } from './certs.js';
import { renderKubeconfig } from './kubeconfig.js';

export interface NodeSpec {
  name: string;
  /** IPs and host names of the node: SANs of its kubelet serving certificate and of the apiserver's. */
  addresses?: string[];
}

export interface PKIOptions {
  /** The apiserver URL written into kubeconfigs (https://127.0.0.1:6443). */
  server: string;
  /** The first address of the service CIDR: the `kubernetes` Service's ClusterIP. */
  serviceIP?: string;
  clusterDomain?: string;
  /** More SANs for the apiserver serving certificate (advertise address, load balancer name). */
  apiserverSANs?: string[];
  /** Nodes that run a kubelet. Their addresses also go into the apiserver certificate. */
  nodes?: NodeSpec[];
  clusterName?: string;
}

/** Paths of everything ensurePKI wrote, by role. */
export interface PKIPaths {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  /** The apiserver's client certificate towards kubelets (logs, exec, port-forward), as kubeadm's apiserver-kubelet-client. */
  apiserverKubeletClientCert: string;
  apiserverKubeletClientKey: string;
  /** ServiceAccount token signing key (private) and verification key (public). */
  serviceAccountKey: string;
  serviceAccountPub: string;
  adminKubeconfig: string;
  controllerManagerKubeconfig: string;
  schedulerKubeconfig: string;
  kubeProxyKubeconfig: string;
  /** Per node: client kubeconfig and serving certificate. */
  kubelets: Record<string, { kubeconfig: string; clientCert: string; clientKey: string; servingCert: string; servingKey: string }>;
}

function writeFile(file: string, data: string, secret: boolean): void {
  fs.writeFileSync(file, data, { mode: secret ? 0o600 : 0o644 });
}

function isIP(s: string): boolean {
  return net.isIP(s) !== 0;
}

/** Creates the files that are missing; existing ones are kept as they are. */
export async function ensurePKI(dir: string, opts: PKIOptions): Promise<PKIPaths> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (f: string) => path.join(dir, f);
  const exists = (f: string) => fs.existsSync(p(f));

  let ca: CertificateAuthority;
  if (exists('ca.crt') && exists('ca.key')) ca = await loadCA(fs.readFileSync(p('ca.crt'), 'utf8'), fs.readFileSync(p('ca.key'), 'utf8'));
  else {
    ca = await createCA('kubernetes');
    writeFile(p('ca.key'), ca.keyPem, true);
    writeFile(p('ca.crt'), ca.certPem, false);
  }

  const ensurePair = async (base: string, req: CertRequest): Promise<{ certPem: string; keyPem: string }> => {
    if (exists(`${base}.crt`) && exists(`${base}.key`)) return { certPem: fs.readFileSync(p(`${base}.crt`), 'utf8'), keyPem: fs.readFileSync(p(`${base}.key`), 'utf8') };
    const kp = await issueCert(ca, req);
    writeFile(p(`${base}.key`), kp.keyPem, true);
    writeFile(p(`${base}.crt`), kp.certPem, false);
    return kp;
  };
  const ensureKubeconfig = async (file: string, user: string, req: CertRequest) => {
    const kp = await ensurePair(file.replace(/\.conf$/, ''), req);
    if (!exists(file)) writeFile(p(file), renderKubeconfig({ server: opts.server, caPem: ca.certPem, userName: user, clientCertPem: kp.certPem, clientKeyPem: kp.keyPem, clusterName: opts.clusterName }), true);
  };

  const domain = opts.clusterDomain ?? 'cluster.local';
  const sans = new Set(['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${domain}`, 'localhost', '127.0.0.1', opts.serviceIP ?? '10.96.0.1']);
  for (const s of opts.apiserverSANs ?? []) sans.add(s);
  for (const n of opts.nodes ?? []) for (const a of n.addresses ?? []) sans.add(a);
  try {
    sans.add(new URL(opts.server).hostname.replace(/^\[|\]$/g, ''));
  } catch {
    // not a URL: nothing to add
  }
  await ensurePair('apiserver', { commonName: 'kube-apiserver', usage: 'server', dnsNames: [...sans].filter((s) => !isIP(s)), ipAddresses: [...sans].filter(isIP) });

  await ensurePair('apiserver-kubelet-client', { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usage: 'client' });

  if (!exists('sa.key')) {
    const k = createSigningKey();
    writeFile(p('sa.key'), k.privatePem, true);
    writeFile(p('sa.pub'), k.publicPem, false);
  }

  await ensureKubeconfig('admin.conf', 'kubernetes-admin', { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client' });
  await ensureKubeconfig('controller-manager.conf', 'system:kube-controller-manager', { commonName: 'system:kube-controller-manager', usage: 'client' });
  await ensureKubeconfig('scheduler.conf', 'system:kube-scheduler', { commonName: 'system:kube-scheduler', usage: 'client' });
  await ensureKubeconfig('kube-proxy.conf', 'system:kube-proxy', { commonName: 'system:kube-proxy', usage: 'client' });

  const kubelets: PKIPaths['kubelets'] = {};
  for (const n of opts.nodes ?? []) {
    const user = `system:node:${n.name}`;
    await ensureKubeconfig(`kubelet-${n.name}.conf`, user, { commonName: user, organizations: ['system:nodes'], usage: 'client' });
    const addrs = [n.name, ...(n.addresses ?? [])];
    await ensurePair(`kubelet-${n.name}-serving`, { commonName: user, organizations: ['system:nodes'], usage: 'server', dnsNames: addrs.filter((a) => !isIP(a)), ipAddresses: addrs.filter(isIP) });
    kubelets[n.name] = {
      kubeconfig: p(`kubelet-${n.name}.conf`),
      clientCert: p(`kubelet-${n.name}.crt`),
      clientKey: p(`kubelet-${n.name}.key`),
      servingCert: p(`kubelet-${n.name}-serving.crt`),
      servingKey: p(`kubelet-${n.name}-serving.key`),
    };
  }

  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    apiserverCert: p('apiserver.crt'),
    apiserverKey: p('apiserver.key'),
    apiserverKubeletClientCert: p('apiserver-kubelet-client.crt'),
    apiserverKubeletClientKey: p('apiserver-kubelet-client.key'),
    serviceAccountKey: p('sa.key'),
    serviceAccountPub: p('sa.pub'),
    adminKubeconfig: p('admin.conf'),
    controllerManagerKubeconfig: p('controller-manager.conf'),
    schedulerKubeconfig: p('scheduler.conf'),
    kubeProxyKubeconfig: p('kube-proxy.conf'),
    kubelets,
  };
}
