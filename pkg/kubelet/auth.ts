/**
 * The kubelet server's authentication and authorization (upstream pkg/kubelet/server/auth.go and
 * apiserver's DelegatingAuthenticatorConfig): x509 client certificates verified against
 * --client-ca-file name the user (CN) and groups (O); with --authentication-token-webhook a bearer
 * token is checked with a TokenReview to the apiserver (answers cached
 * --authentication-token-webhook-cache-ttl, 2m); with --anonymous-auth a request without
 * credentials is system:anonymous in system:unauthenticated, then authorized like any other.
 * Credentials that are presented but fail (a bad token, a certificate from another CA) are 401
 * even with anonymous requests allowed, as upstream. Requests are mapped to the nodes/proxy, nodes/stats, nodes/metrics and nodes/log subresources of
 * this node and authorized with AlwaysAllow or Webhook (a SubjectAccessReview to the apiserver,
 * answers cached briefly). /healthz, /livez and /readyz stay open.
 */
import type http from 'node:http';
import type { TLSSocket, PeerCertificate } from 'node:tls';
import { createHash } from 'node:crypto';

export type AuthorizationMode = 'AlwaysAllow' | 'Webhook';

export interface KubeletUser {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** What a TokenReview answers (authentication.k8s.io/v1). */
export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

export const anonymousKubeletUser: KubeletUser = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

export interface SubjectAccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export interface KubeletAuthOptions {
  nodeName: string;
  mode: AuthorizationMode;
  /** --anonymous-auth: requests without credentials proceed as system:anonymous (upstream's binary default true; kubeadm sets false). */
  anonymous?: boolean;
  /** --authentication-token-webhook: posts a TokenReview and answers it; bearer tokens are not accepted without it. */
  tokenReview?: (review: unknown) => Promise<{ status?: TokenReviewStatus }>;
  /** --authentication-token-webhook-cache-ttl (2m). */
  tokenCacheTTLMs?: number;
  /** Posts a SubjectAccessReview and answers its status (Webhook mode). */
  subjectAccessReview?: (review: unknown) => Promise<{ status?: SubjectAccessReviewStatus }>;
  now?: () => number;
  /** Cache lifetimes of allowed and denied answers (upstream: 5m and 30s). */
  allowTTLMs?: number;
  denyTTLMs?: number;
}

export interface AuthFailure {
  code: 401 | 403 | 500;
  message: string;
}

const OPEN_PATHS = new Set(['/healthz', '/livez', '/readyz']);

/** The nodes subresource a kubelet path belongs to (upstream's NodeAuthorizerAttributesGetter). */
export function kubeletSubresource(path: string): string {
  const under = (p: string) => path === p || path.startsWith(`${p}/`);
  if (under('/stats')) return 'stats';
  if (under('/metrics')) return 'metrics';
  if (under('/logs')) return 'log';
  if (under('/spec')) return 'spec';
  return 'proxy';
}

/** The verb for an HTTP method, as upstream's request info resolver maps it for non-resource URLs on the kubelet. */
export function kubeletVerb(method: string): string {
  switch (method.toUpperCase()) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'get';
  }
}

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The user a verified client certificate names, or undefined without one. */
export function userFromRequest(req: http.IncomingMessage): KubeletUser | undefined {
  const sock = req.socket as Partial<TLSSocket>;
  if (!sock.encrypted || !sock.authorized || typeof sock.getPeerCertificate !== 'function') return undefined;
  const cert: PeerCertificate = sock.getPeerCertificate();
  const cn = asList(cert?.subject?.CN)[0];
  if (!cn) return undefined;
  return { name: cn, groups: [...asList(cert.subject.O), 'system:authenticated'] };
}

/** Whether the client presented a certificate that did not verify (upstream's x509 authenticator errors on it). */
function badClientCertificate(req: http.IncomingMessage): boolean {
  const sock = req.socket as Partial<TLSSocket>;
  if (!sock.encrypted || sock.authorized || typeof sock.getPeerCertificate !== 'function') return false;
  const cert = sock.getPeerCertificate();
  return !!cert && Object.keys(cert).length > 0;
}

