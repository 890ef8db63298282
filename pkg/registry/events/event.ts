/**
 * Event (events.k8s.io/v1): the strategy and resource definition. These events are the core/v1
 * Events under other field names: they are stored in `/registry/events` in the core shape and
 * converted on the way in and out, as upstream (pkg/apis/events/v1/conversion.go).
 */
import type { ResourceDef, Strategy } from '../types.js';
import type { KubeObject, StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, required } from '../../api/field-errors.js';
import { deepEqual } from '../../api/meta.js';
import { isDNS1123Subdomain, isQualifiedName } from '../../api/validation.js';
import { eventColumns, eventRow } from '../core/event.js';
import { immutable } from '../../api/validation.js';
import { guarded } from '../guarded.js';

/** Fields that keep their name in both shapes. */
const sameFields = ['eventTime', 'series', 'action', 'related', 'type', 'reason', 'reportingInstance'];

/** events.k8s.io/v1 name → core/v1 name. */
const renamed: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
  ['reportingController', 'reportingComponent'],
];

const present = (v: unknown) => v !== undefined && v !== null;

/** An events.k8s.io/v1 Event in the core/v1 shape it is stored in. */
export function eventToCore(ev: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: ev.metadata };
  for (const [from, to] of renamed) if (present(ev[from])) out[to] = ev[from];
  for (const f of sameFields) if (present(ev[f])) out[f] = ev[f];
  // ObjectReference and EventSource are plain structs in core/v1: always written.
  out.involvedObject ??= {};
  out.source ??= {};
  return out;
}

/** A stored core/v1 Event as events.k8s.io/v1 serves it. */
export function eventFromCore(ev: StoredObject): StoredObject {
  const out: StoredObject = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: ev.metadata };
  for (const [to, from] of renamed) if (present(ev[from])) out[to] = ev[from];
  for (const f of sameFields) if (present(ev[f])) out[f] = ev[f];
  // Go writes unset times as null and empty structs as {}.
  out.eventTime ??= null;
  out.deprecatedFirstTimestamp ??= null;
  out.deprecatedLastTimestamp ??= null;
  out.regarding ??= {};
  out.deprecatedSource ??= {};
  return out;
}

/** Whether an object is in the events.k8s.io/v1 shape (rather than the stored core one). */
function isEventsV1Shape(obj: KubeObject): boolean {
  return obj.apiVersion === 'events.k8s.io/v1' || ['regarding', 'note', 'deprecatedSource', 'reportingController'].some((f) => f in obj);
}

function asCore(obj: KubeObject): KubeObject {
  return isEventsV1Shape(obj) ? eventToCore(obj) : obj;
}

const reportingInstanceLengthLimit = 128;
const actionLengthLimit = 128;
const reasonLengthLimit = 128;
const noteLengthLimit = 1024;

/**
 * legacyValidateEvent for a request to events.k8s.io/v1, on the core shape: field paths are the
 * core names (involvedObject, message), except reportingController.
 */
function legacyValidate(ev: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const ns = ev.metadata?.namespace ?? '';
  const ioNs = ev.involvedObject?.namespace ?? '';
  const mismatch = () => invalidField('involvedObject.namespace', ioNs, 'does not match event.namespace');
  if (!present(ev.eventTime)) {
    if (ioNs === '') {
      if (ns !== '' && ns !== 'default') errs.push(mismatch());
    } else if (ns !== ioNs) errs.push(mismatch());
  } else {
    if (ioNs === '' && ns !== 'default' && ns !== 'kube-system') errs.push(mismatch());
    const rc = String(ev.reportingComponent ?? '');
    if (rc === '') errs.push(required('reportingController', ''));
    errs.push(...isQualifiedName(rc).map((m) => invalidField('reportingController', rc, m)));
    const ri = String(ev.reportingInstance ?? '');
    if (ri === '') errs.push(required('reportingInstance', ''));
    if (ri.length > reportingInstanceLengthLimit) errs.push(invalidField('reportingInstance', '', `can have at most ${reportingInstanceLengthLimit} characters`));
    const action = String(ev.action ?? '');
    if (action === '') errs.push(required('action', ''));
    if (action.length > actionLengthLimit) errs.push(invalidField('action', '', `can have at most ${actionLengthLimit} characters`));
    const reason = String(ev.reason ?? '');
    if (reason === '') errs.push(required('reason', ''));
    if (reason.length > reasonLengthLimit) errs.push(invalidField('reason', '', `can have at most ${reasonLengthLimit} characters`));
    if (String(ev.message ?? '').length > noteLengthLimit) errs.push(invalidField('message', '', `can have at most ${noteLengthLimit} characters`));
  }
  errs.push(...isDNS1123Subdomain(ns).map((m) => invalidField('namespace', ns, m)));
  return errs;
}

