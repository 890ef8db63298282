/**
 * Loading a kubeconfig for components that talk to the apiserver, as client-go's
 * `clientcmd.BuildConfigFromFlags` does: an explicit file, else $KUBECONFIG or ~/.kube/config,
 * else the in-cluster ServiceAccount.
 */
import fs from 'node:fs';
import { KubeConfig } from './client-node.js';

/** Loads the kubeconfig at `path`, or the default one when path is empty. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromString(fs.readFileSync(path, 'utf8'));
  else if (process.env.KUBERNETES_SERVICE_HOST && !process.env.KUBECONFIG) kc.loadFromCluster();
  else kc.loadFromDefault();
  return allowPlainHTTP(kc);
}

/** Loads a kubeconfig from its text. */
export function kubeConfigFromString(text: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return allowPlainHTTP(kc);
}

/**
 * client-node refuses an `http:` server unless the cluster says insecure-skip-tls-verify, which
 * means nothing without TLS. The apiserver serves plain http for now (tests, local setups), so
 * such clusters get the flag here; https clusters are left exactly as configured.
 */
export function allowPlainHTTP(kc: KubeConfig): KubeConfig {
  if (!kc.clusters.some((c) => c.server.startsWith('http:') && !c.skipTLSVerify)) return kc;
  kc.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.server.startsWith('http:') ? { ...c, skipTLSVerify: true } : c)),
    contexts: kc.contexts,
    users: kc.users,
    currentContext: kc.currentContext,
  });
  return kc;
}

/** The URL of the current cluster's apiserver, without a trailing slash. */
export function serverURL(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return cluster.server.replace(/\/+$/, '');
}
