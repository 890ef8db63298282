/**
 * The request filters that run before any handler: authentication and authorization
 * (upstream's WithAuthentication and WithAuthorization).
 */
import type { IncomingMessage } from 'node:http';
import * as errors from '../api/errors.js';
import { anonymousUser, type Authenticator, type Authorizer, type AuthorizationAttributes, type UserInfo } from '../auth/types.js';
import { parseRequestInfo } from './request-info.js';

export interface AuthConfig {
  /** Tried in order; the first that recognises the credentials decides. */
  authenticators: Authenticator[];
  /** Whether requests without credentials proceed as system:anonymous. */
  anonymous: boolean;
  /** When set, anonymous requests are allowed only on these paths (upstream's --anonymous-auth with an AuthenticationConfiguration path list). */
  anonymousPaths?: string[];
  authorizer: Authorizer;
}

/** Finds the user of a request, or answers 401. */
export async function authenticate(cfg: AuthConfig, req: IncomingMessage, path: string): Promise<UserInfo> {
  for (const a of cfg.authenticators) {
    const u = await a.authenticate(req);
    if (u) return u;
  }
  if (!cfg.anonymous) throw errors.unauthorized();
  if (cfg.anonymousPaths && !cfg.anonymousPaths.includes(path)) throw errors.unauthorized();
  return anonymousUser;
}

/** The authorization attributes of a request, from its method and path. */
export function authorizationAttributes(user: UserInfo, method: string, path: string, query: URLSearchParams): AuthorizationAttributes {
  const info = parseRequestInfo(method, path, query);
  if (!info) {
    const verb = { GET: 'get', HEAD: 'get', POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'delete' }[method.toUpperCase()] ?? method.toLowerCase();
    return { user, verb, isResourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '' };
  }
  return {
    user,
    verb: info.verb,
    isResourceRequest: true,
    path,
    // A namespace object is authorized within itself, as upstream's RequestInfo sets it.
    namespace: info.namespace ?? (info.group === '' && info.resource === 'namespaces' ? info.name : undefined),
    apiGroup: info.group,
    apiVersion: info.version,
    resource: info.resource,
    subresource: info.subresource,
    name: info.name,
  };
}

/** Upstream's 403 text: `pods "x" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace "ns"`. */
export function forbiddenMessage(a: AuthorizationAttributes, reason?: string): errors.StatusError {
  const suffix = reason ? `: ${reason}` : '';
  if (!a.isResourceRequest) {
    const e = errors.forbidden({ group: '', resource: '' }, '', `User "${a.user.username}" cannot ${a.verb} path "${a.path}"${suffix}`);
    e.status.message = `forbidden: User "${a.user.username}" cannot ${a.verb} path "${a.path}"${suffix}`;
    delete e.status.details;
    return e;
  }
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return errors.forbidden({ group: a.apiGroup, resource: a.resource }, a.name ?? '', `User "${a.user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}${suffix}`);
}

/** Authorizes a request, or throws the 403. */
export async function authorize(cfg: AuthConfig, a: AuthorizationAttributes): Promise<void> {
  const d = await cfg.authorizer.authorize(a);
  if (d.decision === 'allow') return;
  throw forbiddenMessage(a, d.reason);
}
