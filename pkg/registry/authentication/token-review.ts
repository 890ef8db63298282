/**
 * TokenReview (authentication.k8s.io/v1): "who does this token belong to?", for webhooks and
 * aggregated servers that delegate authentication. The token is never logged or echoed back.
 */
import * as errors from '../../api/errors.js';
import { authenticateToken } from '../../auth/token.js';
import type { ResourceDef } from '../types.js';
import { reviewBody } from '../authorization/review.js';
import { authenticationBackend } from './backend.js';

export const tokenReviewResource: ResourceDef = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'TokenReview',
  plural: 'tokenreviews',
  singular: 'tokenreview',
  namespaced: false,
  verbs: ['create'],
  strategy: {},
  virtualCreate: async (req) => {
    const body = reviewBody(req.body, 'authentication.k8s.io', 'TokenReview');
    const token: string = body.spec?.token ?? '';
    if (!token) {
      throw errors.invalid({ group: 'authentication.k8s.io', kind: 'TokenReview' }, '', [{ type: 'FieldValueRequired', field: 'spec.token', detail: 'token must not be empty' }]);
    }
    const b = authenticationBackend();
    const requested: string[] = Array.isArray(body.spec?.audiences) && body.spec.audiences.length ? body.spec.audiences : (b?.apiAudiences ?? []);
    const r = b ? await authenticateToken(b.tokens, token, requested) : undefined;
    const status: Record<string, unknown> = { user: {} };
    if (r) {
      const user: Record<string, unknown> = { username: r.user.username, groups: r.user.groups };
      if (r.user.uid) user.uid = r.user.uid;
      if (r.user.extra && Object.keys(r.user.extra).length) user.extra = r.user.extra;
      status.authenticated = true;
      status.user = user;
      status.audiences = r.audiences?.length ? r.audiences : requested;
    } else {
      status.authenticated = false;
      status.error = '[invalid bearer token, service account token could not be validated]';
    }
    const spec = { ...body.spec };
    delete spec.token;
    return { code: 201, body: { ...body, spec, status } };
  },
};
