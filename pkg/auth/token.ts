/**
 * Bearer-token authentication (upstream's bearertoken.Authenticator over a union of token
 * authenticators), and the static token file (`--token-auth-file`).
 *
 * A request that presents a bearer token no authenticator accepts is answered 401: it never falls
 * back to anonymous. Tokens are never logged.
 */
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import * as errors from '../api/errors.js';
import type { Authenticator, UserInfo } from './types.js';

/** What a valid token proves. */
export interface TokenResult {
  user: UserInfo;
  /** The audiences the token is valid for (those of the request when the token names none). */
  audiences?: string[];
}

export interface TokenAuthenticator {
  /** undefined: not a token this authenticator knows. Throws for a token it knows but rejects. */
  authenticateToken(token: string, audiences?: string[]): Promise<TokenResult | undefined>;
}

/** The bearer token of a request, if it has one. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** Tries each token authenticator in order; the first that accepts decides. */
export async function authenticateToken(authenticators: TokenAuthenticator[], token: string, audiences?: string[]): Promise<TokenResult | undefined> {
  for (const a of authenticators) {
    try {
      const r = await a.authenticateToken(token, audiences);
      if (r) return r;
    } catch {
      // A rejection by one authenticator leaves the others to try, as upstream's union does.
    }
  }
  return undefined;
}

export class BearerTokenAuthenticator implements Authenticator {
  constructor(readonly tokens: TokenAuthenticator[], private readonly apiAudiences?: string[]) {}

  async authenticate(req: IncomingMessage): Promise<UserInfo | undefined> {
    const token = bearerToken(req);
    if (token === undefined) return undefined;
    const r = await authenticateToken(this.tokens, token, this.apiAudiences);
    if (!r) throw errors.unauthorized();
    return r.user;
  }
}

/** Splits one CSV line, honouring double quotes ("a,b" is one field, "" an escaped quote). */
export function splitCSVLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `--token-auth-file`: lines of `token,user,uid[,"group1,group2"]`. */
export class TokenFileAuthenticator implements TokenAuthenticator {
  private readonly entries: { digest: Buffer; user: UserInfo }[] = [];

  constructor(content: string) {
    let n = 0;
    for (const raw of content.split(/\r?\n/)) {
      n++;
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const f = splitCSVLine(line);
      if (f.length < 3 || !f[0] || !f[1]) throw new Error(`token file line ${n}: expected token,user,uid[,groups]`);
      const groups = f[3] ? f[3].split(',').map((g) => g.trim()).filter(Boolean) : [];
      // Keep a digest only, and compare digests in constant time.
      this.entries.push({ digest: digest(f[0]), user: { username: f[1], uid: f[2] || undefined, groups: [...groups, 'system:authenticated'] } });
    }
  }

  /** Logs show how many tokens there are, never the tokens or their digests. */
  toJSON(): unknown {
    return { tokenFile: { entries: this.entries.length } };
  }

  static fromFile(path: string): TokenFileAuthenticator {
    return new TokenFileAuthenticator(fs.readFileSync(path, 'utf8'));
  }

  async authenticateToken(token: string): Promise<TokenResult | undefined> {
    const d = digest(token);
    const hit = this.entries.find((e) => timingSafeEqual(e.digest, d));
    return hit ? { user: structuredClone(hit.user) } : undefined;
  }
}
