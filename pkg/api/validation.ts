/**
 * Name, label and annotation validation with upstream's rules and message texts
 * (apimachinery util/validation and api/validation/objectmeta.go).
 */
import type { ObjectMeta } from './types.js';
import { type FieldError, invalidField, required, forbidden, tooLong } from './field-errors.js';
import { deepEqual } from './meta.js';

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);
const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`);
const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const qualifiedNameRe = new RegExp(`^${qualifiedNameFmt}$`);
const labelValueRe = new RegExp(`^(${qualifiedNameFmt})?$`);

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  let s = msg;
  if (examples.length) s += ' (e.g. ' + examples.map((e) => `'${e}'`).join(',  or ') + ', ';
  else s += ' (';
  return s + `regex used for validation is '${fmt}')`;
}

const maxLen = (n: number) => `must be no more than ${n} characters`;

/** DNS-1123 label: namespaces and most short names. */
export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!dns1123LabelRe.test(v))
    errs.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", dns1123LabelFmt, 'my-name', '123-abc'));
  return errs;
}

/** DNS-1123 subdomain: the default for object names. */
export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLen(253));
  if (!dns1123SubdomainRe.test(v))
    errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", dns1123SubdomainFmt, 'example.com'));
  return errs;
}

/** DNS-1035 label: Service names. */
export function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!dns1035LabelRe.test(v))
    errs.push(regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", dns1035LabelFmt, 'my-name', 'abc-123'));
  return errs;
}

/** A label or annotation key: an optional DNS subdomain prefix and a name of at most 63 characters. */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part ' + 'must be non-empty');
    else for (const e of isDNS1123Subdomain(prefix)) errs.push('prefix part ' + e);
  } else {
    return [
      regexError("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", qualifiedNameFmt, 'MyName', 'my.name', '123-abc') +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part ' + maxLen(63));
  if (!qualifiedNameRe.test(name))
    errs.push(regexError("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", qualifiedNameFmt, 'MyName', 'my.name', '123-abc'));
  return errs;
}

export function isValidLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!labelValueRe.test(v))
    errs.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", qualifiedNameFmt, 'MyValue', 'my_value', '12345'));
  return errs;
}

/** A name usable as one path segment: RBAC objects and others with "path segment" names. */
export function isValidPathSegmentName(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (v.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** How a resource's names are checked (upstream's ValidateNameFunc per kind). */
export type NameValidator = (name: string) => string[];

export const nameIsDNSSubdomain: NameValidator = isDNS1123Subdomain;
export const nameIsDNSLabel: NameValidator = isDNS1123Label;
export const nameIsDNS1035Label: NameValidator = isDNS1035Label;
export const nameIsPathSegment: NameValidator = isValidPathSegmentName;

const totalAnnotationSizeLimitB = 256 * 1024;

export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  if (typeof labels !== 'object' || Array.isArray(labels)) return [invalidField(path, labels, 'must be a map of string keys to string values')];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const e of isQualifiedName(k)) errs.push(invalidField(path, k, e));
    if (typeof v !== 'string') errs.push(invalidField(`${path}`, v, 'label values must be strings'));
    else for (const e of isValidLabelValue(v)) errs.push(invalidField(path, v, e));
  }
  return errs;
}

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (annotations === undefined || annotations === null) return errs;
  if (typeof annotations !== 'object' || Array.isArray(annotations)) return [invalidField(path, annotations, 'must be a map of string keys to string values')];
  let total = 0;
  for (const [k, v] of Object.entries(annotations as Record<string, unknown>)) {
    for (const e of isQualifiedName(k.toLowerCase())) errs.push(invalidField(path, k, e));
    if (typeof v !== 'string') errs.push(invalidField(path, v, 'annotation values must be strings'));
    total += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (total > totalAnnotationSizeLimitB) errs.push(tooLong(path, totalAnnotationSizeLimitB));
  return errs;
}

/**
 * ValidateObjectMeta: name (or generateName), namespace presence according to scope, labels,
 * annotations, finalizers and ownerReferences.
 */
export function validateObjectMeta(meta: ObjectMeta | undefined, namespaced: boolean, nameFn: NameValidator, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  if (!meta) return [required(path, '')];
  if (meta.generateName) {
    for (const e of nameFn(meta.generateName.replace(/-$/, 'a').replace(/\.$/, 'a'))) errs.push(invalidField(`${path}.generateName`, meta.generateName, e));
  }
  if (!meta.name) {
    if (!meta.generateName) errs.push(required(`${path}.name`, 'name or generateName is required'));
  } else {
    for (const e of nameFn(meta.name)) errs.push(invalidField(`${path}.name`, meta.name, e));
  }
  if (namespaced) {
    if (!meta.namespace) errs.push(required(`${path}.namespace`, ''));
    else for (const e of isDNS1123Label(meta.namespace)) errs.push(invalidField(`${path}.namespace`, meta.namespace, e));
  } else if (meta.namespace) {
    errs.push(forbidden(`${path}.namespace`, 'not allowed on this type'));
  }
  errs.push(...validateLabels(meta.labels, `${path}.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  (meta.finalizers ?? []).forEach((f, i) => {
    for (const e of isQualifiedName(f)) errs.push(invalidField(`${path}.finalizers[${i}]`, f, e));
  });
  (meta.ownerReferences ?? []).forEach((r, i) => {
    const p = `${path}.ownerReferences[${i}]`;
    if (!r.apiVersion) errs.push(invalidField(`${p}.apiVersion`, r.apiVersion ?? '', 'version must not be empty'));
    if (!r.kind) errs.push(invalidField(`${p}.kind`, r.kind ?? '', 'kind must not be empty'));
    if (!r.name) errs.push(invalidField(`${p}.name`, r.name ?? '', 'name must not be empty'));
    if (!r.uid) errs.push(invalidField(`${p}.uid`, r.uid ?? '', 'uid must not be empty'));
  });
  if ((meta.ownerReferences ?? []).filter((r) => r.controller).length > 1)
    errs.push(invalidField(`${path}.ownerReferences`, meta.ownerReferences, 'Only one reference can have Controller set to true'));
  return errs;
}

