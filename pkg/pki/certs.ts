/**
 * Keys and certificates for the cluster PKI, issued with @peculiar/x509 on WebCrypto.
 *
 * Certificates use ECDSA P-256 keys (as kubeadm's ECDSA-P256 option does): fast to generate and
 * accepted by Go's TLS stack, so stock kubectl reads them. The ServiceAccount signing key is RSA
 * (RS256), what upstream's token issuer and OIDC discovery clients expect.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, createPublicKey, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ecAlg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** A certificate authority that can sign further certificates. */
export interface CertificateAuthority extends KeyPair {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

export interface CertRequest {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  /** client: TLS client auth; server: TLS server auth; both: either. */
  usage: 'client' | 'server' | 'both';
  /** Validity in days (one year by default, as kubeadm issues leaf certificates). */
  days?: number;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function derOf(pemText: string): Buffer {
  return Buffer.from(pemText.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString('hex');
}

function dn(cn: string, orgs: string[] = []): string {
  const esc = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return [...orgs.map((o) => `O=${esc(o)}`), `CN=${esc(cn)}`].join(', ');
}

async function exportKey(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await subtle.exportKey('pkcs8', key));
}

/** Creates a self-signed CA (ten years, as kubeadm's). */
export async function createCA(commonName: string): Promise<CertificateAuthority> {
  const keys = (await subtle.generateKey(ecAlg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = new Date(Date.now() - 5 * 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: dn(commonName),
    notBefore: now,
    notAfter: new Date(now.getTime() + 3650 * 86_400_000),
    keys,
    signingAlgorithm: ecAlg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey, certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/** Loads a CA written by createCA (or any ECDSA P-256 CA). */
export async function loadCA(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const key = await subtle.importKey('pkcs8', new Uint8Array(derOf(keyPem)), ecAlg, true, ['sign']);
  return { cert, key, certPem, keyPem };
}

/** Issues a leaf certificate signed by the CA, with a fresh key. */
export async function issueCert(ca: CertificateAuthority, req: CertRequest): Promise<KeyPair> {
  const keys = (await subtle.generateKey(ecAlg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = new Date(Date.now() - 5 * 60_000);
  const eku: string[] = [];
  if (req.usage !== 'server') eku.push(x509.ExtendedKeyUsage.clientAuth);
  if (req.usage !== 'client') eku.push(x509.ExtendedKeyUsage.serverAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(eku, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
  ];
  const names: x509.JsonGeneralName[] = [
    ...(req.dnsNames ?? []).map((v) => ({ type: 'dns' as const, value: v })),
    ...(req.ipAddresses ?? []).map((v) => ({ type: 'ip' as const, value: v })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: dn(req.commonName, req.organizations),
    issuer: ca.cert.subject,
    notBefore: now,
    notAfter: new Date(now.getTime() + (req.days ?? 365) * 86_400_000),
    signingKey: ca.key,
    publicKey: keys.publicKey,
    signingAlgorithm: ecAlg,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/** An RSA-2048 key pair for signing ServiceAccount tokens (sa.key / sa.pub). */
export function createSigningKey(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The public half of a PEM private key, as SPKI PEM. */
export function publicKeyPem(privatePem: string): string {
  return createPublicKey(createPrivateKey(privatePem)).export({ type: 'spki', format: 'pem' }).toString();
}
