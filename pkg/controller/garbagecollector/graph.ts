/**
 * The garbage collector's dependency graph (graph.go, graph_builder.go): one node per object of
 * every monitored resource, keyed by uid, with edges from owners to dependents built from
 * ownerReferences.
 *
 * - An owner referenced before it is observed gets a "virtual" node, which the collector checks
 *   against the apiserver (it may not exist at all).
 * - Changes are applied in the order the informers delivered them, one at a time.
 * - The builder decides what to look at: dependents of a deleted owner, owners waiting for their
 *   dependents (foreground deletion), objects whose deletion starts with the `orphan` or
 *   `foregroundDeletion` finalizer.
 */
import type { KubeObject, OwnerReference } from '../../api/types.js';
import { deepEqual } from '../../api/meta.js';

export const orphanFinalizer = 'orphan';
export const foregroundFinalizer = 'foregroundDeletion';

/** Where an object is: its type, namespace, name and uid (objectReference). */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  namespace: string;
}

export class GraphNode {
  readonly dependents = new Set<GraphNode>();
  owners: OwnerReference[] = [];
  /** Created from a dependent's reference, not yet seen by an informer. */
  virtual = false;
  /** Has a deletionTimestamp. */
  beingDeleted = false;
  /** Being deleted in the foreground: waits for its blocking dependents. */
  deletingDependents = false;

  constructor(public identity: ObjectIdentity) {}

  toString(): string {
    const i = this.identity;
    return `[${i.apiVersion}/${i.kind}, namespace: ${i.namespace}, name: ${i.name}, uid: ${i.uid}]`;
  }

  /** Dependents whose reference to this node blocks its deletion. */
  blockingDependents(): GraphNode[] {
    return [...this.dependents].filter((d) => d.owners.some((o) => o.uid === this.identity.uid && o.blockOwnerDeletion === true));
  }
}

export type GraphEventType = 'add' | 'update' | 'delete';

export interface GraphEvent {
  type: GraphEventType;
  obj: KubeObject;
  oldObj?: KubeObject;
  /** Produced by the collector after the apiserver said the object is gone, not by an informer. */
  virtual?: boolean;
}

