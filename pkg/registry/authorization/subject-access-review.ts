/**
 * SubjectAccessReview (cluster-wide) and LocalSubjectAccessReview (one namespace),
 * authorization.k8s.io/v1: "may this user do this?", asked on behalf of someone else.
 */
import * as errors from '../../api/errors.js';
import type { FieldError } from '../../api/field-errors.js';
import type { UserInfo } from '../../auth/types.js';
import type { CustomCreateRequest, CustomResponse, ResourceDef } from '../types.js';
import { attributesOf, evaluate, reviewBody, validateAttributes } from './review.js';

function subjectOf(spec: { user?: string; groups?: string[]; uid?: string; extra?: Record<string, string[]> }): UserInfo {
  const u: UserInfo = { username: spec.user ?? '', groups: [...(spec.groups ?? [])] };
  if (spec.uid) u.uid = spec.uid;
  if (spec.extra) u.extra = spec.extra;
  return u;
}

function validateSubject(spec: { user?: string; groups?: string[] } | undefined): FieldError[] {
  if (!spec?.user && !(spec?.groups?.length)) return [{ type: 'FieldValueInvalid', field: 'spec.user', value: spec?.user ?? '', detail: 'at least one of user or group must be specified' }];
  return [];
}

async function review(req: CustomCreateRequest, kind: 'SubjectAccessReview' | 'LocalSubjectAccessReview'): Promise<CustomResponse> {
  const body = reviewBody(req.body, 'authorization.k8s.io', kind);
  const errs = [...validateAttributes(body.spec), ...validateSubject(body.spec)];
  if (kind === 'LocalSubjectAccessReview') {
    body.metadata = { ...body.metadata, namespace: req.namespace };
    if (body.spec?.nonResourceAttributes) errs.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', value: body.spec.nonResourceAttributes, detail: 'disallowed on this kind of request' });
    const ns = body.spec?.resourceAttributes?.namespace;
    if (body.spec?.resourceAttributes && ns !== req.namespace) {
      errs.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', value: ns ?? '', detail: 'must match metadata.namespace' });
    }
  }
  if (errs.length) throw errors.invalid({ group: 'authorization.k8s.io', kind }, body.metadata?.name ?? '', errs);
  const status = await evaluate(attributesOf(subjectOf(body.spec), body.spec));
  return { code: 201, body: { ...body, status } };
}

export const subjectAccessReviewResource: ResourceDef = {
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SubjectAccessReview',
  plural: 'subjectaccessreviews',
  singular: 'subjectaccessreview',
  namespaced: false,
  verbs: ['create'],
  strategy: {},
  virtualCreate: (req) => review(req, 'SubjectAccessReview'),
};

export const localSubjectAccessReviewResource: ResourceDef = {
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'LocalSubjectAccessReview',
  plural: 'localsubjectaccessreviews',
  singular: 'localsubjectaccessreview',
  namespaced: true,
  verbs: ['create'],
  strategy: {},
  virtualCreate: (req) => review(req, 'LocalSubjectAccessReview'),
};