/** ValidateObjectMetaUpdate: the immutable parts of metadata stay as they were. */
export function validateObjectMetaUpdate(meta: ObjectMeta, old: ObjectMeta, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  const immutable = (f: keyof ObjectMeta, sub: string) => {
    if (old[f] !== undefined && meta[f] !== old[f]) errs.push(invalidField(`${path}.${sub}`, meta[f], 'field is immutable'));
  };
  immutable('name', 'name');
  immutable('namespace', 'namespace');
  immutable('uid', 'uid');
  immutable('creationTimestamp', 'creationTimestamp');
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Rules many strategies share (apimachinery's metav1validation and apps' int-or-percent checks).

const negativeMsg = 'must be greater than or equal to 0';

/** ValidateNonnegativeField. */
export function nonNegative(v: unknown, path: string): FieldError[] {
  return typeof v === 'number' && v < 0 ? [invalidField(path, v, negativeMsg)] : [];
}

/** ValidateImmutableField: `field is immutable` when the value changed. */
export function immutable(now: unknown, old: unknown, path: string): FieldError[] {
  return deepEqual(now ?? null, old ?? null) ? [] : [invalidField(path, now ?? null, 'field is immutable')];
}

/** ValidateLabelName: a label key is a qualified name. */
export function validateLabelName(name: unknown, path: string): FieldError[] {
  const s = typeof name === 'string' ? name : '';
  return isQualifiedName(s).map((m) => invalidField(path, name ?? '', m));
}

/** metav1validation.ValidateLabelSelector for a structured selector (of any JSON shape). */
export function validateLabelSelector(sel: unknown, path: string): FieldError[] {
  if (sel === undefined || sel === null) return [];
  if (typeof sel !== 'object' || Array.isArray(sel)) return [invalidField(path, sel, 'must be a label selector')];
  const ls = sel as { matchLabels?: unknown; matchExpressions?: unknown };
  const errs: FieldError[] = [...validateLabels(ls.matchLabels, `${path}.matchLabels`)];
  (Array.isArray(ls.matchExpressions) ? ls.matchExpressions : []).forEach((r: any, i: number) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values: unknown[] = Array.isArray(r?.values) ? r.values : [];
    switch (r?.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalidField(`${p}.operator`, r?.operator ?? '', 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(r?.key, `${p}.key`));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(typeof v === 'string' ? v : String(v))) errs.push(invalidField(`${p}.values[${j}]`, v, m));
    });
  });
  return errs;
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
