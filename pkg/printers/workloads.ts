/**
 * Helpers shared by the printers of the non-core resources: the cell formats of upstream's
 * printers (pkg/printers/internalversion).
 */
import type { LabelSelector } from '../api/types.js';
import type { TablePrinter } from '../registry/types.js';
import { validateLabelSelector } from '../api/validation.js';
import { col, nameColumn } from './format.js';

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

/** Whether metav1.LabelSelectorAsSelector would fail on this selector. */
export function selectorIsMalformed(ls: LabelSelector | undefined | null): boolean {
  return !!ls && (validateLabelSelector(ls, 'selector').length > 0 || selectorString(ls) === undefined);
}
