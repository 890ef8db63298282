/**
 * Who is asking and whether they may: the interfaces between the apiserver's request pipeline
 * and the authenticators and authorizers (upstream's user.Info, authenticator.Request,
 * authorizer.Authorizer).
 */
import type { IncomingMessage } from 'node:http';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The user of unauthenticated requests, as upstream names it. */
export const anonymousUser: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

export interface Authenticator {
  /** The user a request proves to be; undefined when it carries no credentials this authenticator knows. Throws a 401 StatusError for bad credentials. */
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined>;
}

/** What a request asks to do (upstream's authorizer.Attributes). */
export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  /** For non-resource requests: the URL path. */
  path: string;
  namespace?: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource?: string;
  name?: string;
}

export type Decision = { decision: 'allow' } | { decision: 'deny'; reason: string } | { decision: 'noOpinion'; reason?: string };

export interface Authorizer {
  authorize(a: AuthorizationAttributes): Promise<Decision> | Decision;
}

/** Allows everything: the apiserver's behaviour when no authorizer is configured. */
export const alwaysAllow: Authorizer = { authorize: () => ({ decision: 'allow' }) };
