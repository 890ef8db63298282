/**
 * A secure apiserver for tests: a fresh PKI in a temporary directory (ensurePKI), https with
 * client certificates, ServiceAccount tokens, Node+RBAC authorization and the default admission
 * chain, in-process on port 0. Kubeconfigs for the admin and each node are rewritten with the
 * real port once the server listens.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { run, defaultApiserverConfig, type ApiserverConfig } from '../../pkg/apiserver/server.js';
import { ensurePKI, type PKIPaths } from '../../pkg/pki/pki.js';
import { renderKubeconfig } from '../../pkg/pki/kubeconfig.js';
import { applySecurity, defaultSecurityOptions, type SecurityOptions } from '../../pkg/auth/options.js';

export interface SecureApiserver {
  url: string;
  dir: string;
  pki: PKIPaths;
  /** The admin kubeconfig (kubernetes-admin, system:masters). */
  adminKubeconfig: string;
  /** Writes a kubeconfig that authenticates with a bearer token. */
  tokenKubeconfig(token: string, name?: string): string;
  stop(): Promise<void>;
}

export interface SecureApiserverOptions {
  /** Nodes with kubeconfigs and serving certificates; addresses become serving-certificate SANs. */
  nodes?: Array<string | { name: string; addresses?: string[] }>;
  /** Dial kubelets with https and the apiserver-kubelet-client certificate, verified against the CA. */
  kubeletClient?: boolean;
  /** Contents of a --token-auth-file. */
  tokenFile?: string;
  /** An EncryptionConfiguration object (written as JSON, which is YAML). */
  encryptionConfig?: unknown;
  security?: Partial<SecurityOptions>;
  overrides?: Partial<ApiserverConfig>;
}

export async function startSecureApiserver(etcdEndpoint: string, opts: SecureApiserverOptions = {}): Promise<SecureApiserver> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-secure-'));
  const placeholder = 'https://127.0.0.1:6443';
  const pki = await ensurePKI(path.join(dir, 'pki'), { server: placeholder, nodes: (opts.nodes ?? []).map((n) => (typeof n === 'string' ? { name: n } : n)) });
  const sec: SecurityOptions = {
    ...defaultSecurityOptions(),
    clientCAFile: pki.caCert,
    serviceAccountKeyFiles: [pki.serviceAccountPub],
    serviceAccountSigningKeyFile: pki.serviceAccountKey,
    serviceAccountIssuers: ['https://kubernetes.default.svc.cluster.local'],
    ...opts.security,
  };
  if (opts.tokenFile !== undefined) {
    sec.tokenAuthFile = path.join(dir, 'tokens.csv');
    fs.writeFileSync(sec.tokenAuthFile, opts.tokenFile, { mode: 0o600 });
  }
  if (opts.encryptionConfig) {
    sec.encryptionProviderConfig = path.join(dir, 'encryption.yaml');
    fs.writeFileSync(sec.encryptionProviderConfig, JSON.stringify(opts.encryptionConfig), { mode: 0o600 });
  }
  const ac = new AbortController();
  let resolveUrl!: (u: string) => void;
  const urlP = new Promise<string>((r) => (resolveUrl = r));
  const config: ApiserverConfig = {
    ...defaultApiserverConfig(),
    etcdServers: [etcdEndpoint],
    port: 0,
    logLevel: 'silent',
    tlsCertFile: pki.apiserverCert,
    tlsPrivateKeyFile: pki.apiserverKey,
    ...(opts.kubeletClient ? { kubeletClientCertFile: pki.apiserverKubeletClientCert, kubeletClientKeyFile: pki.apiserverKubeletClientKey, kubeletCAFile: pki.caCert } : {}),
    ...opts.overrides,
    onListening: (a) => resolveUrl(a.url),
  };
  applySecurity(config, sec);
  const done = run(config, ac.signal);
  const url = await Promise.race([urlP, done.then(() => Promise.reject(new Error('apiserver exited before listening')))]);
  for (const f of fs.readdirSync(pki.dir).filter((n) => n.endsWith('.conf'))) {
    const p = path.join(pki.dir, f);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace(placeholder, url));
  }
  const caPem = fs.readFileSync(pki.caCert, 'utf8');
  let n = 0;
  return {
    url,
    dir,
    pki,
    adminKubeconfig: pki.adminKubeconfig,
    tokenKubeconfig(token: string, name = `token-${++n}`) {
      const file = path.join(dir, `${name}.conf`);
      fs.writeFileSync(file, renderKubeconfig({ server: url, caPem, userName: name, token }), { mode: 0o600 });
      return file;
    },
    stop: async () => {
      ac.abort();
      await done;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

/** One https request trusting the cluster CA, optionally with a client certificate or bearer token. */
export function httpsRequest(url: string, opts: { ca: string; method?: string; headers?: Record<string, string>; cert?: string; key?: string; body?: unknown }): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = https.request(
      url,
      {
        method: opts.method ?? 'GET',
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        headers: { ...(data ? { 'Content-Type': 'application/json' } : {}), ...(opts.headers ?? {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: any;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