export function identityOf(obj: KubeObject): ObjectIdentity {
  const m = obj.metadata ?? {};
  return { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', name: m.name ?? '', uid: m.uid ?? '', namespace: m.namespace ?? '' };
}

export function hasFinalizer(obj: KubeObject | undefined, finalizer: string): boolean {
  return obj?.metadata?.finalizers?.includes(finalizer) ?? false;
}

export function beingDeleted(obj: KubeObject | undefined): boolean {
  return !!obj?.metadata?.deletionTimestamp;
}

/** The deletion started now with `finalizer`: it was not being deleted with it before. */
function deletionStartsWithFinalizer(oldObj: KubeObject | undefined, obj: KubeObject, finalizer: string): boolean {
  if (!beingDeleted(obj) || !hasFinalizer(obj, finalizer)) return false;
  if (!oldObj) return true;
  return !beingDeleted(oldObj) || !hasFinalizer(oldObj, finalizer);
}

/** What the builder asks the collector to look at. */
export interface GraphSink {
  attemptToDelete(n: GraphNode): void;
  attemptToOrphan(n: GraphNode): void;
  /** The owner with this identity is known to be absent. */
  markAbsent(identity: ObjectIdentity): void;
}

export class DependencyGraph {
  readonly nodes = new Map<string, GraphNode>();

  constructor(private readonly sink: GraphSink) {}

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** Applies one change (processGraphChanges). */
  process(event: GraphEvent): void {
    const obj = event.obj;
    const uid = obj.metadata?.uid;
    if (!uid) return;
    const existing = this.nodes.get(uid);
    if (existing && !event.virtual && existing.virtual) {
      // An informer saw the object: the node is real now, with the coordinates it really has.
      const observed = identityOf(obj);
      if (!deepEqual(observed, existing.identity)) {
        // Dependents that named it otherwise may hold a bad reference: have them checked.
        for (const dep of existing.dependents) {
          if (!dep.owners.some((o) => o.uid === uid && o.kind === observed.kind && o.name === observed.name)) this.sink.attemptToDelete(dep);
        }
        existing.identity = observed;
      }
      existing.virtual = false;
    }

    if (event.type === 'add' || event.type === 'update') {
      if (!existing) {
        const n = new GraphNode(identityOf(obj));
        n.owners = [...(obj.metadata?.ownerReferences ?? [])];
        n.beingDeleted = beingDeleted(obj);
        n.deletingDependents = n.beingDeleted && hasFinalizer(obj, foregroundFinalizer);
        this.nodes.set(uid, n);
        this.addDependentToOwners(n, n.owners);
        this.processTransitions(event.oldObj, obj, n);
        return;
      }
      const newOwners = obj.metadata?.ownerReferences ?? [];
      const { added, removed, changed } = referencesDiffs(existing.owners, newOwners);
      if (added.length || removed.length || changed.length) {
        this.addUnblockedOwnersToDeleteQueue(removed, changed);
        existing.owners = [...newOwners];
        this.addDependentToOwners(existing, added);
        this.removeDependentFromOwners(existing, removed);
      }
      if (beingDeleted(obj)) existing.beingDeleted = true;
      this.processTransitions(event.oldObj, obj, existing);
      return;
    }

    // delete
    if (!existing) return;
    if (event.virtual && !existing.virtual) {
      const deleted = identityOf(obj);
      if (!deepEqual(deleted, existing.identity)) {
        // The apiserver said an object with other coordinates is absent, but this one was
        // observed: keep it, and have the dependents that used those coordinates checked.
        this.sink.markAbsent(deleted);
        for (const dep of existing.dependents) {
          if (dep.owners.some((o) => o.uid === deleted.uid && (o.kind !== existing!.identity.kind || o.name !== existing!.identity.name))) this.sink.attemptToDelete(dep);
        }
        return;
      }
    }
    this.nodes.delete(uid);
    this.removeDependentFromOwners(existing, existing.owners);
    if (existing.dependents.size > 0) this.sink.markAbsent(existing.identity);
    for (const dep of existing.dependents) this.sink.attemptToDelete(dep);
    for (const o of existing.owners) {
      const owner = this.nodes.get(o.uid);
      // A foreground-deleting owner checks whether its last blocking dependent just went.
      if (owner?.deletingDependents) this.sink.attemptToDelete(owner);
    }
  }

  private processTransitions(oldObj: KubeObject | undefined, obj: KubeObject, n: GraphNode): void {
    if (deletionStartsWithFinalizer(oldObj, obj, orphanFinalizer)) {
      this.sink.attemptToOrphan(n);
      return;
    }
    if (deletionStartsWithFinalizer(oldObj, obj, foregroundFinalizer)) {
      n.deletingDependents = true;
      n.beingDeleted = true;
      for (const dep of n.dependents) this.sink.attemptToDelete(dep);
      this.sink.attemptToDelete(n);
    }
  }

  private addDependentToOwners(n: GraphNode, owners: OwnerReference[]): void {
    for (const o of owners) {
      let owner = this.nodes.get(o.uid);
      if (!owner) {
        // A virtual node for an owner not seen yet; the collector checks it exists.
        owner = new GraphNode({ apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid, namespace: n.identity.namespace });
        owner.virtual = true;
        this.nodes.set(o.uid, owner);
        owner.dependents.add(n);
        this.sink.attemptToDelete(owner);
        continue;
      }
      owner.dependents.add(n);
    }
  }

  private removeDependentFromOwners(n: GraphNode, owners: OwnerReference[]): void {
    for (const o of owners) this.nodes.get(o.uid)?.dependents.delete(n);
  }

  /** A blocking reference went away or stopped blocking: its owner may be able to finish deleting. */
  private addUnblockedOwnersToDeleteQueue(removed: OwnerReference[], changed: { oldRef: OwnerReference; newRef: OwnerReference }[]): void {
    for (const r of removed) {
      if (r.blockOwnerDeletion !== true) continue;
      const owner = this.nodes.get(r.uid);
      if (owner) this.sink.attemptToDelete(owner);
    }
    for (const c of changed) {
      if (c.oldRef.blockOwnerDeletion === true && c.newRef.blockOwnerDeletion !== true) {
        const owner = this.nodes.get(c.newRef.uid);
        if (owner) this.sink.attemptToDelete(owner);
      }
    }
  }
}

/** ownerReferences added, removed and changed, matched by uid. */
export function referencesDiffs(old: OwnerReference[], cur: OwnerReference[]): { added: OwnerReference[]; removed: OwnerReference[]; changed: { oldRef: OwnerReference; newRef: OwnerReference }[] } {
  const oldByUID = new Map(old.map((r) => [r.uid, r]));
  const added: OwnerReference[] = [];
  const changed: { oldRef: OwnerReference; newRef: OwnerReference }[] = [];
  for (const r of cur) {
    const o = oldByUID.get(r.uid);
    if (!o) added.push(r);
    else {
      if (!deepEqual(o, r)) changed.push({ oldRef: o, newRef: r });
      oldByUID.delete(r.uid);
    }
  }
  return { added, removed: [...oldByUID.values()], changed };
}
