/**
 * NodeRestriction: a kubelet (`system:node:<name>`) may only change its own Node (not its taints,
 * nor set labels outside the kubelet's allowed set), its own Lease in kube-node-lease, the status
 * of pods bound to it, delete pods bound to it, and create mirror pods for itself that reference
 * no Secrets, ConfigMaps, PVCs or ServiceAccounts. The Node authorizer decides reads; this
 * plugin narrows writes to the objects that are the node's own.
 */
import { deepEqual } from '../api/meta.js';
import type { StoredObject } from '../api/types.js';
import { nodeNameOf } from '../auth/node-identity.js';
import { podReferences } from '../auth/node-authorizer.js';
import type { AdmissionAttributes, AdmissionPlugin } from './types.js';
import { forbidden, isMirrorPod } from './util.js';

const kubeletLabels = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
]);
const kubeletLabelNamespaces = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

/** Labels under kubernetes.io / k8s.io that a kubelet may not set on its Node. */
export function forbiddenNodeLabels(labels: string[]): string[] {
  const out: string[] = [];
  for (const l of labels) {
    const slash = l.indexOf('/');
    if (slash < 0) continue;
    const ns = l.slice(0, slash);
    if (ns === 'node-restriction.kubernetes.io' || ns.endsWith('.node-restriction.kubernetes.io')) {
      out.push(l);
      continue;
    }
    const isKube = ns === 'kubernetes.io' || ns.endsWith('.kubernetes.io') || ns === 'k8s.io' || ns.endsWith('.k8s.io');
    if (!isKube || kubeletLabels.has(l)) continue;
    if (kubeletLabelNamespaces.some((k) => ns === k || ns.endsWith(`.${k}`))) continue;
    out.push(l);
  }
  return out.sort();
}

function changedLabels(obj: StoredObject, old?: StoredObject): string[] {
  const cur = obj.metadata.labels ?? {};
  const prev = old?.metadata.labels ?? {};
  const keys = new Set([...Object.keys(cur), ...Object.keys(prev)]);
  return [...keys].filter((k) => cur[k] !== prev[k]);
}

function admitPod(node: string, a: AdmissionAttributes): void {
  if (a.subresource === 'status') {
    if (a.operation !== 'UPDATE') throw forbidden(a, `unexpected operation ${a.operation}`);
    if (a.oldObject?.spec?.nodeName !== node) throw forbidden(a, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
    return;
  }
  if (a.subresource) return;
  switch (a.operation) {
    case 'CREATE': {
      const pod = a.object!;
      if (!isMirrorPod(pod)) throw forbidden(a, `pod does not have "kubernetes.io/config.mirror" annotation, node "${node}" can only create mirror pods`);
      if (pod.spec?.nodeName !== node) throw forbidden(a, `node "${node}" can only create pods with spec.nodeName set to itself`);
      const owners: any[] = pod.metadata.ownerReferences ?? [];
      if (owners.length > 1 || (owners.length === 1 && (owners[0].kind !== 'Node' || owners[0].name !== node))) {
        throw forbidden(a, `node "${node}" can only create pods with an owner reference set to itself`);
      }
      const refs = podReferences(pod);
      if (pod.spec?.serviceAccountName) throw forbidden(a, `node "${node}" can not create pods that use service accounts`);
      if (refs.secrets.length) throw forbidden(a, `node "${node}" can not create pods that reference secrets`);
      if (refs.configmaps.length) throw forbidden(a, `node "${node}" can not create pods that reference configmaps`);
      if (refs.pvcs.length) throw forbidden(a, `node "${node}" can not create pods that reference persistentvolumeclaims`);
      return;
    }
    case 'DELETE':
      if (a.oldObject?.spec?.nodeName !== node) throw forbidden(a, `node "${node}" can only delete pods with spec.nodeName set to itself`);
      return;
    default:
      throw forbidden(a, `unexpected operation "${a.operation}", node "${node}" can only create and delete mirror pods`);
  }
}

function admitNode(node: string, a: AdmissionAttributes): void {
  if (a.name !== node) throw forbidden(a, `node "${node}" is not allowed to modify node "${a.name}"`);
  if (a.operation === 'CREATE' && a.object) {
    const bad = forbiddenNodeLabels(Object.keys(a.object.metadata.labels ?? {}));
    if (bad.length) throw forbidden(a, `node "${node}" is not allowed to set the following labels: ${bad.join(', ')}`);
  }
  if (a.operation === 'UPDATE' && a.object && a.oldObject) {
    if (!deepEqual(a.object.spec?.taints ?? [], a.oldObject.spec?.taints ?? [])) throw forbidden(a, `node "${node}" is not allowed to modify taints`);
    const bad = forbiddenNodeLabels(changedLabels(a.object, a.oldObject));
    if (bad.length) throw forbidden(a, `node "${node}" is not allowed to modify labels: ${bad.join(', ')}`);
  }
}

export function nodeRestriction(): AdmissionPlugin {
  return {
    name: 'NodeRestriction',
    validate(a) {
      const node = a.user ? nodeNameOf(a.user) : undefined;
      if (node === undefined) return;
      const g = a.def.group;
      const r = a.def.plural;
      if (g === '' && r === 'pods') return admitPod(node, a);
      if (g === '' && r === 'nodes') return admitNode(node, a);
      if (g === 'coordination.k8s.io' && r === 'leases' && a.namespace === 'kube-node-lease' && a.name !== node) {
        throw forbidden(a, 'can only access node lease with the same name as the requesting node');
      }
    },
  };
}