function validateSeries(ev: KubeObject): FieldError[] {
  if (!ev.series) return [];
  const errs: FieldError[] = [];
  if (typeof ev.series.count !== 'number' || ev.series.count < 2) errs.push(invalidField('series.count', '', 'should be at least 2'));
  if (!ev.series.lastObservedTime) errs.push(required('series.lastObservedTime', ''));
  return errs;
}

/** ValidateEventCreate for events.k8s.io/v1: the legacy checks and the strict ones. */
function validateCreate(ev: KubeObject): FieldError[] {
  const errs = [...legacyValidate(ev), ...validateSeries(ev)];
  if (!present(ev.eventTime)) errs.push(required('eventTime', ''));
  if (ev.type !== 'Normal' && ev.type !== 'Warning') errs.push(invalidField('type', '', `has invalid value: ${ev.type ?? ''}`));
  if (present(ev.firstTimestamp)) errs.push(invalidField('firstTimestamp', '', 'needs to be unset'));
  if (present(ev.lastTimestamp)) errs.push(invalidField('lastTimestamp', '', 'needs to be unset'));
  if (present(ev.count) && ev.count !== 0) errs.push(invalidField('count', '', 'needs to be unset'));
  if (ev.source?.component || ev.source?.host) errs.push(invalidField('source', '', 'needs to be unset'));
  return errs;
}

/** Microsecond precision is all an eventTime keeps, so finer changes are no change. */
function sameMicroTime(a: unknown, b: unknown): boolean {
  if (!present(a) || !present(b)) return !present(a) && !present(b);
  const micros = (v: unknown) => {
    const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(String(v));
    if (!m) return String(v);
    return `${Date.parse(`${m[1]}${m[3]}`)}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}`;
  };
  return micros(a) === micros(b);
}

/** ValidateEventUpdate for events.k8s.io/v1: what happened stays as it was recorded. */
function validateUpdate(ev: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (!deepEqual(ev.series, old.series)) errs.push(...validateSeries(ev));
  for (const f of ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type']) errs.push(...immutable(ev[f], old[f], f));
  if (!sameMicroTime(ev.eventTime, old.eventTime)) errs.push(...immutable(ev.eventTime, old.eventTime, 'eventTime'));
  errs.push(...immutable(ev.action, old.action, 'action'), ...immutable(ev.related, old.related, 'related'));
  errs.push(...immutable(ev.reportingComponent, old.reportingComponent, 'reportingController'), ...immutable(ev.reportingInstance, old.reportingInstance, 'reportingInstance'));
  return errs;
}

export const eventEventsV1Strategy: Strategy = guarded({
  validate(obj) {
    // The core Event validation covers the request; the store checks metadata as for any object.
    return validateCreate(eventToCore(obj));
  },
  validateUpdate(obj, old) {
    return validateUpdate(eventToCore(obj), eventToCore(old));
  },
  /**
   * events.k8s.io's field labels, mapped onto the stored core Event (AddFieldLabelConversionsForEvent);
   * the core names themselves are not accepted here.
   */
  selectableFields(obj) {
    const ev = asCore(obj);
    const io = ev.involvedObject ?? {};
    return {
      'regarding.kind': io.kind ?? '',
      'regarding.namespace': io.namespace ?? '',
      'regarding.name': io.name ?? '',
      'regarding.uid': io.uid ?? '',
      'regarding.apiVersion': io.apiVersion ?? '',
      'regarding.resourceVersion': io.resourceVersion ?? '',
      'regarding.fieldPath': io.fieldPath ?? '',
      reason: ev.reason ?? '',
      reportingController: ev.reportingComponent ?? '',
      type: ev.type ?? '',
    };
  },
  table: {
    columns: eventColumns,
    row: (obj, now) => eventRow(asCore(obj) as StoredObject, now),
  },
});

export const eventEventsV1Resource: ResourceDef = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  strategy: eventEventsV1Strategy,
  storageResource: 'events',
  conversion: { toStorage: eventToCore, fromStorage: eventFromCore },
};
