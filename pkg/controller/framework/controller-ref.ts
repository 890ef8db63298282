/**
 * Controller references and claiming (controller_ref_manager.go): a controller owns the objects
 * whose controller ownerReference points at it; it adopts orphans its selector matches and
 * releases owned objects its selector no longer matches.
 *
 * Adoption and release are merge patches of the whole ownerReferences list, with the object's
 * resourceVersion as precondition: a concurrent change to the list makes the patch fail with a
 * Conflict, and the key is retried, instead of one writer silently dropping the other's reference.
 */
import type { KubeObject, OwnerReference } from '../../api/types.js';
import { isNotFound, type GroupVersionResource, type RestClient } from '../../client/rest.js';

export function getControllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** The controller ownerReference a parent puts on its children (metav1.NewControllerRef). */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Patches an object's ownerReferences to `refs`, failing if it changed since `obj` was read. */
export async function patchOwnerReferences(client: RestClient, gvr: GroupVersionResource, obj: KubeObject, refs: OwnerReference[]): Promise<KubeObject> {
  const m = obj.metadata!;
  return client.patch(gvr, m.namespace || undefined, m.name!, 'merge', {
    metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: m.resourceVersion },
  });
}

export interface ClaimOptions<T extends KubeObject> {
  client: RestClient;
  /** The child resource (pods, replicasets). */
  childResource: GroupVersionResource;
  /** The controller claiming, and how to refer to it. */
  controller: KubeObject;
  controllerAPIVersion: string;
  controllerKind: string;
  match(child: T): boolean;
  /**
   * Checked once, before the first adoption: the controller must still exist with the same uid and
   * not be being deleted, read fresh from the apiserver (RecheckDeletionTimestamp).
   */
  canAdopt(): Promise<void>;
}

/** Claims children (ClaimPods / ClaimReplicaSets): returns the ones the controller owns after adopting and releasing. */
export async function claimObjects<T extends KubeObject>(children: T[], opts: ClaimOptions<T>): Promise<T[]> {
  const claimed: T[] = [];
  const errs: unknown[] = [];
  let adoptCheck: Promise<void> | undefined;
  const ctrl = opts.controller.metadata!;
  for (const child of children) {
    const ref = getControllerOf(child);
    try {
      if (ref) {
        if (ref.uid !== ctrl.uid) continue;
        if (opts.match(child)) {
          claimed.push(child);
          continue;
        }
        if (ctrl.deletionTimestamp) continue;
        // Owned but no longer selected: release it.
        const refs = (child.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ctrl.uid);
        await patchOwnerReferences(opts.client, opts.childResource, child, refs);
        continue;
      }
      if (ctrl.deletionTimestamp || !opts.match(child)) continue;
      if (child.metadata?.deletionTimestamp) continue;
      if (ctrl.namespace && ctrl.namespace !== child.metadata?.namespace) continue;
      adoptCheck ??= opts.canAdopt();
      await adoptCheck;
      const refs = [...(child.metadata?.ownerReferences ?? []), newControllerRef(opts.controller, opts.controllerAPIVersion, opts.controllerKind)];
      const adopted = (await patchOwnerReferences(opts.client, opts.childResource, child, refs)) as T;
      claimed.push(adopted);
    } catch (e) {
      if (isNotFound(e)) continue;
      errs.push(e);
    }
  }
  if (errs.length) throw errs[0];
  return claimed;
}

/** RecheckDeletionTimestamp: the controller, read fresh, must be the same object and not being deleted. */
export function recheckDeletionTimestamp(getFresh: () => Promise<KubeObject>, cached: KubeObject): () => Promise<void> {
  return async () => {
    const fresh = await getFresh();
    const m = cached.metadata!;
    if (fresh.metadata?.uid !== m.uid) {
      throw new Error(`original ${m.namespace}/${m.name} is gone: got uid ${fresh.metadata?.uid}, wanted ${m.uid}`);
    }
    if (fresh.metadata?.deletionTimestamp) {
      throw new Error(`${m.namespace}/${m.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    }
  };
}
