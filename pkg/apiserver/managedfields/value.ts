/**
 * JSON values as server-side apply sees them: a total order over values (so that keys and set
 * members sort the way structured-merge-diff sorts them), their display form in field paths, and
 * Go's JSON encoding (sorted keys, HTML-safe escaping) for the strings upstream derives from values.
 */

export type JSONValue = null | boolean | number | string | JSONValue[] | JSONMap;
export interface JSONMap {
  [key: string]: JSONValue;
}

export function isMap(v: unknown): v is JSONMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function hasKey(m: JSONMap, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, k);
}

/** The rank of a value's kind in structured-merge-diff's order: numbers, strings, booleans, lists, maps, null. */
function kindRank(v: JSONValue): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null) return 4;
  return 5;
}

function cmp<T>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A total order over JSON values; 0 exactly when the values are equal. */
export function compareValues(a: JSONValue, b: JSONValue): number {
  const ra = kindRank(a);
  const rb = kindRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' || typeof a === 'string' || typeof a === 'boolean') return cmp(a, b);
  if (Array.isArray(a)) {
    const bl = b as JSONValue[];
    for (let i = 0; i < a.length && i < bl.length; i++) {
      const c = compareValues(a[i]!, bl[i]!);
      if (c !== 0) return c;
    }
    return a.length - bl.length;
  }
  if (a === null) return 0;
  const bm = b as JSONMap;
  const ak = Object.keys(a).sort();
  const bk = Object.keys(bm).sort();
  for (let i = 0; i < ak.length && i < bk.length; i++) {
    const c = cmp(ak[i]!, bk[i]!) || compareValues(a[ak[i]!]!, bm[bk[i]!]!);
    if (c !== 0) return c;
  }
  return ak.length - bk.length;
}

export function valuesEqual(a: JSONValue | undefined, b: JSONValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return compareValues(a, b) === 0;
}

/**
 * Whether two values are the same JSON (member order aside), as `valuesEqual` tells but without
 * sorting keys: for values without undefined members, as decoded or copied JSON is.
 */
export function sameJSON(a: JSONValue | undefined, b: JSONValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJSON(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  let n = 0;
  for (const k in a) {
    if (!hasKey(a, k)) continue;
    if (!hasKey(b, k) || !sameJSON(a[k], b[k])) return false;
    n++;
  }
  let m = 0;
  for (const k in b) if (hasKey(b, k)) m++;
  return n === m;
}

/** How a value reads inside a field path (`[name="nginx"]`), after upstream's value.ToString. */
export function valueToString(v: JSONValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(valueToString).join(',')}]`;
  if (typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${k}=${valueToString(v[k]!)}`)
      .join(',')}}`;
  }
  return String(v);
}

const htmlEscapes: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => htmlEscapes[c]!);
}

/** JSON as Go's encoding/json writes it: map keys sorted, `<`, `>` and `&` escaped. */
export function goJSON(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goJSON).join(',')}]`;
  if (typeof v === 'object') {
    const m = v as Record<string, unknown>;
    return `{${Object.keys(m)
      .filter((k) => m[k] !== undefined)
      .sort()
      .map((k) => `${goString(k)}:${goJSON(m[k])}`)
      .join(',')}}`;
  }
  return 'null';
}

/** A JSON value's deep copy. */
export function copyValue<T extends JSONValue | undefined>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}
