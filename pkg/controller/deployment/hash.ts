/**
 * The pod-template-hash (controller.ComputeHash): FNV-32a over the pod template, plus the
 * collisionCount when set (as 8 little-endian bytes of its uint32 value), rendered with
 * rand.SafeEncodeString.
 *
 * Upstream hashes the Go struct printed by spew; here the template is hashed as canonical JSON
 * (keys sorted, absent fields left out). The values differ from upstream's for the same template,
 * but have the same properties: stable for a template, different when it changes, and made only
 * of characters that cannot spell words.
 */
import type { PodTemplateSpec } from '../../api/types.js';

// util/rand's alphabet: no vowels, no look-alike characters.
const alphanums = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: maps every byte of `s` into the safe alphabet. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += alphanums[b % alphanums.length];
  return out;
}

/**
 * A template as Go would see it after decoding: null fields, empty maps and empty lists are the
 * same as absent ones (apimachinery's semantic equality treats nil and empty alike). kubectl sends
 * templates with `creationTimestamp: null`, for example.
 */
export function normalizeTemplate<T>(v: T): T {
  return prune(v) as T;
}

function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => prune(x) ?? null);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const p = prune(x);
    if (p === null || p === undefined) continue;
    if (Array.isArray(p) && p.length === 0) continue;
    if (typeof p === 'object' && !Array.isArray(p) && Object.keys(p as object).length === 0) continue;
    out[k] = p;
  }
  return out;
}

/** JSON with object keys sorted and undefined fields left out. */
export function canonicalJSON(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJSON(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(o[k])}`).join(',')}}`;
}

/** FNV-1a, 32 bits. */
export function fnv32a(data: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of data) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number | null): string {
  let h = fnv32a(Buffer.from(canonicalJSON(normalizeTemplate(template ?? {})), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32LE(collisionCount >>> 0, 0);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}
