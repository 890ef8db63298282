/**
 * x509 client-certificate authentication (upstream's x509.Authenticator with CommonNameUserConversion):
 * a certificate signed by the client CA names the user (CN) and its groups (O).
 *
 * The TLS server must request client certificates without rejecting unknown ones
 * (`requestCert: true, rejectUnauthorized: false`) and advertise the client CA (`ca`), so that
 * clients that hold a matching certificate send it and every other client still gets through to
 * token or anonymous authentication. The chain is verified here, against this authenticator's own
 * CA bundle, so the decision does not depend on how the socket was set up.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import * as errors from '../api/errors.js';
import type { Authenticator, UserInfo } from './types.js';

const clientAuthOID = '1.3.6.1.5.5.7.3.2';
const anyEKU = '2.5.29.37.0';

/** Splits a PEM bundle into certificates. */
export function parseCertificates(pemBundle: string): X509Certificate[] {
  const blocks = pemBundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/** The user a verified client certificate names; groups get system:authenticated added. */
export function userFromSubject(subject: string): UserInfo {
  const cn: string[] = [];
  const orgs: string[] = [];
  // X509Certificate.subject is one attribute per line: "O=system:masters\nCN=kubernetes-admin".
  for (const line of subject.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1);
    if (k === 'CN') cn.push(v);
    else if (k === 'O') orgs.push(v);
  }
  return { username: cn[0] ?? '', groups: [...orgs, 'system:authenticated'] };
}

export class X509Authenticator implements Authenticator {
  private readonly roots: X509Certificate[];

  constructor(clientCAPem: string, private readonly now: () => Date = () => new Date()) {
    this.roots = parseCertificates(clientCAPem);
    if (this.roots.length === 0) throw new Error('client CA bundle holds no certificate');
  }

  async authenticate(req: IncomingMessage): Promise<UserInfo | undefined> {
    const sock = req.socket as TLSSocket;
    if (typeof sock.getPeerCertificate !== 'function') return undefined;
    const peer = sock.getPeerCertificate(true);
    if (!peer || !peer.raw) return undefined;
    const cert = new X509Certificate(peer.raw);
    return this.verify(cert);
  }

  /** Verifies a client certificate against the CA bundle; throws a 401 when it does not hold. */
  verify(cert: X509Certificate): UserInfo {
    const now = this.now().getTime();
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) {
      throw errors.unauthorized('Unauthorized');
    }
    const signed = this.roots.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (!signed) throw errors.unauthorized('Unauthorized');
    const eku = cert.keyUsage;
    if (eku && eku.length && !eku.includes(clientAuthOID) && !eku.includes(anyEKU)) throw errors.unauthorized('Unauthorized');
    const user = userFromSubject(cert.subject);
    if (!user.username) throw errors.unauthorized('Unauthorized');
    return user;
  }
}
