/**
 * ControllerRevisions, as pkg/controller/history: StatefulSets and DaemonSets snapshot their pod
 * template into immutable ControllerRevisions named `<parent>-<hash>`, numbered by `revision`,
 * and label their pods with `controller-revision-hash`.
 *
 * The hash is FNV-32a over the revision's data as canonical JSON (plus the collisionCount),
 * safe-encoded; the values differ from upstream's (which hashes Go structs) but are stable for
 * the same data and change with it. A name taken by a revision with other data is a collision:
 * the parent's collisionCount goes up and the hash with it.
 */
import type { ControllerRevision, KubeObject, OwnerReference } from '../../api/types.js';
import { deepEqual } from '../../api/meta.js';
import { isAlreadyExists, isNotFound, type RestClient } from '../../client/rest.js';
import { canonicalJSON, fnv32a, normalizeTemplate, safeEncodeString } from '../deployment/hash.js';
import { workloadResources } from './resources.js';

export const controllerRevisionHashLabel = 'controller-revision-hash';
/** The label history.NewControllerRevision puts on every revision. */
export const controllerRevisionHashLabelOnRevision = 'controller.kubernetes.io/hash';

/** HashControllerRevision: the hash of a revision's data and the collision count. */
export function hashControllerRevision(data: unknown, collisionCount?: number): string {
  let h = fnv32a(Buffer.from(canonicalJSON(normalizeTemplate(data ?? {})), 'utf8'));
  if (collisionCount !== undefined) {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32LE(collisionCount >>> 0, 0);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}

/** ControllerRevisionName: `<prefix>-<hash>`, the prefix cut so the name stays within 253 characters. */
export function controllerRevisionName(prefix: string, hash: string): string {
  if (prefix.length > 223) prefix = prefix.slice(0, 223);
  return `${prefix}-${hash}`;
}

/** NewControllerRevision: an unsaved revision of `parent` holding `data`. */
export function newControllerRevision(parent: KubeObject, controllerRef: OwnerReference, templateLabels: Record<string, string> | undefined, data: unknown, revision: number, collisionCount?: number): ControllerRevision {
  const hash = hashControllerRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(parent.metadata!.name!, hash),
      namespace: parent.metadata!.namespace,
      labels: { ...(templateLabels ?? {}), [controllerRevisionHashLabelOnRevision]: hash },
      ownerReferences: [controllerRef],
    },
    data: data as object,
    revision,
  };
}

/** The hash part of a revision's name (its label, or the name's suffix). */
export function revisionHash(rev: ControllerRevision): string {
  const l = rev.metadata?.labels?.[controllerRevisionHashLabelOnRevision];
  if (l) return l;
  const name = rev.metadata?.name ?? '';
  return name.slice(name.lastIndexOf('-') + 1);
}

/** EqualRevision: same data (the hash label is a shortcut when both carry one). */
export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return a === b;
  return deepEqual(normalizeTemplate(a.data ?? {}), normalizeTemplate(b.data ?? {}));
}

/** FindEqualRevisions: the revisions in `revs` with the same data as `needle`. */
export function findEqualRevisions(revs: ControllerRevision[], needle: ControllerRevision): ControllerRevision[] {
  return revs.filter((r) => equalRevision(r, needle));
}

/** SortControllerRevisions: by revision, then creation time, then name. */
export function sortControllerRevisions(revs: ControllerRevision[]): ControllerRevision[] {
  return revs.sort((a, b) => {
    if ((a.revision ?? 0) !== (b.revision ?? 0)) return (a.revision ?? 0) - (b.revision ?? 0);
    const ta = a.metadata?.creationTimestamp ?? '';
    const tb = b.metadata?.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
  });
}

/** The revision number after the highest of `revs` (1 for none). */
export function nextRevision(revs: ControllerRevision[]): number {
  let max = 0;
  for (const r of revs) max = Math.max(max, r.revision ?? 0);
  return max + 1;
}

/** Writes ControllerRevisions (realHistory). */
export class RevisionControl {
  constructor(private readonly client: RestClient) {}

  /**
   * CreateControllerRevision: creates `rev` under the name its hash gives; when that name holds a
   * revision with other data, bumps `collisionCount.value` and tries the next name. An equal
   * revision already there is returned as is.
   */
  async create(parent: KubeObject, rev: ControllerRevision, collisionCount: { value: number }): Promise<ControllerRevision> {
    for (;;) {
      const hash = hashControllerRevision(rev.data, collisionCount.value);
      const toCreate: ControllerRevision = {
        ...rev,
        metadata: { ...rev.metadata, name: controllerRevisionName(parent.metadata!.name!, hash), labels: { ...(rev.metadata?.labels ?? {}), [controllerRevisionHashLabelOnRevision]: hash } },
      };
      try {
        return await this.client.create<ControllerRevision>(workloadResources.controllerRevisions, parent.metadata!.namespace, toCreate);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        const existing = await this.client.get<ControllerRevision>(workloadResources.controllerRevisions, parent.metadata!.namespace, toCreate.metadata!.name!);
        if (equalRevision(existing, toCreate)) return existing;
        collisionCount.value++;
      }
    }
  }

  /** UpdateControllerRevision: only the revision number changes. */
  async updateRevision(rev: ControllerRevision, revision: number): Promise<ControllerRevision> {
    if (rev.revision === revision) return rev;
    return this.client.patch<ControllerRevision>(workloadResources.controllerRevisions, rev.metadata!.namespace, rev.metadata!.name!, 'merge', { revision });
  }

  async delete(rev: ControllerRevision): Promise<void> {
    try {
      await this.client.delete(workloadResources.controllerRevisions, rev.metadata!.namespace, rev.metadata!.name!);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
