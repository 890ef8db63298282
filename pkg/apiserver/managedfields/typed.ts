/**
 * Operations on typed values (structured-merge-diff's typed package): the field set of a value,
 * the comparison of two values (added, modified and removed fields), the merge of an applied
 * configuration into a live object, and the removal of a set of fields from a value.
 *
 * Values are plain JSON; a type is an `Atom` from `schema.ts`. Leaves are scalars, atomic maps
 * and atomic lists; a map or list that is empty (or null) on both sides is also treated as a leaf,
 * which keeps the difference between empty and absent.
 */
import { type Atom, type ListAtom, type MapAtom, type Resolved, resolveFor, isAtomic, fieldType } from './schema.js';
import { FieldSet, type Path, type PathElement, fieldPE, keyPE, valuePE, indexPE, pathString, pathElementsEqual } from './fieldpath.js';
import { type JSONValue, type JSONMap, isMap, hasKey, valuesEqual, sameJSON } from './value.js';

/** A value that does not fit its type (for example a list item without its key). */
export class TypedError extends Error {}

/** Whether items that cannot be keyed are an error (apply configurations) or skipped (stored objects). */
export interface WalkOptions {
  strict?: boolean;
}

/** The path element of a list item: its key, its value (sets) or its index (atomic lists). */
export function listItemPathElement(list: ListAtom, index: number, item: JSONValue): PathElement {
  if (!list.associative) return indexPE(index);
  if (list.keys.length > 0) {
    if (item === null) throw new TypedError('associative list with keys may not have a null element');
    if (!isMap(item)) throw new TypedError('associative list with keys may not have non-map elements');
    const elem = list.elementType();
    const defaults = elem.kind === 'map' ? elem.defaults : undefined;
    const fields: [string, JSONValue][] = [];
    for (const k of list.keys) {
      if (hasKey(item, k)) fields.push([k, item[k]!]);
      else if (defaults?.has(k)) fields.push([k, defaults.get(k)!]);
      else throw new TypedError(`associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
    }
    return keyPE(fields);
  }
  if (isMap(item)) throw new TypedError("associative list without keys has an element that's a map type");
  if (Array.isArray(item)) throw new TypedError('not supported: associative list with lists as elements');
  if (item === null) throw new TypedError("associative list without keys has an element that's an explicit null");
  return valuePE(item);
}

/** The items of a list with their path elements; duplicates after the first are left out. */
function indexItems(list: ListAtom, items: JSONValue[], path: Path, opts: WalkOptions): { pe: PathElement; item: JSONValue }[] {
  const out: { pe: PathElement; item: JSONValue }[] = [];
  items.forEach((item, i) => {
    let pe: PathElement;
    try {
      pe = listItemPathElement(list, i, item);
    } catch (e) {
      if (opts.strict && e instanceof TypedError) throw new TypedError(`${pathString(path)}: element ${i}: ${e.message}`);
      if (e instanceof TypedError) return;
      throw e;
    }
    if (out.some((o) => pathElementsEqual(o.pe, pe))) {
      if (opts.strict) throw new TypedError(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`);
      return;
    }
    out.push({ pe, item });
  });
  return out;
}

/** The set of fields a value sets (upstream's ToFieldSet). */
export function toFieldSet(value: JSONValue, type: Atom, opts: WalkOptions = {}): FieldSet {
  const set = FieldSet.empty();
  const walk = (v: JSONValue, t: Atom, path: PathElement[]) => {
    const r = resolveFor(t, v);
    if (isAtomic(r)) {
      set.insert(path);
      return;
    }
    if (r.kind === 'list') {
      if (!Array.isArray(v)) {
        if (v !== null) set.insert(path);
        return;
      }
      for (const { pe, item } of indexItems(r, v, path, opts)) {
        const p = [...path, pe];
        walk(item, r.elementType(), p);
        set.insert(p);
      }
      return;
    }
    const m = r as MapAtom;
    if (!isMap(v)) {
      if (v !== null) set.insert(path);
      return;
    }
    for (const [k, child] of Object.entries(v)) {
      const { type: ft, declared } = fieldType(m, k);
      const p = [...path, fieldPE(k)];
      walk(child, ft(), p);
      if (!declared) set.insert(p);
    }
  };
  walk(value, type, []);
  return set;
}

/** What changed between two values. */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

interface Walker {
  /** Called once per leaf; returns the merged value (undefined: none). */
  leaf(lhs: JSONValue | undefined, rhs: JSONValue | undefined, path: Path): JSONValue | undefined;
  /** Called after a non-leaf node was merged. */
  after?(lhs: JSONValue | undefined, rhs: JSONValue | undefined, path: Path): void;
  opts: WalkOptions;
  /**
   * Equal values on both sides are not walked (their merged value is the right side's): for a
   * walker that records only differences.
   */
  skipEqual?: boolean;
  /** Only the callbacks matter: no merged value is built. */
  discard?: boolean;
}

