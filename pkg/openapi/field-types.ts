/**
 * The field names and field types of every Kubernetes kind, as @kubernetes/client-node's generated
 * models describe them (their `attributeTypeMap`), kept as a small committed table
 * (`field-types.json`) so the apiserver's field validation does not have to load the models
 * themselves (several hundred classes, ~30 MB resident) to learn which fields a kind has.
 *
 * client-node's models are generated from upstream's newest OpenAPI spec, so this table knows
 * fields the Kubernetes 1.27 definitions in upstream-spec.ts lack. `hack/gen-field-types.ts`
 * regenerates the table; `field-types.test.ts` fails when it no longer matches the installed
 * client-node.
 *
 * Type strings are client-node's: a model name (`V1PodSpec`), `Array<T>`, `{ [key: string]: T; }`,
 * or a leaf (`string`, `number`, `boolean`, `Date`, `any`, `IntOrString`, …).
 */
import table from './field-types.json' with { type: 'json' };

export interface FieldTypesTable {
  /** Where the table came from: `@kubernetes/client-node <version>`. */
  source: string;
  /** Model name → field name → type string, fields in client-node's order. */
  models: Record<string, Record<string, string>>;
}

interface AttributeTypeMapEntry {
  baseName: string;
  type: string;
}

/** Builds the table from client-node's models module (`dist/gen/models/all.js`). */
export function fieldTypesFromModels(models: Record<string, unknown>, version: string): FieldTypesTable {
  const out: Record<string, Record<string, string>> = {};
  for (const name of Object.keys(models).sort()) {
    const cls = models[name] as { getAttributeTypeMap?: () => AttributeTypeMapEntry[] } | undefined;
    if (typeof cls?.getAttributeTypeMap !== 'function') continue;
    const fields: Record<string, string> = {};
    for (const a of cls.getAttributeTypeMap()) fields[a.baseName] = a.type;
    out[name] = fields;
  }
  return { source: `@kubernetes/client-node ${version}`, models: out };
}

const committed = table as FieldTypesTable;

/** The committed table. */
export function fieldTypesTable(): FieldTypesTable {
  return committed;
}

/** The fields of a model (name → type string), or undefined when there is no such model. */
export function modelFields(name: string): Record<string, string> | undefined {
  return Object.hasOwn(committed.models, name) ? committed.models[name] : undefined;
}
