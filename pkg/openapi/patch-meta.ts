/**
 * Strategic-merge-patch metadata from the OpenAPI schema: for each field, its patch strategies
 * (`x-kubernetes-patch-strategy`) and merge key (`x-kubernetes-patch-merge-key`). This is the one
 * place both the strategic merge patch and the served OpenAPI documents get the schema from
 * (upstream's PatchMetaFromOpenAPI plays this role for kubectl).
 */
import { upstreamSpec, definitionFor, referencedName, type GroupVersionKind, type SchemaObject } from './upstream-spec.js';

/** How a field is patched. Empty strategies mean the default: maps merge, lists are replaced. */
export interface PatchMeta {
  /** e.g. ['merge'], ['merge', 'retainKeys'], ['replace']. */
  strategies: string[];
  /** The key identifying list elements, for lists of objects merged by key. */
  mergeKey: string;
}

const noMeta: PatchMeta = { strategies: [], mergeKey: '' };

/**
 * A position in a schema. Looking up a field the schema does not know yields an empty schema, so
 * unknown fields patch with the default rules instead of failing.
 */
export class PatchSchema {
  private constructor(
    private readonly schemas: Record<string, SchemaObject>,
    private readonly schema: SchemaObject | undefined,
    /** The definition name this node came from, for error messages. */
    readonly name: string,
  ) {}

  /** A schema over an arbitrary set of definitions (tests use this with upstream's MergeItem). */
  static fromDefinitions(schemas: Record<string, SchemaObject>, root: string): PatchSchema {
    return new PatchSchema(schemas, schemas[root], root);
  }

  /** The schema of a kind, or undefined when upstream has no definition for it. */
  static forKind(gvk: GroupVersionKind): PatchSchema | undefined {
    const name = definitionFor(gvk);
    if (!name) return undefined;
    return new PatchSchema(upstreamSpec().schemas, upstreamSpec().schemas[name], name);
  }

  private resolve(s: SchemaObject | undefined, name: string): { schema: SchemaObject | undefined; name: string } {
    // Follow $ref chains (bounded, in case of a malformed spec).
    for (let i = 0; s && i < 16; i++) {
      const ref = referencedName(s);
      if (!ref) break;
      name = ref;
      s = this.schemas[ref];
    }
    return { schema: s, name };
  }

  private child(s: SchemaObject | undefined, name: string): PatchSchema {
    const r = this.resolve(s, name);
    return new PatchSchema(this.schemas, r.schema, r.name);
  }

  /** The value schema and patch metadata of a field of an object (or of a map entry). */
  field(key: string): { schema: PatchSchema; meta: PatchMeta } {
    const here = this.resolve(this.schema, this.name).schema;
    const prop = here?.properties?.[key];
    if (prop) {
      const strategy = prop['x-kubernetes-patch-strategy'];
      const mergeKey = prop['x-kubernetes-patch-merge-key'];
      return {
        schema: this.child(prop, `${this.name}.${key}`),
        meta: {
          strategies: typeof strategy === 'string' && strategy !== '' ? strategy.split(',').map((x) => x.trim()) : [],
          mergeKey: typeof mergeKey === 'string' ? mergeKey : '',
        },
      };
    }
    const ap = here?.additionalProperties;
    if (ap && typeof ap === 'object') return { schema: this.child(ap, `${this.name}[${key}]`), meta: noMeta };
    return { schema: this.child(undefined, `${this.name}.${key}`), meta: noMeta };
  }

  /** The schema of a list's elements. */
  elements(): PatchSchema {
    const here = this.resolve(this.schema, this.name).schema;
    return this.child(here?.items, `${this.name}[]`);
  }
}
