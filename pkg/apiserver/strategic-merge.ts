/**
 * Strategic merge patch, as the apiserver applies it (apimachinery's StrategicMergeMapPatch with
 * MergeParallelList and IgnoreUnmatchedNulls). Lists are merged by the merge key and strategy the
 * OpenAPI schema gives each field; the directives `$patch`, `$retainKeys`,
 * `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` are honoured.
 *
 * Kinds without a schema (custom resources) are rejected with 415, as upstream does: they take
 * JSON merge patch, JSON patch or apply patch instead.
 */
import * as errors from '../api/errors.js';
import { clone } from '../api/meta.js';
import type { KubeObject } from '../api/types.js';
import type { ResourceDef } from '../registry/types.js';
import { PatchSchema } from '../openapi/patch-meta.js';

type JSONValue = null | boolean | number | string | JSONValue[] | JSONMap;
interface JSONMap {
  [key: string]: JSONValue;
}

const directiveMarker = '$patch';
const retainKeysDirective = '$retainKeys';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList';
const setElementOrderPrefix = '$setElementOrder';

/** A malformed patch. `badRequest` ones answer 400, the others 422. */
class PatchError extends Error {
  constructor(
    message: string,
    readonly badRequest: boolean,
  ) {
    super(message);
  }
}

const errBadPrimitiveList = () => new PatchError('invalid patch format of primitive list', true);
const errBadRetainKeys = () => new PatchError('invalid patch format of retainKeys', true);
const errBadSetElementOrder = () => new PatchError('invalid patch format of setElementOrder list', true);
const errRetainKeysMismatch = () => new PatchError("patch content doesn't match retainKeys list", false);
const errListOfLists = () => new PatchError('lists of lists are not supported', false);
const errNoMergeKey = (m: JSONMap, key: string) => new PatchError(`map: ${JSON.stringify(m)} does not contain declared merge key: ${key}`, false);
const errBadPatchType = (t: JSONValue, m: JSONMap) => new PatchError(`unknown patch type: ${JSON.stringify(t)} in map: ${JSON.stringify(m)}`, true);

type ValueKind = 'map' | 'list' | 'null' | 'string' | 'number' | 'boolean';

function kindOf(v: JSONValue): ValueKind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'map';
  return typeof v as 'string' | 'number' | 'boolean';
}

function isMap(v: JSONValue | undefined): v is JSONMap {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

function has(m: JSONMap, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, k);
}

/** Equality of merge-key values and of primitive list items (JSON scalars). */
function sameScalar(a: JSONValue | undefined, b: JSONValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined || typeof a !== 'object' || typeof b !== 'object') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Splits a patch strategy list into (retainKeys?, the other strategy), as upstream allows. */
function splitStrategies(strategies: string[]): { retainKeys: boolean; strategy: string } {
  if (strategies.length === 0) return { retainKeys: false, strategy: '' };
  if (strategies.length === 1) return strategies[0] === 'retainKeys' ? { retainKeys: true, strategy: '' } : { retainKeys: false, strategy: strategies[0]! };
  if (strategies.length === 2) {
    if (strategies[0] === 'retainKeys') return { retainKeys: true, strategy: strategies[1]! };
    if (strategies[1] === 'retainKeys') return { retainKeys: true, strategy: strategies[0]! };
  }
  throw new PatchError(`unexpected patch strategy: ${strategies.join(',')}`, false);
}

/** `$setElementOrder/containers` → `containers`. */
function listKeyOf(key: string, prefix: string, err: () => PatchError): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix || slash === key.length - 1) throw err();
  return key.slice(slash + 1);
}

/**
 * What a value taken whole from the patch (no counterpart in the object) becomes: nulls are
 * dropped, maps carrying `$patch` are dropped, and the parallel-list and retainKeys directives
 * are removed. Returns undefined when the value itself is to be dropped.
 */
function withoutDirectives(v: JSONValue): JSONValue | undefined {
  if (Array.isArray(v)) {
    const out: JSONValue[] = [];
    for (const x of v) {
      const y = withoutDirectives(x);
      if (y !== undefined) out.push(y);
    }
    return out;
  }
  if (isMap(v)) {
    if (has(v, directiveMarker)) return undefined;
    const out: JSONMap = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === null) continue;
      if (k === retainKeysDirective || k.startsWith(`${setElementOrderPrefix}/`) || k.startsWith(`${deleteFromPrimitiveListPrefix}/`)) continue;
      const y = withoutDirectives(x);
      if (y !== undefined) out[k] = y;
    }
    return out;
  }
  return v;
}

