/**
 * Encryption at rest (upstream's EncryptionConfiguration, apiserver.config.k8s.io/v1): per
 * resource, an ordered list of providers. The first provider's first key encrypts every write;
 * every listed key (and `identity`, if listed) can read. Stored values look like upstream's:
 * `k8s:enc:<provider>:v1:<key name>:<payload>`, so data moves between keelson and kube-apiserver.
 *
 * - aescbc: AES-CBC, PKCS#7 padding, payload = 16-byte IV ‖ ciphertext.
 * - aesgcm: AES-GCM, payload = 12-byte nonce ‖ ciphertext ‖ 16-byte tag; the etcd key is the
 *   additional authenticated data, so a value cannot be moved to another key.
 * - secretbox: XSalsa20-Poly1305 (tweetnacl), payload = 24-byte nonce ‖ box.
 * - identity: plaintext.
 *
 * Keys live only in #private fields and are never logged.
 */
import fs from 'node:fs';
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import nacl from 'tweetnacl';
import { parse as parseYAML } from 'yaml';
import type { ValueTransformer } from '../storage/etcd-store.js';
import type { ResourceDef } from '../registry/types.js';

interface Provider {
  /** `k8s:enc:<provider>:v1:<key>:`, or '' for identity. */
  readonly name: string;
  /** Encrypts with this provider's first key. */
  encrypt(key: string, plain: Buffer): Buffer;
  /** Decrypts if the value carries one of this provider's prefixes; undefined otherwise. */
  decrypt(key: string, stored: Buffer): Buffer | undefined;
  /** Whether a stored value was written by this provider with its current (first) key. */
  writtenWithCurrentKey(stored: Buffer): boolean;
}

const encPrefix = 'k8s:enc:';

function keyBytes(provider: string, k: { name?: string; secret?: string }, sizes: number[]): { name: string; secret: Buffer } {
  if (!k.name) throw new Error(`${provider}: every key needs a name`);
  if (!k.secret) throw new Error(`${provider}: key ${k.name} has no secret`);
  const secret = Buffer.from(k.secret, 'base64');
  if (!sizes.includes(secret.length)) throw new Error(`${provider}: key ${k.name} must be ${sizes.join(', ')} bytes, is ${secret.length}`);
  return { name: k.name, secret };
}

class KeyedProvider implements Provider {
  readonly #keys: { name: string; secret: Buffer; prefix: Buffer }[];

  constructor(
    readonly name: string,
    keys: { name?: string; secret?: string }[],
    sizes: number[],
    private readonly seal: (secret: Buffer, plain: Buffer, aad: Buffer) => Buffer,
    private readonly open: (secret: Buffer, payload: Buffer, aad: Buffer) => Buffer,
  ) {
    if (!keys?.length) throw new Error(`${name}: at least one key is required`);
    this.#keys = keys.map((k) => {
      const kb = keyBytes(name, k, sizes);
      return { ...kb, prefix: Buffer.from(`${encPrefix}${name}:v1:${kb.name}:`) };
    });
  }

  encrypt(key: string, plain: Buffer): Buffer {
    const k = this.#keys[0]!;
    return Buffer.concat([k.prefix, this.seal(k.secret, plain, Buffer.from(key))]);
  }

  decrypt(key: string, stored: Buffer): Buffer | undefined {
    for (const k of this.#keys) {
      if (stored.length >= k.prefix.length && stored.subarray(0, k.prefix.length).equals(k.prefix)) {
        return this.open(k.secret, stored.subarray(k.prefix.length), Buffer.from(key));
      }
    }
    return undefined;
  }

  writtenWithCurrentKey(stored: Buffer): boolean {
    const p = this.#keys[0]!.prefix;
    return stored.length >= p.length && stored.subarray(0, p.length).equals(p);
  }

  toJSON(): unknown {
    return { provider: this.name, keys: this.#keys.map((k) => k.name) };
  }
}

