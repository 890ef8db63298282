/** Small helpers over object metadata shared by the registry and controllers. */
import { randomInt } from 'node:crypto';
import type { KubeObject } from './types.js';

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function nowRFC3339(now: Date = new Date()): string {
  const s = now.toISOString();
  // `YYYY-MM-DDTHH:MM:SS.sssZ`; years outside 0000-9999 have a longer form.
  return s.length === 24 ? `${s.slice(0, 19)}Z` : s.replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 with microseconds, as metav1.MicroTime marshals (events, leases). */
export function nowMicroRFC3339(now: Date = new Date()): string {
  return now.toISOString().replace(/Z$/, '000Z');
}

// Upstream's alphabet for generated names leaves out vowels and look-alikes (util/rand.String).
const alphanums = 'bcdfghjklmnpqrstvwxz2456789';

/** A random suffix of n characters from upstream's alphabet. */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphanums[randomInt(alphanums.length)];
  return s;
}

/** The name for `generateName`: the base cut so the whole fits in 63 characters, plus 5 random characters. */
export function generateName(base: string): string {
  const maxGeneratedNameLength = 58;
  return (base.length > maxGeneratedNameLength ? base.slice(0, maxGeneratedNameLength) : base) + randomSuffix(5);
}

/** `ns/name` or `name`, the key form controllers and logs use. */
export function objectKey(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Structural equality for JSON values; key order does not matter. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let n = 0;
  for (const k in ao) {
    if (!hasOwn.call(ao, k) || ao[k] === undefined) continue;
    if (!deepEqual(ao[k], bo[k])) return false;
    n++;
  }
  let m = 0;
  for (const k in bo) if (hasOwn.call(bo, k) && bo[k] !== undefined) m++;
  return n === m;
}

/**
 * A deep copy of a JSON value, as a JSON round trip makes it (undefined members dropped, undefined
 * array items and non-finite numbers null, `toJSON` honoured), without building the text: plain
 * objects and arrays are copied directly, anything else goes through JSON.
 */
export function clone<T>(v: T): T {
  return v === undefined ? v : (copyJSON(v) as T);
}


function copyJSON(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) {
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    return JSON.parse(JSON.stringify(v)) as unknown;
  }
  if (Array.isArray(v)) {
    const n = v.length;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const x: unknown = v[i];
      out[i] = x === undefined || typeof x === 'function' || typeof x === 'symbol' ? null : copyJSON(x);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return JSON.parse(JSON.stringify(v)) as unknown;
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in src) {
    if (!hasOwn.call(src, k)) continue;
    const x = src[k];
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
    // JSON.parse makes "__proto__" an own member; plain assignment would set the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: copyJSON(x), enumerable: true, writable: true, configurable: true });
    else out[k] = copyJSON(x);
  }
  return out;
}