/** The common kind of the items of some lists, or undefined when all are empty. */
function elementKind(...lists: JSONValue[][]): ValueKind | undefined {
  let kind: ValueKind | undefined;
  for (const list of lists) {
    for (const item of list) {
      const k = kindOf(item);
      if (k === 'list') throw errListOfLists();
      if (kind === undefined) kind = k;
      else if (kind !== k) throw new PatchError(`list element types are not identical: ${JSON.stringify(lists)}`, false);
    }
  }
  return kind;
}

function mergeKeyValue(item: JSONValue, mergeKey: string): JSONValue {
  if (!isMap(item)) throw new PatchError(`expected a map, but received ${JSON.stringify(item)}`, false);
  if (!has(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
  return item[mergeKey]!;
}

/** Position of an item in a list: by merge key for maps, by value for primitives; -1 if absent. */
function indexIn(list: JSONValue[], item: JSONValue, mergeKey: string, kind: ValueKind): number {
  if (kind === 'map') {
    const want = isMap(item) ? item[mergeKey] : undefined;
    return list.findIndex((x) => isMap(x) && sameScalar(x[mergeKey], want));
  }
  return list.findIndex((x) => sameScalar(x, item));
}

/** Sorts items by their position in `order` (stable); `$patch: delete` items go last. */
function sortByOrder(items: JSONValue[], order: JSONValue[], mergeKey: string, kind: ValueKind): JSONValue[] {
  let toDelete: JSONValue[] = [];
  if (kind === 'map') {
    for (const x of [...items, ...order]) mergeKeyValue(x, mergeKey);
    toDelete = items.filter((x) => isMap(x) && x[directiveMarker] === 'delete');
    items = items.filter((x) => !(isMap(x) && x[directiveMarker] === 'delete'));
  }
  const pos = items.map((x, i) => ({ x, i, at: indexIn(order, x, mergeKey, kind) }));
  pos.sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : a.i - b.i));
  return [...pos.map((p) => p.x), ...toDelete];
}

/**
 * Interleaves the server-only items with the patch items: the patch's own order wins, and a
 * server-only item keeps its place relative to the items it preceded in the live object.
 */
function mergeSorted(serverOnly: JSONValue[], patchItems: JSONValue[], serverOrder: JSONValue[], mergeKey: string, kind: ValueKind): JSONValue[] {
  const out: JSONValue[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < patchItems.length) {
    if (i >= serverOnly.length) out.push(patchItems[j++]!);
    else if (j >= patchItems.length) out.push(serverOnly[i++]!);
    else {
      const li = indexIn(serverOrder, serverOnly[i]!, mergeKey, kind);
      const ri = indexIn(serverOrder, patchItems[j]!, mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++]!);
      else out.push(patchItems[j++]!);
    }
  }
  return out;
}

function normalizeOrder(patchItems: JSONValue[], serverOnly: JSONValue[], patchOrder: JSONValue[], serverOrder: JSONValue[], mergeKey: string, kind: ValueKind): JSONValue[] {
  return mergeSorted(sortByOrder(serverOnly, serverOrder, mergeKey, kind), sortByOrder(patchItems, patchOrder, mergeKey, kind), serverOrder, mergeKey, kind);
}

/** Splits `items` into those present in `by` (by merge key, or by value) and the others. */
function partition(items: JSONValue[], by: JSONValue[], mergeKey: string): [JSONValue[], JSONValue[]] {
  const inPatch: JSONValue[] = [];
  const serverOnly: JSONValue[] = [];
  for (const x of items) {
    const found = mergeKey ? by.some((y) => isMap(y) && has(y, mergeKey) && sameScalar(y[mergeKey], mergeKeyValue(x, mergeKey))) : by.some((y) => sameScalar(y, x));
    (found ? inPatch : serverOnly).push(x);
  }
  return [inPatch, serverOnly];
}

function dedupeScalars(list: JSONValue[]): JSONValue[] {
  const out: JSONValue[] = [];
  for (const x of list) if (!out.some((y) => sameScalar(x, y))) out.push(x);
  return out;
}