function sameForm(a: Resolved, b: Resolved): boolean {
  if (a === b) return true;
  return a.kind === b.kind && a.kind !== 'scalar' && isAtomic(a) === isAtomic(b);
}

/** Walks two values together (upstream's mergingWalker), returning the merged value. */
function mergeWalk(lhs: JSONValue | undefined, rhs: JSONValue | undefined, type: Atom, path: Path, w: Walker): JSONValue | undefined {
  if (w.skipEqual && lhs !== undefined && path.length > 0 && sameJSON(lhs, rhs)) return rhs;
  const rl = resolveFor(type, lhs);
  const rr = resolveFor(type, rhs);
  // A value whose form differs from the other side's (deduced types) is replaced as a whole.
  const r = lhs === undefined ? rr : rhs === undefined ? rl : sameForm(rl, rr) ? rr : undefined;
  if (!r || isAtomic(r)) return w.leaf(lhs, rhs, path);
  let out: JSONValue | undefined;
  if (r.kind === 'list') {
    const l = Array.isArray(lhs) ? lhs : undefined;
    const rv = Array.isArray(rhs) ? rhs : undefined;
    const nonList = (v: JSONValue | undefined) => v !== undefined && v !== null && !Array.isArray(v);
    if (nonList(lhs) || nonList(rhs) || ((l?.length ?? 0) === 0 && (rv?.length ?? 0) === 0)) return w.leaf(lhs, rhs, path);
    out = mergeListItems(r, l ?? [], rv ?? [], path, w);
  } else {
    const m = r as MapAtom;
    const l = isMap(lhs) ? lhs : undefined;
    const rv = isMap(rhs) ? rhs : undefined;
    const nonMap = (v: JSONValue | undefined) => v !== undefined && v !== null && !isMap(v);
    const isEmpty = (v: JSONMap | undefined) => !v || Object.keys(v).length === 0;
    if (nonMap(lhs) || nonMap(rhs) || (isEmpty(l) && isEmpty(rv))) return w.leaf(lhs, rhs, path);
    out = mergeMapItems(m, l, rv, path, w);
  }
  w.after?.(lhs, rhs, path);
  return out;
}

