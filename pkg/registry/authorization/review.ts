/**
 * Evaluating an access review (upstream's pkg/registry/authorization/util and the
 * subjectaccessreview REST storages): review spec → authorization attributes → status.
 */
import * as errors from '../../api/errors.js';
import type { FieldError } from '../../api/field-errors.js';
import type { KubeObject } from '../../api/types.js';
import type { AuthorizationAttributes, UserInfo } from '../../auth/types.js';
import { authorizationBackend } from './backend.js';

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

export interface ReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
}

/** Field errors shared by every access review: exactly one kind of attributes. */
export function validateAttributes(spec: ReviewSpec | undefined): FieldError[] {
  const s = spec ?? {};
  if (s.resourceAttributes && s.nonResourceAttributes) {
    return [{ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', value: s.nonResourceAttributes, detail: 'cannot be specified in combination with resourceAttributes' }];
  }
  if (!s.resourceAttributes && !s.nonResourceAttributes) {
    return [{ type: 'FieldValueRequired', field: 'spec.resourceAttributes', detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' }];
  }
  return [];
}

export function attributesOf(user: UserInfo, spec: ReviewSpec): AuthorizationAttributes {
  const r = spec.resourceAttributes;
  if (r) {
    return {
      user,
      verb: r.verb ?? '',
      isResourceRequest: true,
      path: '',
      namespace: r.namespace || undefined,
      apiGroup: r.group ?? '',
      apiVersion: r.version ?? '',
      resource: r.resource ?? '',
      subresource: r.subresource || undefined,
      name: r.name || undefined,
    };
  }
  const n = spec.nonResourceAttributes ?? {};
  return { user, verb: n.verb ?? '', isResourceRequest: false, path: n.path ?? '', apiGroup: '', apiVersion: '', resource: '' };
}

/** The review's status: allowed, denied (an explicit deny) and the authorizer's reason. */
export async function evaluate(a: AuthorizationAttributes): Promise<{ allowed: boolean; denied?: boolean; reason?: string; evaluationError?: string }> {
  const b = authorizationBackend();
  if (!b) return { allowed: true };
  try {
    const d = await b.authorizer.authorize(a);
    if (d.decision === 'allow') return { allowed: true };
    if (d.decision === 'deny') return { allowed: false, denied: true, reason: d.reason };
    return d.reason ? { allowed: false, reason: d.reason } : { allowed: false };
  } catch (e) {
    return { allowed: false, evaluationError: e instanceof Error ? e.message : String(e) };
  }
}

/** Checks the type of a review body and returns it with its metadata normalised. */
export function reviewBody(body: KubeObject, group: string, kind: string): KubeObject {
  const gv = `${group}/v1`;
  if (body.apiVersion && body.apiVersion !== gv) throw errors.badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${gv})`);
  if (body.kind && body.kind !== kind) throw errors.badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${kind})`);
  return { ...body, apiVersion: gv, kind, metadata: { ...(body.metadata ?? {}), creationTimestamp: null as unknown as string } };
}
