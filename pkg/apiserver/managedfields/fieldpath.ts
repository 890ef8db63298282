/**
 * Field paths and field sets, as structured-merge-diff's fieldpath package defines them, and their
 * FieldsV1 wire form (`{"f:metadata":{"f:labels":{"f:app":{}}}}`).
 *
 * A path is a list of path elements: a field name (`f:name`), the key of an associative-list item
 * (`k:{"name":"nginx"}`), a set member (`v:"value"`) or a list index (`i:0`). A set is a trie: its
 * members are the paths that end at this node, its children the subsets below each element. A
 * node can be both a member and a parent; FieldsV1 writes that as a `".": {}` entry.
 *
 * Invariants: members and children stay sorted by `comparePathElements` and hold no duplicates;
 * no child subset is empty.
 */
import { type JSONValue, type JSONMap, compareValues, valueToString, goJSON, isMap } from './value.js';

export type PathElement =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'key'; readonly fields: ReadonlyArray<readonly [string, JSONValue]> }
  | { readonly kind: 'value'; readonly value: JSONValue }
  | { readonly kind: 'index'; readonly index: number };

export type Path = readonly PathElement[];

export const fieldPE = (name: string): PathElement => ({ kind: 'field', name });
export const valuePE = (value: JSONValue): PathElement => ({ kind: 'value', value });
export const indexPE = (index: number): PathElement => ({ kind: 'index', index });

/** A key element; the fields are sorted by name, as upstream keeps them. */
export function keyPE(fields: Iterable<readonly [string, JSONValue]>): PathElement {
  return { kind: 'key', fields: [...fields].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)) };
}

/** Builds a path from strings (field names) and elements, for tests and fixed paths. */
export function makePath(...parts: (string | PathElement)[]): Path {
  return parts.map((p) => (typeof p === 'string' ? fieldPE(p) : p));
}

const kindOrder = { field: 0, key: 1, value: 2, index: 3 } as const;

function compareKeys(a: ReadonlyArray<readonly [string, JSONValue]>, b: ReadonlyArray<readonly [string, JSONValue]>): number {
  for (let i = 0; ; i++) {
    if (i >= a.length && i >= b.length) return 0;
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const [an, av] = a[i]!;
    const [bn, bv] = b[i]!;
    if (an !== bn) return an < bn ? -1 : 1;
    const c = compareValues(av, bv);
    if (c !== 0) return c;
  }
}

/** Upstream's order: field names first, then keys, set values and indexes. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return kindOrder[a.kind] - kindOrder[b.kind];
  switch (a.kind) {
    case 'field': {
      const bn = (b as { name: string }).name;
      return a.name < bn ? -1 : a.name > bn ? 1 : 0;
    }
    case 'key':
      return compareKeys(a.fields, (b as { fields: ReadonlyArray<readonly [string, JSONValue]> }).fields);
    case 'value':
      return compareValues(a.value, (b as { value: JSONValue }).value);
    case 'index':
      return a.index - (b as { index: number }).index;
  }
}

export function pathElementsEqual(a: PathElement, b: PathElement): boolean {
  return comparePathElements(a, b) === 0;
}

/** The FieldsV1 key of an element: `f:name`, `k:{…}`, `v:…`, `i:N`. */
export function serializePathElement(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `f:${pe.name}`;
    case 'key':
      return `k:{${pe.fields.map(([n, v]) => `${goJSON(n)}:${goJSON(v)}`).join(',')}}`;
    case 'value':
      return `v:${goJSON(pe.value)}`;
    case 'index':
      return `i:${pe.index}`;
  }
}

/** Parses a FieldsV1 key. Unknown element types give undefined (upstream skips them). */
export function deserializePathElement(s: string): PathElement | undefined {
  if (s.length < 2) throw new Error(`key must be 2 characters long: ${JSON.stringify(s)}`);
  if (s[1] !== ':') throw new Error(`missing colon: ${s}`);
  const rest = s.slice(2);
  switch (s[0]) {
    case 'f':
      return fieldPE(rest);
    case 'v':
      return valuePE(JSON.parse(rest) as JSONValue);
    case 'k': {
      const m = JSON.parse(rest) as unknown;
      if (!isMap(m)) throw new Error(`key element is not an object: ${s}`);
      return keyPE(Object.entries(m));
    }
    case 'i': {
      if (!/^-?\d+$/.test(rest)) throw new Error(`invalid index: ${s}`);
      return indexPE(Number(rest));
    }
    default:
      return undefined;
  }
}

/** The element as it reads in a path: `.name`, `[name="nginx"]`, `[="value"]`, `[0]`. */
export function pathElementString(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `.${pe.name}`;
    case 'key':
      return `[${pe.fields.map(([n, v]) => `${n}=${valueToString(v)}`).join(',')}]`;
    case 'value':
      return `[=${valueToString(pe.value)}]`;
    case 'index':
      return `[${pe.index}]`;
  }
}

/** `.spec.template.spec.containers[name="nginx"].image`. */
export function pathString(p: Path): string {
  return p.map(pathElementString).join('');
}

