/**
 * The kubelet server's authentication and authorization (upstream pkg/kubelet/server/auth.go):
 * x509 client certificates verified against --client-ca-file name the user (CN) and groups (O);
 * requests are mapped to the nodes/proxy, nodes/stats, nodes/metrics and nodes/log subresources of
 * this node and authorized with AlwaysAllow or Webhook (a SubjectAccessReview to the apiserver,
 * answers cached briefly). /healthz, /livez and /readyz stay open.
 */
import type http from 'node:http';
import type { TLSSocket, PeerCertificate } from 'node:tls';

export type AuthorizationMode = 'AlwaysAllow' | 'Webhook';

export interface KubeletUser {
  name: string;
  groups: string[];
}

export interface SubjectAccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export interface KubeletAuthOptions {
  nodeName: string;
  mode: AuthorizationMode;
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

export class KubeletAuthorizer {
  private readonly cache = new Map<string, { allowed: boolean; reason: string; expires: number }>();
  private readonly now: () => number;

  constructor(private readonly o: KubeletAuthOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Answers undefined when the request may proceed, else the failure to send. */
  async check(req: http.IncomingMessage): Promise<AuthFailure | undefined> {
    const path = new URL(req.url ?? '/', 'http://kubelet').pathname;
    if (OPEN_PATHS.has(path)) return undefined;
    const user = userFromRequest(req);
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

  private async review(user: KubeletUser, verb: string, subresource: string): Promise<{ allowed: boolean; reason: string }> {
    const key = JSON.stringify([user.name, [...user.groups].sort(), verb, subresource]);
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