function mergeMapItems(m: MapAtom, lhs: JSONMap | undefined, rhs: JSONMap | undefined, path: Path, w: Walker): JSONValue | undefined {
  const out: JSONMap = {};
  const visit = (k: string, l: JSONValue | undefined, r: JSONValue | undefined) => {
    const v = mergeWalk(l, r, fieldType(m, k).type(), [...path, fieldPE(k)], w);
    if (v !== undefined && !w.discard) out[k] = v;
  };
  if (lhs) for (const k of Object.keys(lhs)) visit(k, lhs[k], rhs && hasKey(rhs, k) ? rhs[k] : undefined);
  if (rhs) for (const k of Object.keys(rhs)) if (!lhs || !hasKey(lhs, k)) visit(k, undefined, rhs[k]);
  return !w.discard && Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Merges two associative lists item by item. Items keep the live order; items new in the applied
 * list go where the applied list puts them relative to the items both share (upstream's order).
 */
function mergeListItems(list: ListAtom, lhs: JSONValue[], rhs: JSONValue[], path: Path, w: Walker): JSONValue | undefined {
  const lItems = indexItems(list, lhs, path, {});
  const rItems = indexItems(list, rhs, path, w.opts);
  const find = (items: { pe: PathElement; item: JSONValue }[], pe: PathElement) => items.find((x) => pathElementsEqual(x.pe, pe));
  const shared = rItems.filter((r) => find(lItems, r.pe)).map((r) => r.pe);
  let nextShared: PathElement | undefined = shared.shift();
  const out: JSONValue[] = [];
  const emit = (pe: PathElement, l: JSONValue | undefined, r: JSONValue | undefined) => {
    const v = mergeWalk(l, r, list.elementType(), [...path, pe], w);
    if (v !== undefined && !w.discard) out.push(v);
  };
  let li = 0;
  let ri = 0;
  while (li < lItems.length || ri < rItems.length) {
    if (li < lItems.length && ri < rItems.length) {
      const pe = lItems[li]!.pe;
      if (pathElementsEqual(pe, rItems[ri]!.pe)) {
        emit(pe, lItems[li]!.item, rItems[ri]!.item);
        li++;
        ri++;
        nextShared = shared.shift();
        continue;
      }
      // A shared item that the applied list wants later: it is emitted when reached there.
      if (find(rItems, pe) && nextShared && !pathElementsEqual(nextShared, pe)) {
        li++;
        continue;
      }
    }
    if (li < lItems.length) {
      const { pe, item } = lItems[li]!;
      if (!find(rItems, pe)) {
        emit(pe, item, undefined);
        li++;
        continue;
      }
    }
    if (ri < rItems.length) {
      const { pe, item } = rItems[ri]!;
      emit(pe, find(lItems, pe)?.item, item);
      ri++;
      if (nextShared && pathElementsEqual(nextShared, pe)) nextShared = shared.shift();
    } else {
      // Only live items that the applied list also holds remain: they were emitted already.
      li++;
    }
  }
  return out.length > 0 ? out : undefined;
}

/** Compares two values of one type (either may be absent). */
export function compare(lhs: JSONValue | undefined, rhs: JSONValue | undefined, type: Atom): Comparison {
  const c: Comparison = { added: FieldSet.empty(), modified: FieldSet.empty(), removed: FieldSet.empty() };
  const record = (l: JSONValue | undefined, r: JSONValue | undefined, path: Path, leaf: boolean) => {
    if (path.length === 0) return;
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (leaf && !valuesEqual(l, r)) c.modified.insert(path);
  };
  mergeWalk(lhs, rhs, type, [], {
    leaf: (l, r, path) => {
      record(l, r, path, true);
      return r ?? l;
    },
    after: (l, r, path) => record(l, r, path, false),
    opts: {},
    // Equal values record nothing: neither they nor anything in them was added, removed or changed.
    skipEqual: true,
    discard: true,
  });
  return c;
}

/** The live object with the applied configuration merged in (upstream's Merge, keep-right rule). */
export function merge(live: JSONValue | undefined, config: JSONValue, type: Atom): JSONValue | undefined {
  return mergeWalk(live, config, type, [], { leaf: (l, r) => (r !== undefined ? r : l), opts: { strict: true } });
}

/** The value without the fields in `toRemove`; maps and lists left empty by it disappear. */
export function removeItems(value: JSONValue | undefined, toRemove: FieldSet, type: Atom): JSONValue | undefined {
  if (value === undefined || toRemove.empty()) return value;
  const r = resolveFor(type, value);
  if (isAtomic(r)) return value;
  if (r.kind === 'list') {
    if (!Array.isArray(value) || value.length === 0) return value;
    const out: JSONValue[] = [];
    value.forEach((item, i) => {
      let pe: PathElement;
      try {
        pe = listItemPathElement(r, i, item);
      } catch {
        out.push(item);
        return;
      }
      if (toRemove.hasMember(pe)) return;
      const sub = toRemove.withPrefix(pe);
      const v = sub.empty() ? item : removeItems(item, sub, r.elementType());
      if (v !== undefined) out.push(v);
    });
    return out.length > 0 ? out : undefined;
  }
  const m = r as MapAtom;
  if (!isMap(value) || Object.keys(value).length === 0) return value;
  const out: JSONMap = {};
  for (const [k, v] of Object.entries(value)) {
    const pe = fieldPE(k);
    if (toRemove.hasMember(pe)) continue;
    const sub = toRemove.withPrefix(pe);
    const nv = sub.empty() ? v : removeItems(v, sub, fieldType(m, k).type());
    if (nv !== undefined) out[k] = nv;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The type found by following a path element from a type (deduced types have no named fields). */
function childType(t: Atom, pe: PathElement): Atom | undefined {
  if (t.kind === 'map') {
    if (pe.kind !== 'field') return undefined;
    return fieldType(t, pe.name).type();
  }
  if (t.kind === 'list') return pe.kind === 'field' ? undefined : t.elementType();
  return undefined;
}

/**
 * The set plus, as members, every struct field on the way to a member (upstream's
 * EnsureNamedFieldsAreMembers): owning `spec.strategy.type` also means owning `spec.strategy`.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, type: Atom): FieldSet {
  const typeAt = (prefix: Path): Atom | undefined => {
    let t: Atom | undefined = type;
    for (const pe of prefix) {
      if (!t) return undefined;
      t = childType(t, pe);
    }
    return t;
  };
  return set.ensureNamedFieldsAreMembers((prefix, pe) => {
    const t = typeAt(prefix);
    return t?.kind === 'map' && pe.kind === 'field' && t.fields.has(pe.name);
  });
}

/** The type of the node at a path, when it can be told without a value. */
export function typeAtPath(type: Atom, path: Path): Atom | undefined {
  let t: Atom | undefined = type;
  for (const pe of path) {
    if (!t) return undefined;
    t = childType(t, pe);
  }
  return t;
}
