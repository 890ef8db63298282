/**
 * Helpers shared by the strategies of the non-core resources: the cell formats of upstream's
 * printers (pkg/printers/internalversion) and the few validation rules they all use
 * (apimachinery's ValidateLabelSelector, ValidateNonnegativeField, ValidateImmutableField and
 * apps' int-or-percent checks), with upstream's field paths and message texts.
 */
import type { LabelSelector, StoredObject } from '../api/types.js';
import type { Strategy, TableColumn, TablePrinter } from '../registry/types.js';
import { type FieldError, invalidField, required, forbidden } from '../api/field-errors.js';
import { isQualifiedName, isValidLabelValue, validateLabels } from '../api/validation.js';
import { deepEqual } from '../api/meta.js';
import { col, nameColumn, translateTimestampSince } from './format.js';

// ---------------------------------------------------------------------------------------------
// Printing

/** The names and images of a template's containers, each joined with commas. */
export function layoutContainerCells(containers: { name?: string; image?: string }[] | undefined): [string, string] {
  const cs = containers ?? [];
  return [cs.map((c) => c.name ?? '').join(','), cs.map((c) => c.image ?? '').join(',')];
}

/**
 * A metav1.LabelSelector as labels.Selector.String() writes it: requirements sorted by key, set
 * values sorted. An empty or missing selector gives ''; a malformed one undefined.
 */
export function selectorString(ls: LabelSelector | undefined | null): string | undefined {
  if (!ls) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of ls.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort();
    switch (e.operator) {
      case 'In':
        if (!values.length) return undefined;
        reqs.push({ key: e.key, text: `${e.key} in (${values.join(',')})` });
        break;
      case 'NotIn':
        if (!values.length) return undefined;
        reqs.push({ key: e.key, text: `${e.key} notin (${values.join(',')})` });
        break;
      case 'Exists':
        reqs.push({ key: e.key, text: e.key });
        break;
      case 'DoesNotExist':
        reqs.push({ key: e.key, text: `!${e.key}` });
        break;
      default:
        return undefined;
    }
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector: `<none>` when the selector selects on nothing. */
export function formatSelector(ls: LabelSelector | undefined | null): string {
  const s = selectorString(ls);
  if (s === undefined) return '<error>';
  return s === '' ? '<none>' : s;
}

/** An IntOrString as its String(): the number or the string as written. */
export function intOrStringText(v: unknown): string {
  return typeof v === 'number' ? String(v) : String(v ?? '');
}

/** printBoolPtr: True, False or <unset>. */
export function boolPtrText(v: unknown): string {
  if (v === undefined || v === null) return '<unset>';
  return v ? 'True' : 'False';
}

/** A non-negative count from a status field that may be missing. */
export function count(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** The columns of the containers-images-selector tail that every workload shows with -o wide. */
export const containersColumn = col('Containers', 'string', 'Names of each container in the template.', 1);
export const imagesColumn = col('Images', 'string', 'Images referenced by each container in the template.', 1);

/**
 * The table of a resource without a printer of its own upstream (roles, cluster roles, CRDs):
 * the default table convertor's NAME and CREATED AT, the latter an RFC 3339 date.
 */
export const createdAtPrinter: TablePrinter = {
  columns: [
    nameColumn,
    {
      name: 'Created At',
      type: 'date',
      description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
      priority: 0,
    },
  ],
  row: (obj) => [obj.metadata.name, obj.metadata.creationTimestamp ?? null],
};

/** The columns of upstream's Event printer (LAST SEEN … with NAME last, wide only). */
export const eventColumns: TableColumn[] = [
  col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
  col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
  col('Reason', 'string', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
  col('Object', 'string', 'The object that this event is about.'),
  col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].', 1),
  col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
  col('Message', 'string', 'A human-readable description of the status of this operation.'),
  col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
  col('Count', 'string', 'The number of times this event has occurred.', 1),
  { ...nameColumn, priority: 1 },
];

/** One row of upstream's Event printer, from an event in the core/v1 shape. */
export function eventRow(ev: StoredObject, now: Date): unknown[] {
  let first = translateTimestampSince(ev.firstTimestamp, now);
  if (!ev.firstTimestamp) first = translateTimestampSince(ev.eventTime, now);
  let last = translateTimestampSince(ev.lastTimestamp, now);
  if (!ev.lastTimestamp) last = first;
  let n: number = typeof ev.count === 'number' ? ev.count : 0;
  if (ev.series) {
    last = translateTimestampSince(ev.series.lastObservedTime, now);
    n = count(ev.series.count);
  } else if (n === 0) {
    // Events of the new API are singletons without a count.
    n = 1;
  }
  const io = ev.involvedObject ?? {};
  const kind = String(io.kind ?? '').toLowerCase();
  const target = io.name ? `${kind}/${io.name}` : kind;
  const component = ev.source?.component || ev.reportingComponent || '';
  const host = ev.source?.host || ev.reportingInstance || '';
  const source = host ? `${component}, ${host}` : component;
  return [last, ev.type ?? '', ev.reason ?? '', target, io.fieldPath ?? '', source, String(ev.message ?? '').trim(), first, n, ev.metadata.name];
}

// ---------------------------------------------------------------------------------------------
// Validation

const negativeMsg = 'must be greater than or equal to 0';

/** ValidateNonnegativeField. */
export function nonNegative(v: unknown, path: string): FieldError[] {
  return typeof v === 'number' && v < 0 ? [invalidField(path, v, negativeMsg)] : [];
}

/** ValidateImmutableField: `field is immutable` when the value changed. */
export function immutable(now: unknown, old: unknown, path: string): FieldError[] {
  return deepEqual(now ?? null, old ?? null) ? [] : [invalidField(path, now ?? null, 'field is immutable')];
}

/** The label-name check of selectors (ValidateLabelName). */
function labelName(key: unknown, path: string): FieldError[] {
  if (typeof key !== 'string') return [invalidField(path, key, 'must be a string')];
  return isQualifiedName(key).map((m) => invalidField(path, key, m));
}

/** metav1validation.ValidateLabelSelector, values checked strictly. */
export function validateLabelSelector(ls: LabelSelector | undefined | null, path: string): FieldError[] {
  if (!ls) return [];
  const errs: FieldError[] = [...validateLabels(ls.matchLabels, `${path}.matchLabels`)];
  (ls.matchExpressions ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalidField(`${p}.operator`, e.operator, 'not a valid selector operator'));
    }
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(String(v))) errs.push(invalidField(`${p}.values[${j}]`, v, m));
    });
    errs.push(...labelName(e.key, `${p}.key`));
  });
  return errs;
}