/** Applies the list-element directives: deletions by key, and `$patch: replace` of the whole list. */
function applySpecialElements(original: JSONValue[], patch: JSONValue[], mergeKey: string): [JSONValue[], JSONValue[]] {
  const plain: JSONValue[] = [];
  let replace = false;
  for (const v of patch) {
    const item = v as JSONMap;
    if (!has(item, directiveMarker)) {
      plain.push(v);
      continue;
    }
    const directive = item[directiveMarker];
    if (directive === 'delete') {
      if (!has(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      const value = item[mergeKey]!;
      original = original.filter((x) => !(isMap(x) && has(x, mergeKey) && sameScalar(x[mergeKey], value)));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      // The default for list elements: merge this element by its key.
      const rest = { ...item };
      delete rest[directiveMarker];
      plain.push(rest);
    } else {
      throw errBadPatchType(directive ?? null, item);
    }
  }
  return replace ? [plain, []] : [original, plain];
}

function mergeSlice(original: JSONValue[], patch: JSONValue[], elements: PatchSchema, mergeKey: string, isDeleteList: boolean): JSONValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch)!;
  let merged: JSONValue[];
  if (kind !== 'map') {
    if (isDeleteList) return original.filter((x) => !patch.some((y) => sameScalar(x, y)));
    merged = dedupeScalars([...original, ...patch]);
  } else {
    if (isDeleteList) throw errBadPrimitiveList();
    if (!mergeKey) throw new PatchError(`cannot merge lists without merge key for ${elements.name}`, false);
    [original, patch] = applySpecialElements(original, patch, mergeKey);
    merged = [...original];
    for (const item of patch) {
      const key = mergeKeyValue(item, mergeKey);
      const at = merged.findIndex((x) => isMap(x) && has(x, mergeKey) && sameScalar(x[mergeKey], key));
      if (at >= 0) merged[at] = mergeMap(merged[at] as JSONMap, item as JSONMap, elements);
      else merged.push(withoutDirectives(item) ?? item);
    }
  }
  const [patchItems, serverOnly] = partition(merged, patch, kind === 'map' ? mergeKey : '');
  return normalizeOrder(patchItems, serverOnly, patch, original, kind === 'map' ? mergeKey : '', kind);
}

function mergeList(original: JSONValue[], patch: JSONValue[], schema: PatchSchema, strategy: string, mergeKey: string, isDeleteList: boolean): JSONValue[] {
  // A deletion list applies whatever the field's strategy is.
  if (strategy === 'merge' || isDeleteList) return mergeSlice(original, patch, schema.elements(), mergeKey, isDeleteList);
  return patch;
}

function applyRetainKeys(original: JSONMap, patch: JSONMap): void {
  if (!has(patch, retainKeysDirective)) return;
  const keep = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  if (!Array.isArray(keep)) throw errBadRetainKeys();
  const set = new Set(keep.map((k) => String(k)));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(deleteFromPrimitiveListPrefix) || k.startsWith(setElementOrderPrefix)) continue;
    if (!set.has(k)) throw errRetainKeysMismatch();
  }
  for (const k of Object.keys(original)) if (!set.has(k)) delete original[k];
}

/** Checks that the patch list's items appear in the `$setElementOrder` list, in the same relative order. */
function checkSetElementOrder(patchList: JSONValue[], order: JSONValue[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey ? patchList.filter((x) => !(isMap(x) && x[directiveMarker] === 'delete')) : patchList;
  let p = 0;
  let o = 0;
  while (p < items.length && o < order.length) {
    const item = items[p]!;
    if (isMap(item) && has(item, directiveMarker)) {
      p++;
      continue;
    }
    const equal = mergeKey ? sameScalar(mergeKeyValue(item, mergeKey), mergeKeyValue(order[o]!, mergeKey)) : sameScalar(item, order[o]!);
    if (equal) p++;
    o++;
  }
  if (p < items.length) {
    throw new PatchError(`the order in patch list:\n${JSON.stringify(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${JSON.stringify(order)}`, true);
  }
}

/** Merges the lists named by `$setElementOrder/<list>` directives and puts them in that order. */
function applySetElementOrder(original: JSONMap, patch: JSONMap, schema: PatchSchema): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue;
    const order = patch[key]!;
    delete patch[key];
    if (!Array.isArray(order)) throw errBadSetElementOrder();
    const listKey = listKeyOf(key, setElementOrderPrefix, errBadSetElementOrder);
    const originalList = original[listKey];
    const patchList = patch[listKey];
    const foundOriginal = Array.isArray(originalList);
    const foundPatch = patchList !== undefined;
    if (foundPatch && !Array.isArray(patchList)) throw errBadSetElementOrder();
    const { schema: sub, meta } = schema.field(listKey);
    const { strategy } = splitStrategies(meta.strategies);
    checkSetElementOrder(foundPatch ? (patchList as JSONValue[]) : [], order, meta.mergeKey);
    let merged: JSONValue[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) merged = (withoutDirectives(patchList) as JSONValue[] | undefined) ?? [];
    else if (foundOriginal && foundPatch) merged = mergeList(originalList, patchList as JSONValue[], sub, strategy, meta.mergeKey, false);
    else continue;
    delete patch[listKey];
    const kind = elementKind(foundOriginal ? originalList : [], merged);
    if (kind === undefined) {
      original[listKey] = merged;
      continue;
    }
    const mergeKey = kind === 'map' ? meta.mergeKey : '';
    const [patchItems, serverOnly] = partition(merged, order, mergeKey);
    original[listKey] = normalizeOrder(patchItems, serverOnly, order, foundOriginal ? originalList : [], mergeKey, kind);
  }
}

