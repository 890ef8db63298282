/**
 * Server-side field validation (`?fieldValidation=Strict|Warn|Ignore`, default Warn): fields a
 * kind does not have are dropped before storing, as decoding into upstream's Go types drops them,
 * and reported as an error (Strict) or a warning (Warn). Duplicate JSON keys are reported the
 * same way.
 *
 * The field list comes from @kubernetes/client-node's generated models (attributeTypeMap), which
 * are generated from upstream's OpenAPI spec and so follow the newest API fields. They are read
 * from a compact table extracted from those models (pkg/openapi/field-types.ts) rather than from
 * the models themselves, which cost ~30 MB of memory to load.
 */
import * as errors from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import type { ResourceDef } from '../registry/types.js';
import { modelFields } from '../openapi/field-types.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function parseFieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw errors.badRequest(`fieldValidation: Invalid value: "${v}": fieldValidation must be one of "Ignore", "Warn", or "Strict"`);
}

const modelCache = new Map<string, string | null>();

/** The client-node model name for a served kind: `V1Deployment`, `CoreV1Event`, `EventsV1Event`, … */
function modelName(def: ResourceDef): string | undefined {
  const key = `${def.group}/${def.version}/${def.kind}`;
  const cached = modelCache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const ver = def.version[0]!.toUpperCase() + def.version.slice(1);
  const prefix = def.group ? def.group.split('.')[0]!.replace(/^./, (c) => c.toUpperCase()) : 'Core';
  const candidates = def.group ? [`${prefix}${ver}${def.kind}`, `${ver}${def.kind}`] : [`${ver}${def.kind}`, `Core${ver}${def.kind}`];
  const found = candidates.find((c) => modelFields(c)?.kind !== undefined);
  modelCache.set(key, found ?? null);
  return found;
}

/** A client-node type string, parsed once: what `walk` needs of it. */
type TypeDesc =
  | { kind: 'array' | 'map'; elem: string }
  | { kind: 'model'; fields: Map<string, string> }
  | { kind: 'leaf' };

const typeDescs = new Map<string, TypeDesc>();

function describe(type: string): TypeDesc {
  let d = typeDescs.get(type);
  if (d) return d;
  const arr = /^Array<(.+)>$/.exec(type);
  const map = arr ? null : /^\{ \[key: string\]: (.+); \}$/.exec(type);
  const fields = arr || map ? undefined : modelFields(type);
  if (arr) d = { kind: 'array', elem: arr[1]! };
  else if (map) d = { kind: 'map', elem: map[1]! };
  else if (fields) d = { kind: 'model', fields: new Map(Object.entries(fields)) };
  else d = { kind: 'leaf' };
  typeDescs.set(type, d);
  return d;
}

/** Walks `value` against a client-node type string, collecting and removing unknown fields. */
function walk(value: unknown, type: string, path: string, unknown: string[]): void {
  if (value === null || value === undefined || typeof value !== 'object') return;
  const d = describe(type);
  switch (d.kind) {
    case 'array':
      if (Array.isArray(value)) for (let i = 0; i < value.length; i++) walk(value[i], d.elem, `${path}[${i}]`, unknown);
      return;
    case 'map':
      if (!Array.isArray(value)) for (const [k, v] of Object.entries(value)) walk(v, d.elem, `${path}[${k}]`, unknown);
      return;
    case 'model': {
      if (Array.isArray(value)) return;
      const obj = value as Record<string, unknown>;
      for (const k of Object.keys(obj)) {
        const t = d.fields.get(k);
        const field = path ? `${path}.${k}` : k;
        if (t === undefined) {
          unknown.push(field);
          delete obj[k];
        } else walk(obj[k], t, field, unknown);
      }
      return;
    }
    default:
      return;
  }
}

/**
 * The keys that appear twice in one JSON object, as dotted paths. A linear scan over the text:
 * JSON.parse keeps only the last value and cannot tell.
 */
export function duplicateFields(text: string): string[] {
  const out: string[] = [];
  const stack: { keys: Set<string> | null; path: string; pendingKey?: string; index: number }[] = [];
  let i = 0;
  const n = text.length;
  // Moves past the string starting at i; returns its decoded value when `decode` is set.
  const readString = (decode: boolean): string => {
    const start = ++i;
    let escaped = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c === 0x22) break;
      i++;
    }
    const raw = text.slice(start, Math.min(i, n));
    if (i < n) i++;
    if (!decode || !escaped) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return raw;
    }
  };
  const isSpace = (j: number): boolean => {
    const c = text.charCodeAt(j);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return true;
    return c >= 0x80 && /\s/.test(text[j]!);
  };
  const childPath = () => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    if (top.keys) return top.path ? `${top.path}.${top.pendingKey}` : (top.pendingKey ?? '');
    return `${top.path}[${top.index}]`;
  };
  while (i < n) {
    const c = text[i]!;
    const top = stack[stack.length - 1];
    if (c === '"') {
      const atKey = !!top?.keys && top.pendingKey === undefined;
      const s = readString(atKey);
      if (atKey && top?.keys) {
        let j = i;
        while (j < n && isSpace(j)) j++;
        if (text[j] === ':') {
          if (top.keys.has(s)) out.push(top.path ? `${top.path}.${s}` : s);
          top.keys.add(s);
          top.pendingKey = s;
          i = j + 1;
        }
      }
      continue;
    }
    if (c === '{' || c === '[') {
      const path = childPath();
      stack.push(c === '{' ? { keys: new Set(), path, index: 0 } : { keys: null, path, index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      if (top?.keys) top.pendingKey = undefined;
      else if (top) top.index++;
    }
    i++;
  }
  return out;
}

export interface FieldValidationResult {
  /** Warning texts to send as `Warning: 299 - "…"` headers. */
  warnings: string[];
}

/**
 * Drops the fields `obj` has that its kind does not, and reports them (and duplicate keys in
 * `rawJSON`) according to `mode`. Throws 400 under Strict.
 */
export async function validateFields(def: ResourceDef, obj: KubeObject, mode: FieldValidation, rawJSON: string | undefined, strictPrefix: string): Promise<FieldValidationResult> {
  const name = modelName(def);
  const unknown: string[] = [];
  if (name) walk(obj, name, '', unknown);
  const problems = [...(rawJSON && mode !== 'Ignore' ? duplicateFields(rawJSON).map((f) => `duplicate field "${f}"`) : []), ...unknown.map((f) => `unknown field "${f}"`)];
  if (problems.length === 0 || mode === 'Ignore') return { warnings: [] };
  if (mode === 'Strict') throw errors.badRequest(`${strictPrefix}strict decoding error: ${problems.join(', ')}`);
  return { warnings: problems };
}
