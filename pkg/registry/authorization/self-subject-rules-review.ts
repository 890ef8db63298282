/**
 * SelfSubjectRulesReview (authorization.k8s.io/v1): every rule that applies to the caller in a
 * namespace — what `kubectl auth can-i --list` prints.
 */
import * as errors from '../../api/errors.js';
import { anonymousUser } from '../../auth/types.js';
import type { ResourceDef } from '../types.js';
import { authorizationBackend } from './backend.js';
import { reviewBody } from './review.js';

export const selfSubjectRulesReviewResource: ResourceDef = {
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectRulesReview',
  plural: 'selfsubjectrulesreviews',
  singular: 'selfsubjectrulesreview',
  namespaced: false,
  verbs: ['create'],
  strategy: {},
  virtualCreate: async (req) => {
    const body = reviewBody(req.body, 'authorization.k8s.io', 'SelfSubjectRulesReview');
    const namespace: string = body.spec?.namespace ?? '';
    if (!namespace) {
      throw errors.invalid({ group: 'authorization.k8s.io', kind: 'SelfSubjectRulesReview' }, '', [{ type: 'FieldValueRequired', field: 'spec.namespace', detail: 'must specify a namespace' }]);
    }
    const resolver = authorizationBackend()?.rules;
    if (!resolver) {
      // No authorization configured: everything is allowed.
      return { code: 201, body: { ...body, status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false } } };
    }
    const r = resolver.rulesFor(req.user ?? anonymousUser, namespace);
    const resourceRules = r.rules.filter((x) => !x.nonResourceURLs?.length).map((x) => {
      const o: Record<string, string[]> = { verbs: x.verbs, apiGroups: x.apiGroups ?? [], resources: x.resources ?? [] };
      if (x.resourceNames?.length) o.resourceNames = x.resourceNames;
      return o;
    });
    const nonResourceRules = r.rules.filter((x) => x.nonResourceURLs?.length).map((x) => ({ verbs: x.verbs, nonResourceURLs: x.nonResourceURLs! }));
    const status: Record<string, unknown> = { resourceRules, nonResourceRules, incomplete: r.incomplete };
    if (r.evaluationError) status.evaluationError = r.evaluationError;
    return { code: 201, body: { ...body, status } };
  },
};