function aesCBC(keys: { name?: string; secret?: string }[]): Provider {
  return new KeyedProvider(
    'aescbc',
    keys,
    [16, 24, 32],
    (secret, plain) => {
      const iv = randomBytes(16);
      const c = createCipheriv(`aes-${secret.length * 8}-cbc`, secret, iv);
      return Buffer.concat([iv, c.update(plain), c.final()]);
    },
    (secret, payload) => {
      if (payload.length < 32 || payload.length % 16 !== 0) throw new Error('aescbc: the stored data is not a whole number of blocks');
      const d = createDecipheriv(`aes-${secret.length * 8}-cbc`, secret, payload.subarray(0, 16));
      return Buffer.concat([d.update(payload.subarray(16)), d.final()]);
    },
  );
}

function aesGCM(keys: { name?: string; secret?: string }[]): Provider {
  return new KeyedProvider(
    'aesgcm',
    keys,
    [16, 24, 32],
    (secret, plain, aad) => {
      const nonce = randomBytes(12);
      const c = createCipheriv(`aes-${secret.length * 8}-gcm` as CipherGCMTypes, secret, nonce);
      c.setAAD(aad);
      const body = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([nonce, body, c.getAuthTag()]);
    },
    (secret, payload, aad) => {
      if (payload.length < 12 + 16) throw new Error('aesgcm: the stored data is too short');
      const d = createDecipheriv(`aes-${secret.length * 8}-gcm` as CipherGCMTypes, secret, payload.subarray(0, 12));
      d.setAAD(aad);
      d.setAuthTag(payload.subarray(payload.length - 16));
      return Buffer.concat([d.update(payload.subarray(12, payload.length - 16)), d.final()]);
    },
  );
}

function secretbox(keys: { name?: string; secret?: string }[]): Provider {
  return new KeyedProvider(
    'secretbox',
    keys,
    [32],
    (secret, plain) => {
      const nonce = randomBytes(nacl.secretbox.nonceLength);
      return Buffer.concat([nonce, Buffer.from(nacl.secretbox(plain, nonce, secret))]);
    },
    (secret, payload) => {
      const n = nacl.secretbox.nonceLength;
      const opened = nacl.secretbox.open(payload.subarray(n), payload.subarray(0, n), secret);
      if (!opened) throw new Error('secretbox: the stored data could not be authenticated');
      return Buffer.from(opened);
    },
  );
}

const identity: Provider = {
  name: 'identity',
  encrypt: (_key, plain) => plain,
  decrypt: (_key, stored) => (stored.subarray(0, encPrefix.length).toString() === encPrefix ? undefined : stored),
  writtenWithCurrentKey: (stored) => stored.subarray(0, encPrefix.length).toString() !== encPrefix,
};

/** The providers of one `resources:` entry, in order. */
class ProviderChain {
  constructor(readonly providers: Provider[]) {}

  toStorage(key: string, plain: Buffer): Buffer {
    return this.providers[0]!.encrypt(key, plain);
  }

  fromStorage(key: string, stored: Buffer): Buffer {
    for (const p of this.providers) {
      const out = p.decrypt(key, stored);
      if (out) return out;
    }
    throw new Error(`no matching prefix found for the data stored at ${key}`);
  }

  /** Whether a stored value is already written the way a write would write it now. */
  isCurrent(stored: Buffer): boolean {
    return this.providers[0]!.writtenWithCurrentKey(stored);
  }
}

interface ConfigResource {
  resources: string[];
  providers: Record<string, { keys?: { name?: string; secret?: string }[] } | null>[];
}

/**
 * A ValueTransformer for EtcdStore built from an EncryptionConfiguration. Resources not named in
 * the configuration pass through unchanged.
 */
export class EncryptionTransformer implements ValueTransformer {
  /** storageResource → chain. */
  readonly #byResource = new Map<string, ProviderChain>();
  readonly #wildcards: { group: string | undefined; chain: ProviderChain }[] = [];
  /** storageResource → API group, to match `*.apps`-style entries. */
  readonly #groups = new Map<string, string>();

