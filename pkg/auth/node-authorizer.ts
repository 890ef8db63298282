/**
 * The Node authorizer (upstream's plugin/pkg/auth/authorizer/node): a kubelet (`system:node:<name>`
 * in group system:nodes) may read a Secret, ConfigMap, PersistentVolumeClaim or PersistentVolume
 * only when a pod bound to its node references it, may ask for ServiceAccount tokens only for its
 * pods' ServiceAccounts, may touch only its own Lease, and otherwise gets the system:node rules.
 * Which objects it may write is narrowed further by the NodeRestriction admission plugin.
 *
 * The "graph" is an index of what the pods on each node reference, rebuilt from the pod and PVC
 * caches whenever they move on.
 */
import type { StoredObject } from '../api/types.js';
import type { ClusterState } from './cluster-state.js';
import type { AuthorizationAttributes, Authorizer, Decision } from './types.js';
import { nodeNameOf } from './node-identity.js';
import { ruleAllows } from './rbac/rules.js';
import { nodeRules } from './rbac/bootstrap-policy.js';

interface NodeRefs {
  secrets: Set<string>;
  configmaps: Set<string>;
  persistentvolumeclaims: Set<string>;
  persistentvolumes: Set<string>;
  serviceaccounts: Set<string>;
}

function emptyRefs(): NodeRefs {
  return { secrets: new Set(), configmaps: new Set(), persistentvolumeclaims: new Set(), persistentvolumes: new Set(), serviceaccounts: new Set() };
}

/** Everything a pod references by name, as `kind → names` (namespace-local). */
export function podReferences(pod: StoredObject): { secrets: string[]; configmaps: string[]; pvcs: string[]; serviceAccount: string } {
  const spec = pod.spec ?? {};
  const secrets = new Set<string>();
  const configmaps = new Set<string>();
  const pvcs = new Set<string>();
  for (const s of spec.imagePullSecrets ?? []) if (s?.name) secrets.add(s.name);
  for (const v of spec.volumes ?? []) {
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    if (v.configMap?.name) configmaps.add(v.configMap.name);
    if (v.persistentVolumeClaim?.claimName) pvcs.add(v.persistentVolumeClaim.claimName);
    if (v.ephemeral) pvcs.add(`${pod.metadata.name}-${v.name}`);
    for (const src of v.projected?.sources ?? []) {
      if (src.secret?.name) secrets.add(src.secret.name);
      if (src.configMap?.name) configmaps.add(src.configMap.name);
    }
    for (const ref of [v.csi?.nodePublishSecretRef, v.cephfs?.secretRef, v.rbd?.secretRef, v.iscsi?.secretRef, v.flexVolume?.secretRef, v.azureFile && { name: v.azureFile.secretName }]) {
      if (ref?.name) secrets.add(ref.name);
    }
  }
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
      if (e.valueFrom?.configMapKeyRef?.name) configmaps.add(e.valueFrom.configMapKeyRef.name);
    }
    for (const e of c.envFrom ?? []) {
      if (e.secretRef?.name) secrets.add(e.secretRef.name);
      if (e.configMapRef?.name) configmaps.add(e.configMapRef.name);
    }
  }
  return { secrets: [...secrets], configmaps: [...configmaps], pvcs: [...pvcs], serviceAccount: spec.serviceAccountName || 'default' };
}

export class NodeAuthorizer implements Authorizer {
  private graph: { revisions: string; byNode: Map<string, NodeRefs> } | undefined;

  constructor(private readonly state: ClusterState) {}

  /** What the pods bound to each node reference, as `ns/name` sets. */
  refsOf(node: string): NodeRefs {
    const st = this.state;
    const revisions = `${st.revision('', 'pods')}/${st.revision('', 'persistentvolumeclaims')}`;
    if (!this.graph || this.graph.revisions !== revisions) {
      const byNode = new Map<string, NodeRefs>();
      for (const pod of st.list('', 'pods')) {
        const n = pod.spec?.nodeName;
        if (!n) continue;
        let refs = byNode.get(n);
        if (!refs) byNode.set(n, (refs = emptyRefs()));
        const ns = pod.metadata.namespace!;
        const r = podReferences(pod);
        for (const s of r.secrets) refs.secrets.add(`${ns}/${s}`);
        for (const c of r.configmaps) refs.configmaps.add(`${ns}/${c}`);
        for (const p of r.pvcs) {
          refs.persistentvolumeclaims.add(`${ns}/${p}`);
          const pv = st.get('', 'persistentvolumeclaims', ns, p)?.spec?.volumeName;
          if (pv) refs.persistentvolumes.add(pv);
        }
        refs.serviceaccounts.add(`${ns}/${r.serviceAccount}`);
      }
      this.graph = { revisions, byNode };
    }
    return this.graph.byNode.get(node) ?? emptyRefs();
  }

  authorize(a: AuthorizationAttributes): Decision {
    const node = nodeNameOf(a.user);
    if (node === undefined) return { decision: 'noOpinion' };
    if (!a.isResourceRequest) return { decision: 'noOpinion' };
    const noRelationship: Decision = { decision: 'noOpinion', reason: `no relationship found between node '${node}' and this object` };
    if (a.apiGroup === '') {
      const graphRead = (kind: keyof NodeRefs, key: string): Decision => {
        if (a.verb !== 'get') return { decision: 'noOpinion', reason: `can only get individual resources of this type` };
        if (a.subresource) return { decision: 'noOpinion', reason: `cannot get subresource ${a.subresource}` };
        return this.refsOf(node)[kind].has(key) ? { decision: 'allow' } : noRelationship;
      };
      if (!a.name && ['secrets', 'configmaps', 'persistentvolumeclaims', 'persistentvolumes'].includes(a.resource)) {
        return { decision: 'noOpinion', reason: `can only get individual resources of this type` };
      }
      switch (a.resource) {
        case 'secrets':
        case 'configmaps':
          return graphRead(a.resource, `${a.namespace}/${a.name}`);
        case 'persistentvolumeclaims':
          if (a.subresource === 'status' && ['get', 'update', 'patch'].includes(a.verb)) {
            return this.refsOf(node).persistentvolumeclaims.has(`${a.namespace}/${a.name}`) ? { decision: 'allow' } : noRelationship;
          }
          return graphRead('persistentvolumeclaims', `${a.namespace}/${a.name}`);
        case 'persistentvolumes':
          return graphRead('persistentvolumes', a.name!);
        case 'serviceaccounts':
          if (a.subresource === 'token' && a.verb === 'create') {
            return this.refsOf(node).serviceaccounts.has(`${a.namespace}/${a.name}`) ? { decision: 'allow' } : noRelationship;
          }
          break;
      }
    }
    if (a.apiGroup === 'coordination.k8s.io' && a.resource === 'leases') {
      if (a.namespace !== 'kube-node-lease') return { decision: 'noOpinion', reason: 'can only access leases in the kube-node-lease namespace' };
      if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return { decision: 'noOpinion', reason: `can only get, create, update, patch, or delete a node lease` };
      if (a.verb !== 'create' && a.name !== node) return { decision: 'noOpinion', reason: 'can only access node lease with the same name as the requesting node' };
      return { decision: 'allow' };
    }
    return nodeRules.some((r) => ruleAllows(a, r)) ? { decision: 'allow' } : { decision: 'noOpinion' };
  }
}
