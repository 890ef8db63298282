/**
 * Loading a kubeconfig for components that talk to the apiserver, as client-go's
 * `clientcmd.BuildConfigFromFlags` does: an explicit file, else $KUBECONFIG or ~/.kube/config,
 * else the in-cluster ServiceAccount.
 */
import fs from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

/** Loads the kubeconfig at `path`, or the default one when path is empty. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) {
    kc.loadFromString(fs.readFileSync(path, 'utf8'));
    return kc;
  }
  if (process.env.KUBERNETES_SERVICE_HOST && !process.env.KUBECONFIG) {
    kc.loadFromCluster();
    return kc;
  }
  kc.loadFromDefault();
  return kc;
}

/** The URL of the current cluster's apiserver, without a trailing slash. */
export function serverURL(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return cluster.server.replace(/\/+$/, '');
}
