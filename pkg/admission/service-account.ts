/**
 * ServiceAccount admission: every pod runs as a ServiceAccount ("default" unless named), which
 * must exist, and unless automountServiceAccountToken is false (on the pod, else on the SA) the
 * pod gets a `kube-api-access-<suffix>` projected volume — a bound token (3607 s, refreshed by the
 * kubelet), the cluster CA from the kube-root-ca.crt ConfigMap and the namespace — mounted
 * read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container.
 */
import * as errors from '../api/errors.js';
import { randomSuffix } from '../api/meta.js';
import type { StoredObject } from '../api/types.js';
import type { ClusterState } from '../auth/cluster-state.js';
import type { AdmissionPlugin } from './types.js';
import { allContainers, forbidden, isMirrorPod, isResource } from './util.js';

export const serviceAccountMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
export const rootCAConfigMap = 'kube-root-ca.crt';

/** The projected volume upstream's plugin adds. */
export function kubeAPIAccessVolume(name: string): Record<string, unknown> {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: rootCAConfigMap, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

export function serviceAccountAdmission(state: ClusterState): AdmissionPlugin {
  const lookup = async (ns: string, name: string): Promise<StoredObject | undefined> => {
    const cached = state.get('', 'serviceaccounts', ns, name);
    if (cached) return cached;
    const d = state.def('', 'serviceaccounts');
    if (!d || !state.store) return undefined;
    try {
      return await state.store.get(d, ns, name);
    } catch (e) {
      if (errors.isStatusError(e) && e.code === 404) return undefined;
      throw e;
    }
  };
  return {
    name: 'ServiceAccount',
    async admit(a) {
      if (a.operation !== 'CREATE' || !isResource(a, '', 'pods') || !a.object) return;
      const pod = a.object;
      const spec = (pod.spec ??= {});
      if (isMirrorPod(pod)) {
        if (spec.serviceAccountName) throw forbidden(a, 'a mirror pod may not reference service accounts');
        return;
      }
      if (!spec.serviceAccountName) spec.serviceAccountName = 'default';
      // v1 keeps the deprecated alias equal to the name, as upstream's conversion writes it.
      spec.serviceAccount = spec.serviceAccountName;
      const ns = a.namespace!;
      const sa = await lookup(ns, spec.serviceAccountName);
      if (!sa) throw forbidden(a, `error looking up service account ${ns}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`);
      if ((!spec.imagePullSecrets || spec.imagePullSecrets.length === 0) && Array.isArray(sa.imagePullSecrets) && sa.imagePullSecrets.length) {
        spec.imagePullSecrets = sa.imagePullSecrets.map((s: { name: string }) => ({ name: s.name }));
      }
      const automount = spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
      if (!automount) return;
      const containers = allContainers(pod).filter((x) => !x.ephemeral);
      // A pod that mounts something at the token path itself keeps it.
      if (containers.some(({ c }) => (c.volumeMounts ?? []).some((m: { mountPath?: string }) => m.mountPath === serviceAccountMountPath))) return;
      const volumes: any[] = (spec.volumes ??= []);
      let name = `kube-api-access-${randomSuffix(5)}`;
      while (volumes.some((v) => v.name === name)) name = `kube-api-access-${randomSuffix(5)}`;
      volumes.push(kubeAPIAccessVolume(name));
      for (const { c } of containers) (c.volumeMounts ??= []).push({ name, readOnly: true, mountPath: serviceAccountMountPath });
    },
  };
}