/** The bearer token of a request (`Authorization: Bearer …`), if any. */
function bearerToken(req: http.IncomingMessage): string | undefined {
  const h = req.headers?.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : '';
}

export class KubeletAuthorizer {
  private readonly cache = new Map<string, { allowed: boolean; reason: string; expires: number }>();
  private readonly tokenCache = new Map<string, { user?: KubeletUser; expires: number }>();
  private readonly now: () => number;

  constructor(private readonly o: KubeletAuthOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Answers undefined when the request may proceed, else the failure to send. */
  async check(req: http.IncomingMessage): Promise<AuthFailure | undefined> {
    const path = new URL(req.url ?? '/', 'http://kubelet').pathname;
    if (OPEN_PATHS.has(path)) return undefined;
    const user = await this.authenticate(req);
    if (!user) return { code: 401, message: 'Unauthorized' };
    const verb = kubeletVerb(req.method ?? 'GET');
    const subresource = kubeletSubresource(path);
    if (this.o.mode === 'AlwaysAllow') return undefined;
    let answer: { allowed: boolean; reason: string };
    try {
      answer = await this.review(user, verb, subresource);
    } catch (e) {
      return { code: 500, message: `Authorization error (user=${user.name}, verb=${verb}, resource=nodes, subresource=${subresource}): ${(e as Error).message}` };
    }
    if (answer.allowed) return undefined;
    return { code: 403, message: `Forbidden (user=${user.name}, verb=${verb}, resource=nodes, subresource=${subresource})` };
  }

  /** The request's user, or undefined for 401. */
  async authenticate(req: http.IncomingMessage): Promise<KubeletUser | undefined> {
    if (badClientCertificate(req)) return undefined;
    const fromCert = userFromRequest(req);
    if (fromCert) return fromCert;
    const token = bearerToken(req);
    if (token !== undefined) {
      if (!token || !this.o.tokenReview) return undefined;
      return this.reviewToken(token);
    }
    return this.o.anonymous ? anonymousKubeletUser : undefined;
  }

  private async reviewToken(token: string): Promise<KubeletUser | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.now();
    const hit = this.tokenCache.get(key);
    if (hit && hit.expires > now) return hit.user;
    let user: KubeletUser | undefined;
    try {
      const out = await this.o.tokenReview!({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
      const st = out.status;
      if (st?.authenticated === true && st.user?.username) {
        const groups = st.user.groups ?? [];
        user = { name: st.user.username, groups: groups.includes('system:authenticated') ? groups : [...groups, 'system:authenticated'] };
        if (st.user.uid) user.uid = st.user.uid;
        if (st.user.extra) user.extra = st.user.extra;
      }
    } catch {
      // The apiserver could not be asked: 401 now, and nothing cached so the next request asks again.
      return undefined;
    }
    if (this.tokenCache.size > 1024) this.tokenCache.clear();
    this.tokenCache.set(key, { user, expires: now + (this.o.tokenCacheTTLMs ?? 2 * 60_000) });
    return user;
  }

  private async review(user: KubeletUser, verb: string, subresource: string): Promise<{ allowed: boolean; reason: string }> {
    const key = JSON.stringify([user.name, user.uid ?? '', [...user.groups].sort(), user.extra ?? {}, verb, subresource]);
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && hit.expires > now) return hit;
    if (!this.o.subjectAccessReview) throw new Error('no SubjectAccessReview client');
    const out = await this.o.subjectAccessReview({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: user.name,
        groups: user.groups,
        ...(user.uid ? { uid: user.uid } : {}),
        ...(user.extra ? { extra: user.extra } : {}),
        resourceAttributes: { verb, resource: 'nodes', subresource, name: this.o.nodeName, version: 'v1' },
      },
    });
    const allowed = out.status?.allowed === true && out.status?.denied !== true;
    const entry = { allowed, reason: out.status?.reason ?? '', expires: now + (allowed ? (this.o.allowTTLMs ?? 5 * 60_000) : (this.o.denyTTLMs ?? 30_000)) };
    if (this.cache.size > 1024) this.cache.clear();
    this.cache.set(key, entry);
    return entry;
  }
}
