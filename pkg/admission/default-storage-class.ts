/**
 * DefaultStorageClass: a PersistentVolumeClaim created without spec.storageClassName gets the
 * default StorageClass (annotation storageclass.kubernetes.io/is-default-class: "true"; the newest
 * one when several are marked). An explicit "" keeps meaning "no class".
 */
import type { StoredObject } from '../api/types.js';
import type { ClusterState } from '../auth/cluster-state.js';
import type { AdmissionPlugin } from './types.js';
import { isResource } from './util.js';

const defaultAnnotations = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

export function defaultStorageClassOf(classes: StoredObject[]): StoredObject | undefined {
  const defaults = classes.filter((c) => defaultAnnotations.some((k) => c.metadata.annotations?.[k] === 'true'));
  defaults.sort((x, y) => {
    const t = (y.metadata.creationTimestamp ?? '').localeCompare(x.metadata.creationTimestamp ?? '');
    return t !== 0 ? t : (x.metadata.name ?? '').localeCompare(y.metadata.name ?? '');
  });
  return defaults[0];
}

export function defaultStorageClass(state: ClusterState): AdmissionPlugin {
  return {
    name: 'DefaultStorageClass',
    admit(a) {
      if (a.operation !== 'CREATE' || !isResource(a, '', 'persistentvolumeclaims') || !a.object) return;
      const spec = (a.object.spec ??= {});
      if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
      const sc = defaultStorageClassOf(state.list('storage.k8s.io', 'storageclasses'));
      if (sc) spec.storageClassName = sc.metadata.name;
    },
  };
}
