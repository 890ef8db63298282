/**
 * Server-side field validation (`?fieldValidation=Strict|Warn`) from the same OpenAPI schema the
 * documents advertise: the fields of a request body that the kind's schema does not know.
 *
 * kubectl sends `fieldValidation=Strict` and skips its own validation as soon as the OpenAPI
 * PATCH operation lists that parameter, so the server is the one to report unknown fields, as
 * upstream does (`strict decoding error: unknown field "spec.foo"`).
 *
 * Caveat: the schema is Kubernetes 1.27's (see upstream-spec.ts); fields added since then are
 * unknown to it. Callers that reject on the result should allow for that.
 */
import { upstreamSpec, definitionFor, referencedName, type GroupVersionKind, type SchemaObject } from './upstream-spec.js';

function resolve(s: SchemaObject | undefined): SchemaObject | undefined {
  const { schemas } = upstreamSpec();
  for (let i = 0; s && i < 16; i++) {
    const ref = referencedName(s);
    if (!ref) break;
    s = schemas[ref];
  }
  return s;
}

function walk(value: unknown, schema: SchemaObject | undefined, path: string, out: string[]): void {
  const s = resolve(schema);
  if (!s || s['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value)) {
    if (s.items) value.forEach((v, i) => walk(v, s.items, `${path}[${i}]`, out));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (s.properties) {
    for (const [k, v] of Object.entries(value)) {
      const field = path ? `${path}.${k}` : k;
      const prop = s.properties[k];
      if (!prop) out.push(field);
      else walk(v, prop, field, out);
    }
  } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    for (const [k, v] of Object.entries(value)) walk(v, s.additionalProperties, path ? `${path}.${k}` : k, out);
  }
  // An object schema with neither (RawExtension, FieldsV1, JSON) takes anything.
}

/**
 * The dotted paths (`spec.template.spec.containers[0].foo`) of the fields in `obj` that the kind's
 * schema does not define, or undefined when there is no schema for the kind (custom resources).
 */
export function unknownFields(gvk: GroupVersionKind, obj: unknown): string[] | undefined {
  const name = definitionFor(gvk);
  if (!name) return undefined;
  const out: string[] = [];
  walk(obj, upstreamSpec().schemas[name], '', out);
  return out;
}

/** Upstream's wording for a strict decoding failure, to put in a 400 BadRequest Status. */
export function strictDecodingMessage(gvk: GroupVersionKind, fields: string[]): string {
  return `${gvk.kind} in version "${gvk.version}" cannot be handled as a ${gvk.kind}: strict decoding error: ${fields.map((f) => `unknown field "${f}"`).join(', ')}`;
}
