/**
 * Every error a client sees is a metav1.Status built here (STYLE.md §9), with upstream's reason,
 * code and message text (apimachinery pkg/api/errors).
 */
import type { Status, StatusCause } from './types.js';
import { type FieldError, fieldErrorString, fieldErrorBody } from './field-errors.js';

/** Upstream's StatusReason values, the closed set a client can switch on. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout'
  | 'ServerTimeout'
  | 'ServiceUnavailable'
  | 'Unknown';

/** A group and resource, as in `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** A group and kind, as in `Deployment.apps`. */
export interface GroupKind {
  group: string;
  kind: string;
}

/** An error that carries the Status to answer with. Anything else thrown becomes a 500. */
export class StatusError extends Error {
  readonly status: Status & { code: number };
  constructor(status: Status & { code: number }) {
    super(status.message ?? status.reason ?? 'error');
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export function isStatusError(e: unknown): e is StatusError {
  return e instanceof StatusError;
}

function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

function make(
  code: number,
  reason: StatusReason | undefined,
  message: string,
  details?: Status['details'],
): StatusError {
  const s: Status & { code: number } = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    code,
  };
  if (reason) s.reason = reason;
  if (details) s.details = details;
  return new StatusError(s);
}

export function notFound(gr: GroupResource, name: string): StatusError {
  return make(404, 'NotFound', `${qualified(gr)} "${name}" not found`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return make(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

/** The text upstream uses for an optimistic-concurrency failure. */
export const optimisticLockErrorMsg = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(gr: GroupResource, name: string, why: string): StatusError {
  return make(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function invalid(gk: GroupKind, name: string, errs: FieldError[]): StatusError {
  const causes: StatusCause[] = errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }));
  const qualifiedKind = gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
  let msg: string;
  if (errs.length === 1) msg = `${qualifiedKind} "${name}" is invalid: ${fieldErrorString(errs[0]!)}`;
  else msg = `${qualifiedKind} "${name}" is invalid: [${errs.map(fieldErrorString).join(', ')}]`;
  return make(422, 'Invalid', msg, { name, group: gk.group || undefined, kind: gk.kind, causes });
}

export function badRequest(message: string): StatusError {
  return make(400, 'BadRequest', message);
}

export function unauthorized(message = 'Unauthorized'): StatusError {
  return make(401, 'Unauthorized', message);
}

export function forbidden(gr: GroupResource, name: string, why: string): StatusError {
  const subject = name ? `${qualified(gr)} "${name}"` : qualified(gr);
  return make(403, 'Forbidden', `${subject} is forbidden: ${why}`, {
    name: name || undefined,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function methodNotSupported(gr: GroupResource, action: string): StatusError {
  return make(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualified(gr)}"`, {
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

/** 410 for a resourceVersion that etcd has compacted away. */
export function resourceExpired(message = 'too old resource version'): StatusError {
  return make(410, 'Expired', message);
}

export function gone(message: string): StatusError {
  return make(410, 'Gone', message);
}

export function notAcceptable(message: string): StatusError {
  return make(406, 'NotAcceptable', message);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return make(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf; got ${JSON.stringify(contentType)}`);
}

export function requestEntityTooLarge(limitBytes: number): StatusError {
  return make(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

export function tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return make(429, 'TooManyRequests', message, { retryAfterSeconds });
}

export function timeout(message: string, retryAfterSeconds = 1): StatusError {
  return make(504, 'Timeout', message, { retryAfterSeconds });
}

export function internalError(err: unknown): StatusError {
  const msg = err instanceof Error ? err.message : String(err);
  return make(500, 'InternalError', `Internal error occurred: ${msg}`, {
    causes: [{ message: msg }],
  });
}

export function serviceUnavailable(message: string): StatusError {
  return make(503, 'ServiceUnavailable', message);
}

/** 404 for a path that names no resource (upstream answers these with reason NotFound too). */
export function pathNotFound(): StatusError {
  return make(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** 501 for a feature that keelson does not have yet: honest and visible. */
export function notImplemented(what: string): StatusError {
  return make(501, undefined, `not implemented in keelson: ${what}`);
}

/** Turns anything thrown into the Status to send. */
export function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  return internalError(err);
}

/** A JSON patch that cannot be applied: upstream answers 422 with the patch error. */
export function invalidJSONPatch(message: string): StatusError {
  return make(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);
}