/** Whether metav1.LabelSelectorAsSelector would fail on this selector. */
export function selectorIsMalformed(ls: LabelSelector | undefined | null): boolean {
  return !!ls && (validateLabelSelector(ls, 'selector').length > 0 || selectorString(ls) === undefined);
}

const percentRe = /^[0-9]+%$/;
const percentMsg = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** ValidatePositiveIntOrPercent. */
export function validatePositiveIntOrPercent(v: unknown, path: string): FieldError[] {
  if (typeof v === 'string') return percentRe.test(v) ? [] : [invalidField(path, v, percentMsg)];
  if (typeof v === 'number') return nonNegative(v, path);
  return [invalidField(path, v, "must be an integer or percentage (e.g '5%')")];
}

/** getIntOrPercentValue: the percentage's number, the integer, or 0 for anything else. */
export function intOrPercentValue(v: unknown): number {
  if (typeof v === 'string') return percentRe.test(v) ? Number(v.slice(0, -1)) : 0;
  return typeof v === 'number' ? v : 0;
}

/** IsNotMoreThan100Percent. */
export function notMoreThan100Percent(v: unknown, path: string): FieldError[] {
  if (typeof v !== 'string' || !percentRe.test(v)) return [];
  return Number(v.slice(0, -1)) > 100 ? [invalidField(path, v, 'must not be greater than 100%')] : [];
}

// ---------------------------------------------------------------------------------------------
// Robustness

const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The shape errors a decoder into typed structs would catch first: spec and status must be
 * objects. Deeper type mismatches surface as the TypeError a hook throws, caught by guarded().
 */
function shapeErrors(obj: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['spec', 'status']) {
    if (obj[f] !== undefined && obj[f] !== null && !isPlainObject(obj[f])) errs.push(invalidField(f, obj[f], 'must be an object'));
  }
  return errs;
}

function isTypeError(e: unknown): e is TypeError {
  return e instanceof TypeError;
}

/**
 * Wraps a strategy so that an object whose fields have the wrong JSON types is rejected as
 * invalid (422) instead of crashing a hook: the defaulting hooks leave such an object alone, and
 * validation reports the first mismatch it trips over. Upstream rejects these while decoding
 * into Go structs, before any strategy runs.
 */
export function guarded(s: Strategy): Strategy {
  const quiet =
    <A extends unknown[]>(f: (...a: A) => void) =>
    (...a: A) => {
      try {
        f(...a);
      } catch (e) {
        if (!isTypeError(e)) throw e;
      }
    };
  const checked =
    <A extends [StoredObject, ...unknown[]]>(f: (...a: A) => FieldError[]) =>
    (...a: A): FieldError[] => {
      const shape = shapeErrors(a[0]);
      if (shape.length) return shape;
      try {
        return f(...a);
      } catch (e) {
        if (!isTypeError(e)) throw e;
        return [{ type: 'FieldValueInvalid', field: '', value: undefined, detail: `the object is malformed: ${e.message}` }];
      }
    };
  const out: Strategy = { ...s };
  if (s.defaults) out.defaults = quiet(s.defaults);
  if (s.prepareForCreate) out.prepareForCreate = quiet(s.prepareForCreate);
  if (s.prepareForUpdate) out.prepareForUpdate = quiet(s.prepareForUpdate);
  if (s.prepareForDelete) out.prepareForDelete = quiet(s.prepareForDelete);
  if (s.validate) out.validate = checked(s.validate);
  if (s.validateUpdate) out.validateUpdate = checked(s.validateUpdate);
  if (s.validateStatusUpdate) out.validateStatusUpdate = checked(s.validateStatusUpdate);
  const fields = s.selectableFields;
  if (fields) {
    out.selectableFields = (obj) => {
      try {
        return fields(obj);
      } catch (e) {
        if (!isTypeError(e)) throw e;
        return {};
      }
    };
  }
  const table = s.table;
  if (table) {
    out.table = {
      columns: table.columns,
      row: (obj, now) => {
        try {
          return table.row(obj, now);
        } catch (e) {
          if (!isTypeError(e)) throw e;
          return table.columns.map((c, i) => (i === 0 ? obj.metadata?.name : c.name === 'Age' ? translateTimestampSince(obj.metadata?.creationTimestamp, now) : '<invalid>'));
        }
      },
    };
  }
  return out;
}