  constructor(config: unknown, defs: ResourceDef[]) {
    for (const d of defs) this.#groups.set(d.storageResource ?? d.plural, d.group);
    const cfg = config as { kind?: string; apiVersion?: string; resources?: ConfigResource[] };
    if (cfg?.kind !== 'EncryptionConfiguration') throw new Error(`encryption provider config: kind must be EncryptionConfiguration, got ${JSON.stringify(cfg?.kind)}`);
    if (!Array.isArray(cfg.resources) || cfg.resources.length === 0) throw new Error('encryption provider config: resources must not be empty');
    for (const entry of cfg.resources) {
      if (!entry.providers?.length) throw new Error(`encryption provider config: no providers for ${entry.resources}`);
      const chain = new ProviderChain(entry.providers.map((p) => providerOf(p)));
      for (const r of entry.resources ?? []) {
        if (r === '*.*') this.#wildcards.push({ group: undefined, chain });
        else if (r.startsWith('*.')) this.#wildcards.push({ group: r.slice(2), chain });
        else {
          const dot = r.indexOf('.');
          const res = dot < 0 ? r : r.slice(0, dot);
          // First match wins, as upstream: a later entry does not override an earlier one.
          if (!this.#byResource.has(res)) this.#byResource.set(res, chain);
        }
      }
    }
  }

  static fromFile(path: string, defs: ResourceDef[]): EncryptionTransformer {
    return new EncryptionTransformer(parseYAML(fs.readFileSync(path, 'utf8')), defs);
  }

  /** The chain for an etcd key `/registry/<resource>/…`, if the resource is configured. */
  chainFor(key: string): ProviderChain | undefined {
    const resource = key.split('/')[2] ?? '';
    const exact = this.#byResource.get(resource);
    if (exact) return exact;
    const group = this.#groups.get(resource);
    for (const w of this.#wildcards) if (w.group === undefined || w.group === group) return w.chain;
    return undefined;
  }

  toStorage(key: string, plain: Buffer): Buffer {
    const c = this.chainFor(key);
    return c ? c.toStorage(key, plain) : plain;
  }

  fromStorage(key: string, stored: Buffer): Buffer {
    const c = this.chainFor(key);
    return c ? c.fromStorage(key, stored) : stored;
  }

  /** Whether the stored value would be written differently now (a rotated key, or plaintext). */
  isStale(key: string, stored: Buffer): boolean {
    const c = this.chainFor(key);
    return c ? !c.isCurrent(stored) : false;
  }

  toJSON(): unknown {
    return { encryptedResources: [...this.#byResource.keys()], wildcards: this.#wildcards.map((w) => w.group ?? '*') };
  }
}

function providerOf(p: Record<string, { keys?: { name?: string; secret?: string }[] } | null>): Provider {
  const names = Object.keys(p);
  if (names.length !== 1) throw new Error(`encryption provider config: each provider entry names exactly one provider, got ${names.join(', ')}`);
  const name = names[0]!;
  const body = p[name] ?? {};
  switch (name) {
    case 'aescbc':
      return aesCBC(body.keys ?? []);
    case 'aesgcm':
      return aesGCM(body.keys ?? []);
    case 'secretbox':
      return secretbox(body.keys ?? []);
    case 'identity':
      return identity;
    default:
      throw new Error(`encryption provider config: unsupported provider ${JSON.stringify(name)}`);
  }
}

/** The minimal etcd client surface `rewriteStale` needs (an Etcd3). */
interface EtcdKV {
  getAll(): { prefix(p: string): { exec(): Promise<{ kvs: { key: Buffer; value: Buffer; mod_revision: string }[] }> } };
  if(key: string, column: 'Mod', cmp: '==', value: number): { then(op: unknown): { commit(): Promise<{ succeeded: boolean }> } };
  put(key: string): { value(v: Buffer): unknown };
}

/**
 * Key rotation's last step: rewrites every value under `prefix` that is not yet stored with the
 * current write key (upstream's "read and write back all secrets"). Each write compares the key's
 * mod_revision, so a concurrent update wins and keeps its own (fresh) encryption.
 */
export async function rewriteStale(etcd: EtcdKV, transformer: EncryptionTransformer, prefix: string): Promise<number> {
  const res = await etcd.getAll().prefix(prefix).exec();
  let n = 0;
  for (const kv of res.kvs) {
    const key = kv.key.toString('utf8');
    if (!transformer.isStale(key, kv.value)) continue;
    const plain = transformer.fromStorage(key, kv.value);
    const r = await etcd.if(key, 'Mod', '==', Number(kv.mod_revision)).then(etcd.put(key).value(transformer.toStorage(key, plain))).commit();
    if (r.succeeded) n++;
  }
  return n;
}
