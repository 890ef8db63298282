/** Event (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy, TableColumn } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, required } from '../../api/field-errors.js';
import { isDNS1123Subdomain, isQualifiedName } from '../../api/validation.js';
import { col, nameColumn, translateTimestampSince } from '../../printers/format.js';
import { formatEventSource } from '../../printers/core.js';
import { isObj, str } from './pod-spec.js';

/** legacyValidateEvent: what core/v1 checks (events.k8s.io/v1 is stricter). */
export function validateEvent(ev: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  const io = isObj(ev.involvedObject) ? ev.involvedObject : {};
  const ns = str(ev.metadata.namespace);
  const ioNs = str(io.namespace);
  if (!ev.eventTime) {
    // Old events: the event lives in its object's namespace ("default" for cluster-scoped ones).
    if (!ioNs ? ns !== '' && ns !== 'default' : ns !== ioNs) errs.push(invalidField('involvedObject.namespace', ioNs, 'does not match event.namespace'));
  } else {
    if (!ioNs && ns !== 'default' && ns !== 'kube-system') errs.push(invalidField('involvedObject.namespace', ioNs, 'does not match event.namespace'));
    const rc = str(ev.reportingComponent);
    if (!rc) errs.push(required('reportingController', ''));
    for (const m of isQualifiedName(rc)) errs.push(invalidField('reportingController', rc, m));
    const ri = str(ev.reportingInstance);
    if (!ri) errs.push(required('reportingInstance', ''));
    if (ri.length > 128) errs.push(invalidField('reportingInstance', '', 'can have at most 128 characters'));
    const action = str(ev.action);
    if (!action) errs.push(required('action', ''));
    if (action.length > 128) errs.push(invalidField('action', '', 'can have at most 128 characters'));
    const reason = str(ev.reason);
    if (!reason) errs.push(required('reason', ''));
    if (reason.length > 128) errs.push(invalidField('reason', '', 'can have at most 128 characters'));
    if (str(ev.message).length > 1024) errs.push(invalidField('message', '', 'can have at most 1024 characters'));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(invalidField('namespace', ns, m));
  return errs;
}

/** The columns of upstream's Event printer (LAST SEEN … with NAME last, wide only); events.k8s.io shares them. */
export const eventColumns: TableColumn[] = [
  col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
  col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
  col('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
  col('Object', 'string', 'The object that this event is about.'),
  col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.', 1),
  col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
  col('Message', 'string', 'A human-readable description of the status of this operation.'),
  col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
  col('Count', 'string', 'The number of times this event has occurred.', 1),
  { ...nameColumn, priority: 1 },
];

/** printEvent: timestamps fall back to eventTime and series, and a singleton counts once. */
export function eventRow(ev: StoredObject, now: Date): unknown[] {
  const first = ev.firstTimestamp ? translateTimestampSince(ev.firstTimestamp, now) : translateTimestampSince(ev.eventTime, now);
  let last = ev.lastTimestamp ? translateTimestampSince(ev.lastTimestamp, now) : first;
  let count = Number(ev.count ?? 0);
  if (isObj(ev.series)) {
    last = translateTimestampSince(ev.series.lastObservedTime, now);
    count = Number(ev.series.count ?? 0);
  } else if (count === 0) count = 1;
  const io = isObj(ev.involvedObject) ? ev.involvedObject : {};
  const kind = str(io.kind).toLowerCase();
  const target = str(io.name) ? `${kind}/${io.name}` : kind;
  return [last, str(ev.type), str(ev.reason), target, str(io.fieldPath), formatEventSource(ev.source, ev.reportingComponent, ev.reportingInstance), str(ev.message).trim(), first, count, ev.metadata.name];
}

export const eventStrategy: Strategy = {
  validate: validateEvent,
  selectableFields(obj) {
    const io = isObj(obj.involvedObject) ? obj.involvedObject : {};
    return {
      'involvedObject.kind': str(io.kind),
      'involvedObject.namespace': str(io.namespace),
      'involvedObject.name': str(io.name),
      'involvedObject.uid': str(io.uid),
      'involvedObject.apiVersion': str(io.apiVersion),
      'involvedObject.resourceVersion': str(io.resourceVersion),
      'involvedObject.fieldPath': str(io.fieldPath),
      reason: str(obj.reason),
      reportingComponent: str(obj.reportingComponent),
      source: str(obj.source?.component) || str(obj.reportingComponent),
      type: str(obj.type),
    };
  },
  table: { columns: eventColumns, row: eventRow },
};

export const eventResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  strategy: eventStrategy,
};
