/**
 * StatefulSet pod identity and revisions (stateful_set_utils.go): pods are `<set>-<ordinal>`,
 * use their name as hostname under the set's governing Service, carry the pod-name, pod-index
 * and controller-revision-hash labels, and mount the claims `<claim>-<set>-<ordinal>`.
 */
import type { ControllerRevision, OwnerReference, PersistentVolumeClaim, Pod, PodSpec, PodTemplateSpec, StatefulSet } from '../../api/types.js';
import { clone } from '../../api/meta.js';
import { controllerRevisionHashLabel, newControllerRevision } from '../history/history.js';

export const statefulSetPodNameLabel = 'statefulset.kubernetes.io/pod-name';
export const podIndexLabel = 'apps.kubernetes.io/pod-index';

type Volume = NonNullable<PodSpec['volumes']>[number];

const podNameRe = /^(.*)-([0-9]+)$/;

/** getParentNameAndOrdinal: the set name and ordinal a pod's name spells, or ordinal -1. */
export function parentNameAndOrdinal(pod: Pod): { parent: string; ordinal: number } {
  const m = podNameRe.exec(pod.metadata?.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const ordinal = Number(m[2]);
  return Number.isSafeInteger(ordinal) ? { parent: m[1]!, ordinal } : { parent: '', ordinal: -1 };
}

export function getOrdinal(pod: Pod): number {
  return parentNameAndOrdinal(pod).ordinal;
}

/** isMemberOf: the pod's name is `<set>-<ordinal>`. */
export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return parentNameAndOrdinal(pod).parent === set.metadata?.name;
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata!.name}-${ordinal}`;
}

/** getPersistentVolumeClaimName: `<claim>-<set>-<ordinal>`. */
export function claimName(set: StatefulSet, claim: PersistentVolumeClaim, ordinal: number): string {
  return `${claim.metadata?.name}-${set.metadata!.name}-${ordinal}`;
}

/** The first ordinal (`spec.ordinals.start`, 0 by default). */
export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

export function replicasOf(set: StatefulSet): number {
  return set.spec?.replicas ?? 1;
}

export function getPodRevision(pod: Pod | undefined): string {
  return pod?.metadata?.labels?.[controllerRevisionHashLabel] ?? '';
}

/** The claims a pod of `ordinal` gets, one per volumeClaimTemplate, labelled with the set's selector labels. */
export function persistentVolumeClaimsFor(set: StatefulSet, ordinal: number): Map<string, PersistentVolumeClaim> {
  const out = new Map<string, PersistentVolumeClaim>();
  for (const tmpl of set.spec?.volumeClaimTemplates ?? []) {
    const name = claimName(set, tmpl, ordinal);
    const labels = { ...(tmpl.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) };
    const claim: PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace: set.metadata!.namespace, labels },
      spec: clone(tmpl.spec),
    };
    if (tmpl.metadata?.annotations) claim.metadata!.annotations = { ...tmpl.metadata.annotations };
    out.set(tmpl.metadata?.name ?? '', claim);
  }
  return out;
}

/** newStatefulSetPod: the pod of `ordinal` from the set's template, with identity and storage. */
export function newStatefulSetPod(set: StatefulSet, template: PodTemplateSpec, ordinal: number, controllerRef: OwnerReference): Pod {
  const name = podName(set, ordinal);
  const meta = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata!.namespace,
      labels: { ...(meta.labels ?? {}), [statefulSetPodNameLabel]: name, [podIndexLabel]: String(ordinal) },
      ownerReferences: [controllerRef],
    },
    spec: clone(template.spec)!,
  };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata!.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata!.finalizers = [...meta.finalizers];
  pod.spec!.hostname = name;
  if (set.spec?.serviceName) pod.spec!.subdomain = set.spec.serviceName;
  updateStorage(set, pod, ordinal);
  return pod;
}

/** updateStorage: every claim template becomes a persistentVolumeClaim volume, replacing a template volume of the same name. */
export function updateStorage(set: StatefulSet, pod: Pod, ordinal: number): void {
  const claims = persistentVolumeClaimsFor(set, ordinal);
  if (claims.size === 0) return;
  const volumes: Volume[] = [];
  for (const [tmplName, claim] of claims) volumes.push({ name: tmplName, persistentVolumeClaim: { claimName: claim.metadata!.name! } });
  for (const v of pod.spec!.volumes ?? []) if (!claims.has(v.name)) volumes.push(v);
  pod.spec!.volumes = volumes;
}

/** identityMatches: name, namespace, pod-name label, hostname and subdomain as the set wants them. */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentNameAndOrdinal(pod);
  return (
    ordinal >= 0 &&
    parent === set.metadata?.name &&
    pod.metadata?.namespace === set.metadata?.namespace &&
    pod.metadata?.labels?.[statefulSetPodNameLabel] === pod.metadata?.name &&
    pod.metadata?.labels?.[podIndexLabel] === String(ordinal)
  );
}

/** updateIdentity: restores the identity labels on a pod (in place). */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = getOrdinal(pod);
  pod.metadata!.labels = { ...(pod.metadata!.labels ?? {}), [statefulSetPodNameLabel]: pod.metadata!.name!, [podIndexLabel]: String(ordinal) };
}

/**
 * getPatch: what a revision stores, the template with `$patch: replace` so that applying it as a
 * strategic merge patch replaces the template whole.
 */
export function revisionData(set: StatefulSet): unknown {
  return { spec: { template: { ...clone(set.spec?.template ?? {}), $patch: 'replace' } } };
}

/** newRevision: the revision for the set's current template. */
export function newRevision(set: StatefulSet, controllerRef: OwnerReference, revision: number, collisionCount: number | undefined): ControllerRevision {
  return newControllerRevision(set, controllerRef, set.spec?.template?.metadata?.labels, revisionData(set), revision, collisionCount);
}

/** ApplyRevision: the template the revision stores (the set's own when the data is unreadable). */
export function templateFromRevision(set: StatefulSet, rev: ControllerRevision | undefined): PodTemplateSpec {
  const t = (rev?.data as { spec?: { template?: PodTemplateSpec & { $patch?: string } } } | undefined)?.spec?.template;
  if (!t) return set.spec?.template ?? {};
  const { $patch: _ignored, ...template } = t;
  return template;
}