function mergeMap(original: JSONMap, patch: JSONMap, schema: PatchSchema): JSONMap {
  if (has(patch, directiveMarker)) {
    const directive = patch[directiveMarker];
    if (directive === 'replace') {
      const out = { ...patch };
      delete out[directiveMarker];
      return out;
    }
    if (directive === 'delete') return {};
    if (directive !== 'merge') throw errBadPatchType(directive ?? null, patch);
    // `merge` is what maps do anyway.
    patch = { ...patch };
    delete patch[directiveMarker];
  }
  applyRetainKeys(original, patch);
  applySetElementOrder(original, patch, schema);
  for (const [patchKey, patchValue] of Object.entries(patch)) {
    let key = patchKey;
    let isDeleteList = false;
    if (key.startsWith(deleteFromPrimitiveListPrefix)) {
      key = listKeyOf(key, deleteFromPrimitiveListPrefix, errBadPrimitiveList);
      isDeleteList = true;
      if (!Array.isArray(patchValue)) throw errBadPrimitiveList();
    }
    if (patchValue === null) {
      delete original[key];
      continue;
    }
    const originalValue = original[key];
    if (originalValue === undefined || kindOf(originalValue) !== kindOf(patchValue)) {
      // Nothing to merge with: take the patch value, minus its directives. A deletion list for a
      // list the object does not have changes nothing.
      if (isDeleteList) continue;
      const taken = withoutDirectives(patchValue);
      if (taken === undefined) delete original[key];
      else original[key] = taken;
      continue;
    }
    const { schema: sub, meta } = schema.field(key);
    const { strategy } = splitStrategies(meta.strategies);
    if (isMap(originalValue)) {
      original[key] = strategy === 'replace' ? patchValue : mergeMap(originalValue, patchValue as JSONMap, sub);
    } else if (Array.isArray(originalValue)) {
      original[key] = mergeList(originalValue, patchValue as JSONValue[], sub, strategy, meta.mergeKey, isDeleteList);
    } else {
      original[key] = patchValue;
    }
  }
  return original;
}

/**
 * Applies a strategic merge patch to a JSON object with the given schema. Throws a StatusError
 * (400 or 422) for a malformed patch. Neither argument is modified.
 */
export function applyStrategicMergePatch(original: Record<string, unknown>, patch: Record<string, unknown>, schema: PatchSchema): Record<string, unknown> {
  try {
    return mergeMap(clone(original) as JSONMap, clone(patch) as JSONMap, schema);
  } catch (e) {
    if (e instanceof PatchError) throw e.badRequest ? errors.badRequest(e.message) : errors.invalidJSONPatch(e.message);
    throw e;
  }
}

/** The kind whose schema governs the patch: the object's own (a Scale on /scale), else the resource's. */
function kindOfObject(current: KubeObject, def: ResourceDef | undefined): { group: string; version: string; kind: string } | undefined {
  if (typeof current.kind === 'string' && typeof current.apiVersion === 'string' && current.kind !== '') {
    const slash = current.apiVersion.indexOf('/');
    const group = slash < 0 ? '' : current.apiVersion.slice(0, slash);
    const version = slash < 0 ? current.apiVersion : current.apiVersion.slice(slash + 1);
    if (!def || current.kind !== def.kind || group !== def.group) return { group, version, kind: current.kind };
  }
  return def ? { group: def.group, version: def.version, kind: def.kind } : undefined;
}

export function strategicMergePatch(current: KubeObject, patch: Record<string, unknown>, def: ResourceDef | undefined): KubeObject {
  const gvk = kindOfObject(current, def);
  const schema = gvk ? PatchSchema.forKind(gvk) : undefined;
  // Upstream answers 415 for kinds without a Go type (custom resources).
  if (!schema) throw errors.unsupportedMediaType('application/strategic-merge-patch+json');
  return applyStrategicMergePatch(current as Record<string, unknown>, patch, schema) as KubeObject;
}
