/** SelfSubjectAccessReview (authorization.k8s.io/v1): "may I do this?" — what `kubectl auth can-i` asks. */
import * as errors from '../../api/errors.js';
import { anonymousUser } from '../../auth/types.js';
import type { ResourceDef } from '../types.js';
import { attributesOf, evaluate, reviewBody, validateAttributes } from './review.js';

export const selfSubjectAccessReviewResource: ResourceDef = {
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectAccessReview',
  plural: 'selfsubjectaccessreviews',
  singular: 'selfsubjectaccessreview',
  namespaced: false,
  verbs: ['create'],
  strategy: {},
  virtualCreate: async (req) => {
    const body = reviewBody(req.body, 'authorization.k8s.io', 'SelfSubjectAccessReview');
    const errs = validateAttributes(body.spec);
    if (errs.length) throw errors.invalid({ group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview' }, '', errs);
    const status = await evaluate(attributesOf(req.user ?? anonymousUser, body.spec));
    return { code: 201, body: { ...body, status } };
  },
};
