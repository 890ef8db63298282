/**
 * Impersonation (upstream's WithImpersonation): `Impersonate-User`, `Impersonate-Group`,
 * `Impersonate-Uid` and `Impersonate-Extra-<key>` headers let a user act as another, if RBAC
 * grants it the `impersonate` verb on users/serviceaccounts, groups, uids and userextras/<key>.
 *
 * `ImpersonatingAuthenticator` wraps the real authenticators, so it slots into AuthConfig's
 * authenticator list: the request's user is the impersonated one, and everything downstream
 * (authorization, admission, SelfSubjectAccessReview) sees that user.
 */
import type { IncomingMessage } from 'node:http';
import * as errors from '../api/errors.js';
import { forbiddenMessage } from '../apiserver/filters.js';
import { anonymousUser, type Authenticator, type Authorizer, type AuthorizationAttributes, type UserInfo } from './types.js';
import { splitServiceAccountUsername, serviceAccountGroups } from './serviceaccount.js';

const extraPrefix = 'impersonate-extra-';

function headerValues(req: IncomingMessage, name: string): string[] {
  const v = req.headers[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  // Node joins repeated unknown headers with ", ".
  return list.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

export function hasImpersonationHeaders(req: IncomingMessage): boolean {
  return Object.keys(req.headers).some((h) => h.startsWith('impersonate-'));
}

/** Finds the requester with `inner`, then applies impersonation headers if allowed. */
export class ImpersonatingAuthenticator implements Authenticator {
  constructor(
    private readonly inner: Authenticator[],
    private readonly authorizer: Authorizer,
  ) {}

  private async requester(req: IncomingMessage): Promise<UserInfo | undefined> {
    for (const a of this.inner) {
      const u = await a.authenticate(req);
      if (u) return u;
    }
    return undefined;
  }

  async authenticate(req: IncomingMessage): Promise<UserInfo | undefined> {
    const user = await this.requester(req);
    if (!hasImpersonationHeaders(req)) return user;
    return impersonate(req, user ?? anonymousUser, this.authorizer);
  }
}

/** Checks each impersonation header against the authorizer and returns the impersonated user. */
export async function impersonate(req: IncomingMessage, requester: UserInfo, authorizer: Authorizer): Promise<UserInfo> {
  const username = typeof req.headers['impersonate-user'] === 'string' ? req.headers['impersonate-user'].trim() : '';
  const groups = headerValues(req, 'impersonate-group');
  const uid = typeof req.headers['impersonate-uid'] === 'string' ? req.headers['impersonate-uid'].trim() : '';
  const extra: Record<string, string[]> = {};
  for (const h of Object.keys(req.headers)) {
    if (!h.startsWith(extraPrefix)) continue;
    let key: string;
    try {
      key = decodeURIComponent(h.slice(extraPrefix.length)).toLowerCase();
    } catch {
      throw errors.badRequest(`invalid impersonation extra header ${JSON.stringify(h)}`);
    }
    extra[key] = headerValues(req, h);
  }
  if (!username) {
    if (groups.length || uid || Object.keys(extra).length) {
      throw errors.internalError(new Error('requested impersonation of groups, uid or extra without impersonating a user'));
    }
    return requester;
  }

  const check = async (a: Omit<AuthorizationAttributes, 'user' | 'verb' | 'isResourceRequest' | 'path' | 'apiVersion'>) => {
    const attrs: AuthorizationAttributes = { user: requester, verb: 'impersonate', isResourceRequest: true, path: '', apiVersion: '', ...a };
    const d = await authorizer.authorize(attrs);
    if (d.decision !== 'allow') throw forbiddenMessage(attrs, d.decision === 'deny' ? d.reason : undefined);
  };

  const sa = splitServiceAccountUsername(username);
  if (sa) await check({ apiGroup: '', resource: 'serviceaccounts', namespace: sa[0], name: sa[1] });
  else await check({ apiGroup: '', resource: 'users', name: username });
  for (const g of groups) await check({ apiGroup: '', resource: 'groups', name: g });
  if (uid) await check({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid });
  for (const [k, vals] of Object.entries(extra)) {
    for (const v of vals) await check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: k, name: v });
  }

  const outGroups = [...groups];
  if (sa && groups.length === 0) outGroups.push(...serviceAccountGroups(sa[0]));
  if (username === anonymousUser.username) {
    if (!outGroups.includes('system:unauthenticated')) outGroups.push('system:unauthenticated');
  } else if (!outGroups.includes('system:authenticated')) outGroups.push('system:authenticated');
  const out: UserInfo = { username, groups: outGroups };
  if (uid) out.uid = uid;
  if (Object.keys(extra).length) out.extra = extra;
  return out;
}
