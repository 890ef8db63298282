/** Kubeconfig files with embedded credentials, as kubeadm writes them (admin.conf and friends). */
import { stringify } from 'yaml';

export interface KubeconfigSpec {
  server: string;
  caPem: string;
  /** The user entry's name (e.g. kubernetes-admin, system:node:n1). */
  userName: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  token?: string;
  clusterName?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Renders a kubeconfig with one cluster, one user and one current context. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  const cluster = spec.clusterName ?? 'kubernetes';
  const context = `${spec.userName}@${cluster}`;
  const user: Record<string, string> = {};
  if (spec.clientCertPem) user['client-certificate-data'] = b64(spec.clientCertPem);
  if (spec.clientKeyPem) user['client-key-data'] = b64(spec.clientKeyPem);
  if (spec.token) user.token = spec.token;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) } }],
    contexts: [{ name: context, context: { cluster, user: spec.userName } }],
    'current-context': context,
    preferences: {},
    users: [{ name: spec.userName, user }],
  });
}