/** Index of pe in a sorted array, or the insertion point as `-(i + 1)`. */
function search<T>(arr: readonly T[], pe: PathElement, get: (t: T) => PathElement): number {
  let lo = 0;
  let hi = arr.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = comparePathElements(get(arr[mid]!), pe);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -(lo + 1);
}

const self = (pe: PathElement) => pe;
const nodePE = (n: SetNode) => n.pe;

interface SetNode {
  pe: PathElement;
  set: FieldSet;
}

/** A set of field paths (structured-merge-diff's fieldpath.Set). */
export class FieldSet {
  private constructor(
    private members: PathElement[],
    private children: SetNode[],
  ) {}

  static empty(): FieldSet {
    return new FieldSet([], []);
  }

  static of(...paths: Path[]): FieldSet {
    const s = FieldSet.empty();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path (in place; sets are built with this, then combined immutably). */
  insert(path: Path): this {
    if (path.length === 0) return this;
    let s = path.length > 1 ? this.descend(path[0]!) : this;
    for (let i = 1; i < path.length - 1; i++) s = s.descend(path[i]!);
    const last = path[path.length - 1]!;
    const at = search(s.members, last, self);
    if (at < 0) s.members.splice(-at - 1, 0, last);
    return this;
  }

  private descend(pe: PathElement): FieldSet {
    const at = search(this.children, pe, nodePE);
    if (at >= 0) return this.children[at]!.set;
    const set = FieldSet.empty();
    this.children.splice(-at - 1, 0, { pe, set });
    return set;
  }

  /** Whether the path is a member (the empty path never is). */
  has(path: Path): boolean {
    if (path.length === 0) return false;
    if (path.length === 1) return this.hasMember(path[0]!);
    return this.child(path[0]!)?.has(path.slice(1)) ?? false;
  }

  hasMember(pe: PathElement): boolean {
    return search(this.members, pe, self) >= 0;
  }

  private child(pe: PathElement): FieldSet | undefined {
    const at = search(this.children, pe, nodePE);
    return at >= 0 ? this.children[at]!.set : undefined;
  }

  /** The subset below pe, without the prefix (empty if none). */
  withPrefix(pe: PathElement): FieldSet {
    return this.child(pe) ?? FieldSet.empty();
  }

  empty(): boolean {
    return this.members.length === 0 && this.children.every((c) => c.set.empty());
  }

  /** The number of member paths. */
  size(): number {
    return this.members.length + this.children.reduce((n, c) => n + c.set.size(), 0);
  }

  memberElements(): readonly PathElement[] {
    return this.members;
  }

  childElements(): readonly { pe: PathElement; set: FieldSet }[] {
    return this.children;
  }

  union(o: FieldSet): FieldSet {
    const members = mergeSorted(this.members, o.members);
    const children: SetNode[] = [];
    let same = members.length === this.members.length;
    let i = 0;
    let j = 0;
    while (i < this.children.length || j < o.children.length) {
      const a = this.children[i];
      const b = o.children[j];
      const c = !a ? 1 : !b ? -1 : comparePathElements(a.pe, b.pe);
      if (c < 0) {
        children.push(a!);
        i++;
      } else if (c > 0) {
        children.push(b!);
        same = false;
        j++;
      } else {
        const u = a!.set.union(b!.set);
        if (u !== a!.set) same = false;
        children.push({ pe: a!.pe, set: u });
        i++;
        j++;
      }
    }
    // Nothing added: this set itself (sets are not changed once built).
    return same ? this : new FieldSet(members, children);
  }

  intersection(o: FieldSet): FieldSet {
    const members = this.members.filter((m) => o.hasMember(m));
    const children: SetNode[] = [];
    for (const c of this.children) {
      const oc = o.child(c.pe);
      if (!oc) continue;
      const s = c.set.intersection(oc);
      if (!s.empty()) children.push({ pe: c.pe, set: s });
    }
    return new FieldSet(members, children);
  }

  /** Members of this set that are not members of o; children are compared node by node. */
  difference(o: FieldSet): FieldSet {
    const members = this.members.filter((m) => !o.hasMember(m));
    const children: SetNode[] = [];
    let same = members.length === this.members.length;
    for (const c of this.children) {
      const oc = o.child(c.pe);
      const s = oc ? c.set.difference(oc) : c.set;
      if (s !== c.set) same = false;
      if (!s.empty()) children.push({ pe: c.pe, set: s });
    }
    // Nothing removed: this set itself (sets are not changed once built).
    return same && children.length === this.children.length ? this : new FieldSet(members, children);
  }

  /** Like difference, but a member of o also removes everything below it. */
  recursiveDifference(o: FieldSet): FieldSet {
    const members = this.members.filter((m) => !o.hasMember(m));
    const children: SetNode[] = [];
    let same = members.length === this.members.length;
    for (const c of this.children) {
      if (o.hasMember(c.pe)) {
        same = false;
        continue;
      }
      const oc = o.child(c.pe);
      const s = oc ? c.set.recursiveDifference(oc) : c.set;
      if (s !== c.set) same = false;
      if (!s.empty()) children.push({ pe: c.pe, set: s });
    }
    return same && children.length === this.children.length ? this : new FieldSet(members, children);
  }

  /** Only the members that have no children of their own. */
  leaves(): FieldSet {
    const members = this.members.filter((m) => !this.children.some((c) => pathElementsEqual(c.pe, m) && !c.set.empty()));
    const children = this.children.map((c) => ({ pe: c.pe, set: c.set.leaves() })).filter((c) => !c.set.empty());
    return new FieldSet(members, children);
  }

  equals(o: FieldSet): boolean {
    if (this.members.length !== o.members.length || this.children.length !== o.children.length) return false;
    for (let i = 0; i < this.members.length; i++) if (!pathElementsEqual(this.members[i]!, o.members[i]!)) return false;
    for (let i = 0; i < this.children.length; i++) {
      const a = this.children[i]!;
      const b = o.children[i]!;
      if (!pathElementsEqual(a.pe, b.pe) || !a.set.equals(b.set)) return false;
    }
    return true;
  }

  /** Every member path, members of a node before its children (upstream's Iterate order). */
  paths(): Path[] {
    const out: Path[] = [];
    const walk = (s: FieldSet, prefix: PathElement[]) => {
      for (const m of s.members) out.push([...prefix, m]);
      for (const c of s.children) walk(c.set, [...prefix, c.pe]);
    };
    walk(this, []);
    return out;
  }

  /**
   * Adds, as members, the named struct fields that lead to other members: a set holding `a.b.c`
   * also holds `a` and `a.b` when those are fields of a struct (`isNamedField` decides, per node).
   */
  ensureNamedFieldsAreMembers(isNamedField: (prefix: Path, pe: PathElement) => boolean, prefix: PathElement[] = []): FieldSet {
    const members = [...this.members];
    for (const c of this.children) {
      if (c.pe.kind === 'field' && isNamedField(prefix, c.pe) && search(members, c.pe, self) < 0) {
        members.splice(-search(members, c.pe, self) - 1, 0, c.pe);
      }
    }
    const children = this.children.map((c) => ({ pe: c.pe, set: c.set.ensureNamedFieldsAreMembers(isNamedField, [...prefix, c.pe]) }));
    return new FieldSet(members, children);
  }

  /** The FieldsV1 object, with entries in upstream's order and `"."` last within a node. */
  toFieldsV1(): JSONMap {
    const out: JSONMap = {};
    this.emitInto(out);
    return out;
  }

  private emitInto(out: JSONMap): void {
    let i = 0;
    let j = 0;
    while (i < this.members.length || j < this.children.length) {
      const m = this.members[i];
      const c = this.children[j];
      const d = !m ? 1 : !c ? -1 : comparePathElements(m, c.pe);
      if (d < 0) {
        out[serializePathElement(m!)] = {};
        i++;
        continue;
      }
      const inner: JSONMap = {};
      c!.set.emitInto(inner);
      if (d === 0) {
        // A member that also has children: the node itself is marked with ".".
        if (Object.keys(inner).length > 0) inner['.'] = {};
        i++;
      }
      out[serializePathElement(c!.pe)] = inner;
      j++;
    }
  }

  /** Parses FieldsV1 (an object, or its JSON text). Throws on malformed input. */
  static fromFieldsV1(v: unknown): FieldSet {
    const obj = typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
    if (!isMap(obj)) throw new Error('FieldsV1 must be a JSON object');
    return FieldSet.readNode(obj).set;
  }

  /** One FieldsV1 node: the subset below it, and whether the node is itself a member. */
  private static readNode(obj: JSONMap): { set: FieldSet; isMember: boolean } {
    const set = FieldSet.empty();
    let isMember = false;
    let sawElement = false;
    for (const [key, val] of Object.entries(obj)) {
      if (key === '.') {
        isMember = true;
        continue;
      }
      const pe = deserializePathElement(key);
      if (!pe) continue;
      if (!isMap(val)) throw new Error(`FieldsV1 entry ${key} is not an object`);
      sawElement = true;
      const sub = FieldSet.readNode(val);
      if (sub.isMember && search(set.members, pe, self) < 0) set.members.splice(-search(set.members, pe, self) - 1, 0, pe);
      if (!sub.set.empty()) {
        const at = search(set.children, pe, nodePE);
        if (at >= 0) set.children[at]!.set = set.children[at]!.set.union(sub.set);
        else set.children.splice(-at - 1, 0, { pe, set: sub.set });
      }
    }
    // A node without elements below it (`{}`) is a member.
    return { set, isMember: isMember || !sawElement };
  }

  /** The FieldsV1 JSON text, as upstream serializes it. */
  serialize(): string {
    return JSON.stringify(this.toFieldsV1());
  }
}

function mergeSorted(a: PathElement[], b: PathElement[]): PathElement[] {
  const out: PathElement[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const c = i >= a.length ? 1 : j >= b.length ? -1 : comparePathElements(a[i]!, b[j]!);
    if (c <= 0) out.push(a[i++]!);
    else out.push(b[j++]!);
    if (c === 0) j++;
  }
  return out;
}
