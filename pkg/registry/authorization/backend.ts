/**
 * What the access-review resources ask: the apiserver's authorizer, and the rule lister behind
 * SelfSubjectRulesReview. The ResourceDefs are static (pkg/registry/resources.ts), so the running
 * apiserver installs its authorizer here when it builds its auth configuration (pkg/auth/options.ts).
 * Until then every review answers "allowed", as an apiserver without authorization does.
 */
import type { Authorizer, UserInfo } from '../../auth/types.js';
import type { PolicyRule } from '../../auth/rbac/rules.js';

export interface RulesResolver {
  /** The rules that apply to a user in a namespace; `incomplete` when some authorizer cannot list its rules. */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; incomplete: boolean; evaluationError?: string };
}

export interface AuthorizationBackend {
  authorizer: Authorizer;
  rules?: RulesResolver;
}

let backend: AuthorizationBackend | undefined;

export function setAuthorizationBackend(b: AuthorizationBackend | undefined): void {
  backend = b;
}

export function authorizationBackend(): AuthorizationBackend | undefined {
  return backend;
}
