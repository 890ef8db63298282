/**
 * Field ownership across managers (structured-merge-diff's merge.Updater): what an update takes
 * from other managers, what an apply merges, prunes and conflicts with.
 *
 * Managers are keyed by an opaque identifier (`managed-fields.ts` builds them from the manager
 * name, operation, API version and subresource). All objects are compared in the request's API
 * version: keelson serves each resource's fields under the same paths in every version.
 */
import { FieldSet, type Path } from './fieldpath.js';
import type { Atom } from './schema.js';
import { type Comparison, compare, merge, removeItems, toFieldSet, ensureNamedFieldsAreMembers } from './typed.js';
import { type JSONValue, valuesEqual } from './value.js';

/** The fields one manager owns, at the API version it used, and whether it applied them. */
export interface VersionedSet {
  set: FieldSet;
  apiVersion: string;
  applied: boolean;
}

/** Manager identifier → what it owns. */
export type ManagedFields = Map<string, VersionedSet>;

export interface Conflict {
  manager: string;
  path: Path;
}

/** An apply that would change fields other managers own. */
export class ConflictsError extends Error {
  constructor(readonly conflicts: Conflict[]) {
    super(`${conflicts.length} conflicts`);
  }
}

/** The conflicts as one set of paths. */
export function conflictSet(conflicts: Conflict[]): FieldSet {
  return FieldSet.of(...conflicts.map((c) => c.path));
}

function withoutIgnored(c: Comparison, ignored: FieldSet | undefined): Comparison {
  if (!ignored || ignored.empty()) return c;
  return { added: c.added.recursiveDifference(ignored), modified: c.modified.recursiveDifference(ignored), removed: c.removed.recursiveDifference(ignored) };
}

/** The inputs every operation shares. */
export interface UpdaterContext {
  type: Atom;
  /** The request's API version. */
  apiVersion: string;
  /** Fields no manager is recorded for (the reset fields: status on the main resource, …). */
  ignored?: FieldSet;
}

/**
 * Takes the fields that changed between oldObject and newObject away from every manager except
 * `workflow`; with force unset, changes to other managers' fields are conflicts instead.
 */
function updateOthers(ctx: UpdaterContext, oldObject: JSONValue | undefined, newObject: JSONValue, managers: ManagedFields, workflow: string, force: boolean): { managers: ManagedFields; comparison: Comparison } {
  const comparison = withoutIgnored(compare(oldObject, newObject, ctx.type), ctx.ignored);
  const changed = comparison.modified.union(comparison.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [manager, vs] of managers) {
    if (manager === workflow) continue;
    const c = vs.set.intersection(changed);
    if (!c.empty()) conflicts.set(manager, c);
  }
  if (!force && conflicts.size > 0) {
    const list: Conflict[] = [];
    for (const [manager, set] of [...conflicts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      for (const path of set.paths()) list.push({ manager, path });
    }
    throw new ConflictsError(list);
  }
  const out: ManagedFields = new Map();
  for (const [manager, vs] of managers) {
    let set = vs.set;
    if (manager !== workflow) {
      const c = conflicts.get(manager);
      if (c) set = set.difference(c);
      if (!comparison.removed.empty()) set = set.difference(comparison.removed);
    }
    if (!set.empty()) out.set(manager, { ...vs, set });
  }
  return { managers: out, comparison };
}

/**
 * An update (create, update or a non-apply patch) by `manager`: it takes ownership of every field
 * it added or changed, from whoever owned it, and nobody owns the fields it removed.
 */
export function update(ctx: UpdaterContext, liveObject: JSONValue | undefined, newObject: JSONValue, managers: ManagedFields, manager: string): ManagedFields {
  const { managers: out, comparison } = updateOthers(ctx, liveObject, newObject, managers, manager, true);
  const prev = out.get(manager)?.set ?? FieldSet.empty();
  let set = prev.union(comparison.modified).union(comparison.added).difference(comparison.removed);
  if (ctx.ignored) set = set.recursiveDifference(ctx.ignored);
  if (set.empty()) out.delete(manager);
  else out.set(manager, { set, apiVersion: ctx.apiVersion, applied: false });
  return out;
}

export interface ApplyResult {
  /** The merged object; undefined when the apply changes nothing. */
  object: JSONValue | undefined;
  managers: ManagedFields;
}

/**
 * An apply by `manager`: the configuration is merged into the live object, the manager then owns
 * exactly the configuration's fields, and fields it applied before but no longer does are removed
 * unless someone else owns them. Changing other managers' fields is a conflict unless forced.
 */
export function apply(ctx: UpdaterContext, liveObject: JSONValue, config: JSONValue, managers: ManagedFields, manager: string, force: boolean): ApplyResult {
  const merged = merge(liveObject, config, ctx.type) ?? {};
  const lastSet = managers.get(manager);
  let set = toFieldSet(config, ctx.type, { strict: true });
  if (ctx.ignored) set = set.recursiveDifference(ctx.ignored);
  const withApplier: ManagedFields = new Map(managers);
  withApplier.set(manager, { set, apiVersion: ctx.apiVersion, applied: true });
  const pruned = prune(ctx, merged, withApplier, lastSet) ?? {};
  const { managers: out } = updateOthers(ctx, liveObject, pruned, withApplier, manager, force);
  return { object: valuesEqual(liveObject, pruned) ? undefined : pruned, managers: out };
}

/**
 * Removes what the applier applied last time and no longer applies, unless another manager (or
 * the new configuration) owns it. Only items the applier owned are ever removed.
 */
function prune(ctx: UpdaterContext, merged: JSONValue, managers: ManagedFields, lastSet: VersionedSet | undefined): JSONValue | undefined {
  if (!lastSet || lastSet.set.empty()) return merged;
  const t = ctx.type;
  const named = (s: FieldSet) => ensureNamedFieldsAreMembers(s, t);
  let pruned = removeItems(merged, named(lastSet.set), t);
  // Add back what anyone owns.
  let owned = FieldSet.empty();
  for (const vs of managers.values()) owned = owned.union(vs.set);
  const mergedSet = named(toFieldSet(merged, t));
  const prunedSet = named(toFieldSet(pruned ?? {}, t));
  pruned = removeItems(merged, mergedSet.difference(prunedSet.union(named(owned))), t);
  // Only remove what the applier owned before.
  const prunedSet2 = named(toFieldSet(pruned ?? {}, t));
  return removeItems(merged, mergedSet.difference(prunedSet2).intersection(named(lastSet.set)), t);
}
