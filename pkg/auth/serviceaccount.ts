/**
 * ServiceAccount tokens: bound JWTs issued by TokenRequest and checked on every request
 * (upstream's pkg/serviceaccount). Tokens are signed RS256 with jose, carry iss, aud, exp, iat,
 * nbf, jti and the `kubernetes.io` claim (namespace, serviceaccount name/uid, and the pod, secret
 * or node they are bound to). A token stops working as soon as its ServiceAccount or bound object
 * is gone or was replaced by one with another uid. No legacy (secret-based, unbound) tokens.
 */
import { createPrivateKey, createPublicKey, createHash, randomUUID, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { SignJWT, jwtVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import * as errors from '../api/errors.js';
import type { StoredObject } from '../api/types.js';
import type { ClusterState } from './cluster-state.js';
import type { TokenAuthenticator, TokenResult } from './token.js';
import type { UserInfo } from './types.js';

export const serviceAccountUsernamePrefix = 'system:serviceaccount:';

/** `system:serviceaccount:<ns>:<name>` → [ns, name]. */
export function splitServiceAccountUsername(username: string): [string, string] | undefined {
  if (!username.startsWith(serviceAccountUsernamePrefix)) return undefined;
  const parts = username.slice(serviceAccountUsernamePrefix.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return [parts[0], parts[1]];
}

/** The groups of a ServiceAccount user, before system:authenticated. */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

export interface BoundObject {
  kind: 'Pod' | 'Secret' | 'Node';
  name: string;
  uid: string;
}

/** The private claims under `kubernetes.io`. */
export interface KubernetesClaims {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  secret?: { name: string; uid: string };
  node?: { name: string; uid: string };
  warnafter?: number;
}

/** Upstream's key id: the unpadded base64url SHA-256 of the public key's DER. */
export function keyID(pub: KeyObject): string {
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('base64url');
}

/** Loads every public key in a PEM file: public keys, certificates, or private keys. */
export function loadPublicKeys(pemText: string): KeyObject[] {
  const blocks = pemText.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
  return blocks.map((b) => (b.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(b)) : createPublicKey(b)));
}

export interface TokenIssuerOptions {
  /** `--service-account-issuer`: the first signs, all are accepted. */
  issuers: string[];
  /** PEM private key (`--service-account-signing-key-file`). */
  signingKeyPem: string;
  /** `--service-account-max-token-expiration`, seconds (0: unlimited). */
  maxExpirationSeconds?: number;
  now?: () => number;
}

/** Signs bound ServiceAccount tokens. */
export class ServiceAccountTokenIssuer {
  private readonly key: KeyObject;
  private readonly kid: string;

  constructor(private readonly opts: TokenIssuerOptions) {
    this.key = createPrivateKey(opts.signingKeyPem);
    this.kid = keyID(createPublicKey(this.key));
  }

  static fromFile(file: string, issuers: string[], maxExpirationSeconds?: number): ServiceAccountTokenIssuer {
    return new ServiceAccountTokenIssuer({ issuers, signingKeyPem: fs.readFileSync(file, 'utf8'), maxExpirationSeconds });
  }

  toJSON(): unknown {
    return { issuers: this.opts.issuers, kid: this.kid };
  }

  get issuer(): string {
    return this.opts.issuers[0]!;
  }

  get maxExpirationSeconds(): number {
    return this.opts.maxExpirationSeconds ?? 0;
  }

  /** Signs a token; `warnAfterSeconds` records when a holder should refresh an extended token. */
  async issue(sa: StoredObject, audiences: string[], expirationSeconds: number, bound?: BoundObject & { nodeName?: string; nodeUID?: string }, warnAfterSeconds?: number): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor((this.opts.now?.() ?? Date.now()) / 1000);
    const ns = sa.metadata.namespace!;
    const k8s: KubernetesClaims = { namespace: ns, serviceaccount: { name: sa.metadata.name!, uid: sa.metadata.uid! } };
    if (bound?.kind === 'Pod') {
      k8s.pod = { name: bound.name, uid: bound.uid };
      if (bound.nodeName) k8s.node = { name: bound.nodeName, uid: bound.nodeUID ?? '' };
    } else if (bound?.kind === 'Secret') k8s.secret = { name: bound.name, uid: bound.uid };
    else if (bound?.kind === 'Node') k8s.node = { name: bound.name, uid: bound.uid };
    if (warnAfterSeconds !== undefined) k8s.warnafter = now + warnAfterSeconds;
    const exp = now + expirationSeconds;
    const token = await new SignJWT({ 'kubernetes.io': k8s as unknown as Record<string, unknown> })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid })
      .setIssuer(this.issuer)
      .setSubject(`${serviceAccountUsernamePrefix}${ns}:${sa.metadata.name}`)
      .setAudience(audiences)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }
}

