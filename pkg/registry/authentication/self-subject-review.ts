/** SelfSubjectReview (authentication.k8s.io/v1): "who am I?" — what `kubectl auth whoami` asks. */
import { anonymousUser } from '../../auth/types.js';
import type { ResourceDef } from '../types.js';
import { reviewBody } from '../authorization/review.js';

export const selfSubjectReviewResource: ResourceDef = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectReview',
  plural: 'selfsubjectreviews',
  singular: 'selfsubjectreview',
  namespaced: false,
  verbs: ['create'],
  strategy: {},
  virtualCreate: async (req) => {
    const body = reviewBody(req.body, 'authentication.k8s.io', 'SelfSubjectReview');
    const u = req.user ?? anonymousUser;
    const userInfo: Record<string, unknown> = { username: u.username, groups: u.groups };
    if (u.uid) userInfo.uid = u.uid;
    if (u.extra && Object.keys(u.extra).length) userInfo.extra = u.extra;
    return { code: 201, body: { ...body, status: { userInfo } } };
  },
};