export interface TokenAuthenticatorOptions {
  issuers: string[];
  /** `--service-account-key-file` keys (public, or private whose public half is used). */
  publicKeys: KeyObject[];
  /** `--api-audiences`: a token must name one of them (default: the issuers). */
  audiences?: string[];
  state: ClusterState;
  now?: () => number;
}

/**
 * Validates ServiceAccount JWTs. Tokens from another issuer are not recognised (undefined), so
 * other token authenticators can try them.
 */
export class ServiceAccountTokenAuthenticator implements TokenAuthenticator {
  constructor(private readonly opts: TokenAuthenticatorOptions) {}

  toJSON(): unknown {
    return { serviceAccountTokens: { issuers: this.opts.issuers, audiences: this.opts.audiences, keys: this.opts.publicKeys.length } };
  }

  private async lookup(plural: string, namespace: string | undefined, name: string): Promise<StoredObject | undefined> {
    const st = this.opts.state;
    const cached = st.get('', plural, namespace, name);
    if (cached) return cached;
    // The cache may lag a fresh object: confirm with a real read before rejecting.
    const d = st.def('', plural);
    if (!d || !st.store) return undefined;
    try {
      return await st.store.get(d, namespace, name);
    } catch (e) {
      if (errors.isStatusError(e) && e.code === 404) return undefined;
      throw e;
    }
  }

  async authenticateToken(token: string, requestAudiences?: string[]): Promise<TokenResult | undefined> {
    if (token.split('.').length !== 3) return undefined;
    let iss: string | undefined;
    try {
      decodeProtectedHeader(token);
      iss = decodeJwt(token).iss;
    } catch {
      return undefined;
    }
    if (!iss || !this.opts.issuers.includes(iss)) return undefined;
    const accepted = requestAudiences?.length ? requestAudiences : (this.opts.audiences?.length ? this.opts.audiences : this.opts.issuers);
    let payload: Record<string, unknown> | undefined;
    let lastErr: unknown;
    const currentDate = this.opts.now ? new Date(this.opts.now()) : undefined;
    for (const key of this.opts.publicKeys) {
      try {
        const r = await jwtVerify(token, key, { issuer: this.opts.issuers, audience: accepted, algorithms: ['RS256', 'ES256', 'ES384', 'RS384', 'RS512', 'PS256'], currentDate });
        payload = r.payload as Record<string, unknown>;
        break;
      } catch (e) {
        lastErr = e;
      }
    }
    if (!payload) throw errors.unauthorized(lastErr instanceof Error ? 'invalid bearer token' : 'Unauthorized');
    const k8s = payload['kubernetes.io'] as KubernetesClaims | undefined;
    if (!k8s?.namespace || !k8s.serviceaccount?.name || !k8s.serviceaccount.uid) throw errors.unauthorized('invalid bearer token');
    const ns = k8s.namespace;
    const sa = await this.lookup('serviceaccounts', ns, k8s.serviceaccount.name);
    if (!sa || sa.metadata.uid !== k8s.serviceaccount.uid || sa.metadata.deletionTimestamp) throw errors.unauthorized('invalid bearer token');
    const extra: Record<string, string[]> = {};
    if (k8s.pod) {
      const pod = await this.lookup('pods', ns, k8s.pod.name);
      if (!pod || pod.metadata.uid !== k8s.pod.uid || pod.metadata.deletionTimestamp) throw errors.unauthorized('invalid bearer token');
      extra['authentication.kubernetes.io/pod-name'] = [k8s.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k8s.pod.uid];
    }
    if (k8s.secret) {
      const secret = await this.lookup('secrets', ns, k8s.secret.name);
      if (!secret || secret.metadata.uid !== k8s.secret.uid || secret.metadata.deletionTimestamp) throw errors.unauthorized('invalid bearer token');
    }
    if (k8s.node) {
      extra['authentication.kubernetes.io/node-name'] = [k8s.node.name];
      if (k8s.node.uid) extra['authentication.kubernetes.io/node-uid'] = [k8s.node.uid];
      // A token bound to the node itself dies with the node; one bound through a pod carries it for information.
      if (!k8s.pod) {
        const node = await this.lookup('nodes', undefined, k8s.node.name);
        if (!node || node.metadata.uid !== k8s.node.uid) throw errors.unauthorized('invalid bearer token');
      }
    }
    if (typeof payload.jti === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${payload.jti}`];
    const user: UserInfo = {
      username: `${serviceAccountUsernamePrefix}${ns}:${k8s.serviceaccount.name}`,
      uid: k8s.serviceaccount.uid,
      groups: [...serviceAccountGroups(ns), 'system:authenticated'],
      extra,
    };
    const aud = payload.aud;
    const tokenAudiences = Array.isArray(aud) ? (aud as string[]) : typeof aud === 'string' ? [aud] : [];
    return { user, audiences: tokenAudiences.filter((a) => accepted.includes(a)) };
  }
}
